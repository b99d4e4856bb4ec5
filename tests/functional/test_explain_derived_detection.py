"""`rules explain --id` of a detection over detections explains it through its inputs (outside trial 21, #11: it
said "no signal can match it" on documents whose signals fired its input, and "signals made: none" beside "fired
4"): the documents that can feed its inputs, their signals, which input fired (or why not), then its own verdict
(a severity condition on an input, its window), with a summary that counts the inputs' signals as theirs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from watchfloor.cli import app

PACK = """version: 2
name: frontier
settings: {lateness: 2d}
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
  B: {name: Betastan, kind: country, aliases: [Betastan]}
signals:
  closed:
    match: {all: [closed, border]}
    capture: {country: {entities: [A, B]}}
  massed:
    match: {all: [massed, troops]}
    capture: {country: {entities: [A, B]}}
detections:
  - id: border-closed
    title: "{country} closed its border"
    severity: medium
    pattern: {any: closed}
    group_by: [country]
    realert: 3d
    corroborate: {distinct: source, at_least: 2, within: 24h, severity: high}
  - id: troops-massed
    title: "{country} massed troops"
    severity: medium
    pattern: {any: massed}
    group_by: [country]
  - id: standoff
    title: "Standoff: {country} closed its border and massed troops"
    severity: critical
    pattern:
      all_of:
        - {detection: border-closed, severity: high}
        - {detection: troops-massed}
    group_by: [country]
    within: 7d
"""

# d1: border-closed fires medium (one source): standoff needs it high. d2: a second source confirms it, high: taken,
# standoff waits for troops. d3: nothing. d4: troops-massed fires: standoff fires. d5: border-closed held back by
# its realert: standoff has no input alert to take.
DOCS = [
    ("d1-closed", "2025-03-01T08:00:00+00:00", "Wire A", "Alphaland closed its border overnight"),
    ("d2-closed-again", "2025-03-01T10:00:00+00:00", "Wire B", "Alphaland closed the border, officials said"),
    ("d3-weather", "2025-03-01T12:00:00+00:00", "Wire C", "The weather is fine in Betastan today"),
    ("d4-massed", "2025-03-02T09:00:00+00:00", "Wire C", "Alphaland massed troops near the frontier"),
    ("d5-closed-repeat", "2025-03-02T11:00:00+00:00", "Wire D", "Alphaland closed the border on Saturday"),
]
FED = ("d1-closed", "d2-closed-again", "d4-massed", "d5-closed-repeat")  # documents whose signals fed an input


def _explain(tmp_path: Path, *extra: str) -> str:
    pack = tmp_path / "frontier.yaml"
    pack.write_text(PACK, encoding="utf-8")
    docs = tmp_path / "docs.jsonl"
    rows = [
        {"type": "news.article", "id": i, "published_at": at, "source": source, "title": title}
        for i, at, source, title in DOCS
    ]
    docs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = CliRunner().invoke(
        app, ["rules", "explain", "--rules", str(pack), str(docs), "--id", "standoff", *extra], env={"COLUMNS": "400"}
    )
    assert res.exit_code == 0, res.output
    return res.output


def _blocks(output: str) -> dict[str, str]:
    """Each document's part of the terminal view by its id, its lines joined (a wrapped line reads the same)."""
    out = {}
    for block in output.split("\n\n"):
        words = block.split()
        if words and words[0].startswith("d") and "-" in words[0]:
            out[words[0]] = " ".join(words)
    return out


