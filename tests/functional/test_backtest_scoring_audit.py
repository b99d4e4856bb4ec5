"""Outside audit of `watchfloor backtest` scoring, end to end on the fixture in tests/data/scoring (our own
words): wrong expectations files are refused with FILE:LINE:COL, not passed or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.scoring_packs import flood_pack
from watchfloor.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring"
EVENTS, LABELS, MAP, TIMELINE = (DATA / n for n in ("events.jsonl", "labels.csv", "label_map.yaml", "timeline.csv"))
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, ["backtest", *map(str, args)])
    return res.exit_code, res.output + (repr(res.exception) if res.exception and res.exit_code not in (0, 1, 2) else "")


@pytest.mark.parametrize(
    "text,message",
    [
        ("must_fire:\n  - {rul: ratification-exchange}\n", ":2:6: unknown key 'rul'"),
        ("must_fire:\n  - treaty-signed\n", ":2:5: must_fire entry 'treaty-signed': write a mapping"),
        ("must_fire: {rule: treaty-signed}\n", ":1:12: must_fire is a list of entries"),
        ('must_fire:\n  - {rule: treaty-ratified, "group": "RUS"}\n', ":2:38: group must be a mapping"),
        ("must_fire:\n  - {rule: treaty-signed\n", ":3:1: YAML syntax"),
    ],
)
def test_a_wrong_expectations_file_is_refused_with_its_place(tmp_path: Path, text: str, message: str) -> None:
    exp = tmp_path / "expect.yaml"
    exp.write_text(text, encoding="utf-8")
    code, output = run(EVENTS, "--expect", exp)
    assert code != 0 and "expectations met" not in output, output
    assert message in " ".join(output.split()), output
    assert "Traceback" not in output and "AttributeError" not in output


KEYDAYS = Path(__file__).resolve().parents[2] / "examples" / "keydays"


def keydays() -> Path:
    import os

    d = Path(os.environ.get("WATCHFLOOR_DATA", "../shared/data")) / "dprk_russia_2024"
    if not (d / "keydays.jsonl").exists():
        pytest.skip("the key-day captures are not here (WATCHFLOOR_DATA)")
    return d


@pytest.mark.data
def test_keydays_timeline_one_alert_per_event_and_places_in_attributes(tmp_path: Path) -> None:
    import json

    d = keydays()
    tl = tmp_path / "timeline.csv"
    tl.write_text(
        (KEYDAYS / "timeline.csv").read_text(encoding="utf-8")
        + "troops in Kursk,2024-10-28T00:00:00+00:00,troops-deployed,place=KURSK\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    code, output = run(d / "keydays.jsonl", "--timeline", tl, "--timeline-window", "14d", "--json", out)
    assert code == 0, output
    got = {t["event"]: t for t in json.loads(out.read_text())["scores"]["timeline"]}
    duma, council = got["State Duma ratifies"], got["Federation Council ratifies"]
    assert duma["status"] == council["status"] == "found"
    assert duma["alert"] != council["alert"] and council["fired_at"].startswith("2024-11-06")
    # the place is an attribute of an ungrouped rule's alert (its display name, 'Kursk'), not its group
    assert got["troops in Kursk"]["status"] == "found"
    assert got["troops in Kursk"]["fired_at"].startswith("2024-10-28")
    tl.write_text("event,time,rule,group\nx,2024-10-28T00:00:00+00:00,troops-deployed,plce=KURSK\n", encoding="utf-8")
    code, output = run(d / "keydays.jsonl", "--timeline", tl)
    flat = "".join(output.split())
    assert code != 0 and f"{tl.name}:2:column'group':troops-deployed'salertscarryno'plce'" in flat, output


@pytest.mark.data
def test_keydays_removing_the_kursk_aliases_changes_two_alerts(tmp_path: Path) -> None:
    import json
    from importlib import resources

    d = keydays()
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    old = "aliases: [Kursk, Kursk region, Kursk oblast, Курск, Курская область, курское приграничье]"
    assert text.count(old) == 1
    pack = tmp_path / "no_kursk.yaml"
    pack.write_text(text.replace(old, "aliases: [Kursk-on-no-map]"), encoding="utf-8")
    out = tmp_path / "out.json"
    code, output = run(d / "keydays.jsonl", "--rules", pack, "--baseline-rules", "builtin:dprk_russia", "--json", out)
    assert code == 0, output
    diff = json.loads(out.read_text())["diff"]
    assert (len(diff["changed"]), diff["unchanged"]) == (2, 5)
    for c in diff["changed"]:
        assert c["changes"] == ["title", "attributes"]
        assert c["before"]["title"].endswith(" (Kursk)") and not c["after"]["title"].endswith(")")
        assert "attributes.place Kursk -> none" in c["details"]


def test_a_missed_item_labelled_by_url_keeps_the_url_the_labels_file_wrote(tmp_path: Path) -> None:
    import json

    # The events without their ids: each is known by a derived doc-… id; the labels name them by URL.
    events = tmp_path / "events.jsonl"
    lines = [json.loads(x) for x in EVENTS.read_text(encoding="utf-8").splitlines() if x.strip()]
    events.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "id"}) + "\n" for e in lines))
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "id,label\nhttps://gazette.example/10,COMBAT_REPORT_KURSK\nhttps://gazette.example/1,TREATY_SIGNED\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    code, output = run(events, "--labels", labels, "--label-map", MAP, "--json", out)
    assert code == 0, output
    got = {e["label_key"]: e for e in json.loads(out.read_text())["scores"]["events"]}
    assert set(got) == {"https://gazette.example/10", "https://gazette.example/1"}
    missed = got["https://gazette.example/10"]
    assert missed["status"] == "fn" and missed["id"].startswith("doc-")
    assert got["https://gazette.example/1"]["status"] == "tp"


def test_a_labels_file_with_an_unclosed_quote_names_the_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text('id,label\nsc-01,"TREATY_SIGNED\nsc-03,TREATY_RATIFICATION_DUMA\n', encoding="utf-8")
    code, output = run(EVENTS, "--labels", labels, "--label-map", MAP)
    flat = " ".join(output.split())
    assert code != 0 and "labels.csv:2: a quoted cell (column 'label') runs on to line 3" in flat, output
    assert "not among the events" not in flat


FLOOD_PACK = flood_pack()


def test_labels_on_reports_an_alert_does_not_show_are_caught_and_late_ones_are_realert(tmp_path: Path) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    pack = tmp_path / "pack.yaml"
    pack.write_text(FLOOD_PACK, encoding="utf-8")
    t0 = datetime(2025, 7, 1, 6, tzinfo=UTC)
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": f"lv-{i:02d}",
                    "published_at": (t0 + timedelta(hours=6 * i)).isoformat(),
                    "source": f"Desk {i}",
                    "title": f"A levee breach flooded farmland near mile {i}",
                }
            )
            + "\n"
            for i in range(14)
        ),
        encoding="utf-8",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nlv-01,BREACH\nlv-02,BREACH\n", encoding="utf-8")
    label_map = tmp_path / "map.yaml"
    label_map.write_text("BREACH: breaches-widespread\n", encoding="utf-8")
    out = tmp_path / "out.json"
    code, output = run(events, "--rules", pack, "--labels", labels, "--label-map", label_map, "--json", out)
    assert code == 0, output
    data = json.loads(out.read_text())
    (alert,) = data["alerts"]
    assert {"lv-01", "lv-02"}.isdisjoint(e["event_id"] for e in alert["evidence"])  # it shows ten of twelve
    c = data["scores"]["per_rule"]["breaches-widespread"]
    assert (c["tp"], c["fp"], c["fn"]) == (2, 0, 0)
    misses = {m["document_id"]: m["reasons"] for m in data["near_misses"]}
    assert set(misses) == {"lv-12", "lv-13"}
    assert all([r["kind"] for r in rs] == ["realert"] for rs in misses.values())
