"""A missed labelled item whose signal one condition alone kept says which, as `rules explain` does (outside trial
61, L1: 30 port-strike reports missed for want of a context word read "no signal: the rules made none of this item"):
the document's context words, the sentence's mentions, or `near`. Text, JSON and HTML show it. Items and pack
written for this test."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()

PACK = """\
version: 2
name: harbour-strikes
language: en
entities:
  PORTVILLE: {name: Portville, kind: place, aliases: [Portville]}
signals:
  harbour_strike:
    match:
      all:
        - any: [strike, strikes, struck]
        - any: [harbour]
    near: 6
    mentions: {any: [PORTVILLE]}
    context:
      words: {any: [wheat]}
detections:
  - id: harbour-hit
    title: "Harbour struck"
    severity: high
    labels: [HARBOUR_STRIKE]
    pattern: {any: harbour_strike}
    realert: 1h
"""

ITEMS = [
    # caught: the words, the place and the context word
    ("h1", "Drones strike the Portville harbour", "Wheat stores burned through the night."),
    # context words alone fail
    ("h2", "Missiles strike the Portville harbour", "Cranes were damaged, the port authority said."),
    # the place alone fails: the sentence names no Portville
    ("h3", "Missiles strike the harbour again", "Wheat exports from Portville are halted."),
    # near alone fails: its words span more than 6
    ("h4", "A strike, said the mayor of Portville on the radio late on Sunday, hit the harbour", "Wheat burned."),
    # two conditions fail (no strike word, no wheat): no single one to name
    ("h5", "Portville harbour closed for repairs", "Traffic resumes next week."),
]


def _write(tmp_path: Path) -> tuple[Path, Path, Path]:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": i,
                    "published_at": f"2024-03-0{n + 1}T10:00:00+00:00",
                    "source": "Coast Courier",
                    "title": title,
                    "body": body,
                }
            )
            + "\n"
            for n, (i, title, body) in enumerate(ITEMS)
        ),
        encoding="utf-8",
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\n" + "".join(f"{i},HARBOUR_STRIKE\n" for i, _t, _b in ITEMS), encoding="utf-8")
    return pack, events, labels


def test_a_missed_item_names_the_one_condition_that_kept_its_signal(tmp_path: Path) -> None:
    pack, events, labels = _write(tmp_path)
    out, html = tmp_path / "out.json", tmp_path / "out.html"
    res = runner.invoke(
        app,
        [
            "backtest",
            str(events),
            "--rules",
            str(pack),
            "--labels",
            str(labels),
            "--json",
            str(out),
            "--html",
            str(html),
        ],
    )
    assert res.exit_code == 0, res.output
    why = {e["id"]: e.get("why", "") for e in json.loads(out.read_text())["scores"]["events"]}
    assert why["h1"] == ""  # caught
    assert why["h2"] == (
        "no signal: the rules made none of this item; harbour_strike missed it on one condition alone — context "
        "words: none of 'wheat' in the document (`watchfloor rules explain --id harbour-hit FILE`)"
    )
    assert "harbour_strike missed it on one condition alone — mentions: the sentence must name" in why["h3"], why
    assert "harbour_strike missed it on one condition alone — near: its words span" in why["h4"], why
    assert (
        why["h5"] == "no signal: the rules made none of this item (`watchfloor rules explain --id RULE FILE` says why)"
    )
    # the terminal's missed list and the HTML report say it too
    text = " ".join(res.output.split())
    assert "harbour_strike missed it on one condition alone — context words: none of 'wheat' in the document" in text
    page = html.read_text(encoding="utf-8")
    assert escape("one condition alone — context words: none of 'wheat' in the document", quote=True) in page