def test_the_terminal_view_names_the_inputs_firings_then_the_derived_verdict(tmp_path: Path) -> None:
    output = _explain(tmp_path)
    blocks = _blocks(output)
    assert set(FED) <= set(blocks)
    for doc_id in FED:
        assert "no signal can match it" not in blocks[doc_id], doc_id

    d1 = blocks["d1-closed"]
    assert "✓ closed on" in d1 and "▶ border-closed fired: Alphaland closed its border (medium, unconfirmed)" in d1
    assert (
        "· standoff not fired (input): takes alerts of border-closed: this one (medium, unconfirmed) for country=A "
        "at 2025-03-01T08:00+00:00 is not taken: standoff needs alert:border-closed, high or more"
    ) in d1
    d2 = blocks["d2-closed-again"]
    assert "▶ border-closed fired: Alphaland closed its border (high, confirmed)" in d2
    assert "· standoff not fired (all_of):" in d2 and "is taken; waiting for alert:troops-massed within 1w" in d2
    d4 = blocks["d4-massed"]
    assert "▶ troops-massed fired" in d4
    assert (
        "▶ standoff fired: Standoff: Alphaland closed its border and massed troops (critical) — from alerts of "
        "border-closed (at 2025-03-01T10:00+00:00), troops-massed (at 2025-03-02T09:00+00:00) within 1w"
    ) in d4
    assert d4.index("▶ troops-massed fired") < d4.index("▶ standoff fired")  # the input first, then its verdict
    d5 = blocks["d5-closed-repeat"]
    assert "· border-closed not fired (realert)" in d5
    assert "· standoff not fired (input): no alert of border-closed, troops-massed on this document to take" in d5

    summary = " ".join(output[output.index("documents read") :].split())
    assert "signals made (of standoff's inputs border-closed, troops-massed): closed 3, massed 1" in summary
    assert "standoff: fired 1; held back 3 (input 2, all_of 1)" in summary
    assert "border-closed: fired 2; held back 1 (realert 1)" in summary and "troops-massed: fired 1" in summary
    assert "signals made: none" not in summary


def test_json_carries_the_same(tmp_path: Path) -> None:
    payload = json.loads(_explain(tmp_path, "--json"))
    docs: dict[str, dict[str, Any]] = {d["document_id"]: d for d in payload["documents"]}
    for doc_id in FED:
        assert docs[doc_id]["may_match"] is True and docs[doc_id]["signals"], doc_id

    def checks(doc_id: str) -> list[tuple[str, bool, str]]:
        return [(c["detection"], c["fired"], c["kind"]) for c in docs[doc_id]["detections"]]

    assert checks("d1-closed") == [("border-closed", True, "fired"), ("standoff", False, "input")]
    assert checks("d2-closed-again") == [("border-closed", True, "fired"), ("standoff", False, "all_of")]
    assert checks("d4-massed") == [("troops-massed", True, "fired"), ("standoff", True, "fired")]
    assert checks("d5-closed-repeat") == [("border-closed", False, "realert"), ("standoff", False, "input")]
    [verdict] = [c for c in docs["d1-closed"]["detections"] if c["detection"] == "standoff"]
    assert verdict["signal"] == "alert:border-closed" and "needs alert:border-closed, high or more" in verdict["reason"]

    summary = payload["summary"]
    assert summary["signals"] == {"closed": 3, "massed": 1}
    assert summary["inputs"] == {"standoff": ["border-closed", "troops-massed"]}
    assert summary["fired"] == {"border-closed": 2, "standoff": 1, "troops-massed": 1}
    assert summary["held_back"] == {"border-closed": {"realert": 1}, "standoff": {"all_of": 1, "input": 2}}


def test_a_sequence_over_an_alert_then_a_signal_sees_the_alert_it_took(tmp_path: Path) -> None:
    # A derived detection with a signal of its own: when that signal comes, the input alert taken before it counts as
    # the first step (it read "alert:border-closed must come first" though the alert had come a day earlier).
    pack = PACK + (
        "  - id: closure-then-troops\n"
        '    title: "{country} closed its border, then massed troops"\n'
        "    pattern: {sequence: [{detection: border-closed}, massed]}\n"
        "    group_by: [country]\n"
        "    within: 7d\n"
        "    realert: 1d\n"
    )
    path = tmp_path / "seq.yaml"
    path.write_text(pack, encoding="utf-8")
    docs = tmp_path / "seq.jsonl"
    rows = [
        {"type": "news.article", "id": i, "published_at": at, "source": source, "title": title}
        for i, at, source, title in [
            *DOCS,
            ("d6-massed-again", "2025-03-02T12:00:00+00:00", "Wire E", "Alphaland massed troops at the border"),
        ]
    ]
    docs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = CliRunner().invoke(
        app, ["rules", "explain", "--rules", str(path), str(docs), "--id", "closure-then-troops", "--json"]
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    by_doc = {d["document_id"]: d["detections"] for d in payload["documents"]}
    [fired] = [c for c in by_doc["d4-massed"] if c["detection"] == "closure-then-troops"]
    assert fired["fired"]
    [again] = [c for c in by_doc["d6-massed-again"] if c["detection"] == "closure-then-troops"]
    assert again["kind"] == "realert" and "must come first" not in again["reason"]
    assert "though it had alert:border-closed then massed within 1w" in again["reason"]
