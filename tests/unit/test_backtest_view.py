"""`watchfloor backtest` on a terminal: the tables say what the JSON and the HTML report say, and a narrow
terminal (80 columns, a pipe) cuts neither a rule id nor a time."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from watchfloor.cli import _backtest_view as view
from watchfloor.report import render_backtest_html
from watchfloor.scoring import Counts, Outcome, Scores

T0 = datetime(2024, 6, 19, tzinfo=UTC)


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the view prints, on an 80-column terminal without colour."""
    text = io.StringIO()
    monkeypatch.setattr(view, "out", Console(file=text, width=80, soft_wrap=False, color_system=None))
    return text


def _scores(lead_hours: list[float]) -> Scores:
    counts = Counts(tp=len(lead_hours), alerts=len(lead_hours), positives=len(lead_hours))
    counts.lead_times = [h * 3600 for h in lead_hours]
    outcomes = [
        Outcome(f"doc-{i}", "pact-signed", ("SIGNED",), "tp", T0, "label", f"a{i}", T0 + timedelta(hours=h))
        for i, h in enumerate(lead_hours)
    ]
    return Scores({"pact-signed": counts}, counts, outcomes, [], {}, labels_source="labels.csv")


def test_median_lead_is_the_same_on_the_terminal_in_the_json_and_in_the_report(screen: io.StringIO) -> None:
    # Outside audit: leads of 0 and 8 hours showed "+8h" on the terminal (the upper middle value), 14400 s
    # in the JSON and "4h after" in the report.
    scores = _scores([0, 8])
    view.print_scores(scores)
    row = next(line for line in screen.getvalue().splitlines() if line.lstrip().startswith("pact-signed"))
    assert row.split()[-1] == "+4h"
    as_json = scores.to_json()
    assert as_json["per_rule"]["pact-signed"]["lead_time_s"]["median"] == 4 * 3600
    page = render_backtest_html({"alerts": [], "stats": {}, "scores": json.loads(json.dumps(as_json))})
    assert "4h after" in page and "8h after" not in page
