"""A GDELT event's actor written "Name (Country):" (an adjective or a role, then the CAMEO country the producer adds)
is the party the example pack captures (outside trial 59, HIGH-1: "Russian (Russia): Cooperate militarily with North
Korea" captured nothing, so the alert grouped by party was lost; only an actor named by an alias was taken).
Titles written as the GDELT producer writes them, not taken from the samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

PACK = Path(__file__).resolve().parents[2] / "examples" / "gdelt" / "dprk_russia_gdelt.yaml"


@pytest.mark.parametrize(
    "title",
    [
        "Russia: Cooperate militarily with North Korea (example.com)",
        "Russian (Russia): Cooperate militarily with North Korea (example.com)",
        "Police (Russia): Cooperate militarily with North Korea (example.com)",
    ],
)
def test_the_actor_in_parentheses_is_the_party(title: str) -> None:
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(PACK), "--title", title, "--text", title])
    assert res.exit_code == 0, res.output
    assert "capture party = RUS (Russia)" in res.output, res.output
    assert "fired: DPRK–Russia military cooperation, Russia acting (GDELT)" in res.output, res.output
