"""`watchfloor backtest` with the bundled pack over headlines that say Russia ratified, two of them as headline
passives ("X pact ratified by Russian senators", trial 8, H1): Russia ratified and North Korea did not, so no
"ratified by both"; and a report whose passive's agent no entity names is a near miss that says which mentions
its capture did not take and why (L1), not that the sentence names no party. Headlines written for this test."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

HEADLINES = [
    (
        "p-1",
        "2024-10-24T09:00:00+00:00",
        "Wire A",
        "Russian deputies ratify the partnership treaty with North Korea",
        "",
    ),
    ("p-2", "2024-10-24T13:00:00+00:00", "Wire B", "Duma votes to ratify the defence pact with Pyongyang", ""),
    ("p-3", "2024-11-06T09:00:00+00:00", "Wire C", "Pyongyang defence pact ratified by Russian senators", ""),
    (
        "p-4",
        "2024-11-06T12:00:00+00:00",
        "Wire D",
        "North Korean partnership treaty ratified by Russia's upper chamber",
        "",
    ),
    (
        "p-5",
        "2024-11-07T12:00:00+00:00",
        "Wire E",
        "Treaty news",
        "The North Korea defence pact was ratified by senators on Friday, Russian media reported.",
    ),
]


def test_headline_passives_do_not_make_north_korea_a_ratifier(tmp_path: Path) -> None:
    events = tmp_path / "headlines.jsonl"
    events.write_text(
        "".join(
            json.dumps({"type": "news.article", "id": i, "published_at": t, "source": s, "title": title, "body": body})
            + "\n"
            for i, t, s, title, body in HEADLINES
        )
    )
    out = tmp_path / "bt.json"
    res = CliRunner().invoke(
        app, ["backtest", str(events), "--rules", "builtin:dprk_russia", "--json", str(out)], env={"COLUMNS": "400"}
    )
    assert res.exit_code == 0, res.output
    got = json.loads(out.read_text())
    assert [(a["rule"], a["group"]) for a in got["alerts"]] == [("treaty-ratified", {"party": "RUS"})] * 2
    assert "Both North Korea and Russia" not in res.output  # the "ratified by both" alert's title
    (miss,) = [m for m in got["near_misses"] if m["document_id"] == "p-5"]
    assert miss["captures"] == {}
    why = (
        "the sentence names PRK (North Korea), RUS (Russia), not taken as its party: the agent of a passive "
        "('by' after 'ratified') names no entity"
    )
    assert {r["detection"]: r["detail"] for r in miss["reasons"]} == {
        "treaty-ratified": f"treaty-ratified groups by party; {why}",
        "treaty-ratified-by-both": f"treaty-ratified-by-both needs party=PRK or party=RUS; {why}",
    }
    assert "names no party" not in res.output
