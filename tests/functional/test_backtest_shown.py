"""What `watchfloor backtest` shows a user of the scoring's findings (our own words): a changed alert says from
what to what on the terminal, an item labelled by URL is named by its URL."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring"
EVENTS, MAP = DATA / "events.jsonl", DATA / "label_map.yaml"
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)], env={"COLUMNS": "400"})
    return res.exit_code, res.output


def keydays() -> Path:
    d = Path(os.environ.get("WATCHFLOOR_DATA", "../shared/data")) / "dprk_russia_2024"
    if not (d / "keydays.jsonl").exists():
        pytest.skip("the key-day captures are not here (WATCHFLOOR_DATA)")
    return d


@pytest.mark.data
def test_keydays_without_the_english_kursk_aliases_the_terminal_says_what_changed(tmp_path: Path) -> None:
    # Outside audit: the two changed alerts were printed with "()" after them.
    d = keydays()
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    old = "aliases: [Kursk, Kursk region, Kursk oblast, Курск, Курская область, курское приграничье]"
    assert text.count(old) == 1
    pack = tmp_path / "no_kursk.yaml"
    pack.write_text(text.replace(old, "aliases: [Курск, Курская область, курское приграничье]"), encoding="utf-8")
    code, output = run(d / "keydays.jsonl", "--rules", pack, "--baseline-rules", "builtin:dprk_russia")
    assert code == 0, output
    changed = [line.strip() for line in output.splitlines() if line.strip().startswith("~ ")]
    assert len(changed) == 2, output
    for line in changed:
        assert not line.endswith("()"), line
        assert "(Kursk)' -> '" in line and line.endswith("; attributes.place Kursk -> none)"), line


def test_a_missed_item_labelled_by_url_is_listed_by_its_url(tmp_path: Path) -> None:
    # Outside audit: listed as "missed doc-…", the id derived from the URL, which the labels file never wrote.
    events = tmp_path / "events.jsonl"
    lines = [json.loads(x) for x in EVENTS.read_text(encoding="utf-8").splitlines() if x.strip()]
    events.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "id"}) + "\n" for e in lines))
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nhttps://gazette.example/10,COMBAT_REPORT_KURSK\n", encoding="utf-8")
    html = tmp_path / "report.html"
    code, output = run(events, "--labels", labels, "--label-map", MAP, "--html", html)
    assert code == 0, output
    missed = [line.strip() for line in output.splitlines() if line.strip().startswith("missed ")]
    assert len(missed) == 1, output
    assert missed[0].startswith("missed https://gazette.example/10 (COMBAT_REPORT_KURSK) for troop-engagement — ")
    page = html.read_text(encoding="utf-8")
    assert (
        '<a href="https://gazette.example/10" rel="noopener noreferrer">https://gazette.example/10</a> (<code>doc-'
        in (page)
    )


def test_a_lost_true_positive_labelled_by_url_is_named_by_its_url(tmp_path: Path) -> None:
    # The gate's "lost true positive" line named the derived doc-… id too.
    events = tmp_path / "events.jsonl"
    lines = [json.loads(x) for x in EVENTS.read_text(encoding="utf-8").splitlines() if x.strip()]
    events.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "id"}) + "\n" for e in lines))
    (sc04,) = [e["url"] for e in lines if e["id"] == "sc-04"]
    labels = tmp_path / "labels.csv"
    labels.write_text(f"id,label\n{sc04},TROOP_DEPLOYMENT_REPORT\n", encoding="utf-8")
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: troops-deployed")
    without = tmp_path / "without.yaml"
    without.write_text(text[:start] + text[text.index("  - id: ", start + 1) :], encoding="utf-8")
    code, output = run(
        events, "--labels", labels, "--label-map", MAP, "--rules", without,
        "--baseline-rules", "builtin:dprk_russia", "--fail-on-removed-true-positive",
    )  # fmt: skip
    assert code == 1, output
    assert f"lost true positive: {sc04} (troops-deployed)" in " ".join(output.split()), output


def test_the_json_stats_say_how_many_alerts_full_evidence_was_not_found_for(tmp_path: Path) -> None:
    # Review finding 3: FullEvidence.unresolved was filled but never read.
    out = tmp_path / "result.json"
    code, output = run(EVENTS, "--json", out)
    assert code == 0, output
    assert json.loads(out.read_text(encoding="utf-8"))["stats"]["evidence_unresolved"] == 0


def test_the_terminal_says_how_many_alerts_full_evidence_was_not_found_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The count was in the JSON stats only. A count of 12 distinct documents over 14 reports shows ten of them;
    # with the search's pool kept to 4 reports per group, the twelve are not found and the alert is unresolved.
    from tests.scoring_packs import flood_pack
    from watchfloor.scoring import evidence

    pack = tmp_path / "flood.yaml"
    pack.write_text(flood_pack(), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": f"lv-{i:02d}",
                    "published_at": f"2025-07-{1 + i // 4:02d}T{6 * (i % 4):02d}:00:00+00:00",
                    "source": f"Desk {i}",
                    "title": f"A levee breach flooded farmland near mile {i}",
                    "body": "Crews worked through the night.",
                }
            )
            + "\n"
            for i in range(14)
        ),
        encoding="utf-8",
    )
    said = "alerts rest on more reports than they show, and the others were not found"
    out = tmp_path / "result.json"
    code, output = run(events, "--rules", pack, "--json", out)
    assert code == 0, output
    assert json.loads(out.read_text(encoding="utf-8"))["stats"]["evidence_unresolved"] == 0
    assert "1 alert" in output and said not in output, output  # nothing said when all were found

    monkeypatch.setattr(evidence, "MAX_KEPT", 4)
    code, output = run(events, "--rules", pack, "--json", out)
    assert code == 0, output
    assert json.loads(out.read_text(encoding="utf-8"))["stats"]["evidence_unresolved"] == 1
    assert f"1 {said}" in " ".join(output.split()), output
