"""Near misses on a small timeline: every signal that no alert cites comes out once, with the reason that kept
it from an alert — modality and cue, a required capture, a missing group, lateness, realert, corroboration,
a count short of its number, a part missing from a window, an answered absence, a signal nothing uses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.unit.engine_helpers import T0, doc
from watchfloor.schemas.events import Document
from watchfloor.scoring.near_misses import REASON_KINDS, NearMissCollector
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules

PACK = """\
version: 1
name: near-misses
settings: {lateness: 1h}
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: [Alphaland]}
  BETA: {name: Betastan, kind: country, aliases: [Betastan]}
signals:
  closure:
    match: {all: [closed, border]}
    capture:
      country: {entities: [ALPHA, BETA]}
  blockade:
    match: {any: [blockade]}
    capture:
      country: {entities: [ALPHA, BETA]}
  protest:
    match: {any: [protest, protests]}
  sanction:
    match: {any: [sanctions]}
  talks:
    match: {any: [talks]}
  ceasefire:
    match: {any: [ceasefire]}
  withdrawal:
    match: {any: [withdrawal]}
  shutdown:
    match: {all: [shut, airport]}
  reopening:
    match: {all: [reopened, airport]}
  strike:
    match: {any: [strike]}
  embargo:
    match: {any: [embargo]}
detections:
  - id: closure
    title: closure
    pattern: {any: closure}
    group_by: [country]
    realert: 6h
  - id: alpha-blockade
    title: blockade by Alphaland
    pattern: {any: {signal: blockade, where: {country: ALPHA}}}
  - id: protests
    title: protests spread
    pattern: {count: {signal: protest, at_least: 3, distinct: source}}
    within: 12h
  - id: sanctions-then-talks
    title: talks after sanctions
    pattern: {sequence: [sanction, talks]}
    within: 1d
  - id: truce
    title: ceasefire and withdrawal
    pattern: {all_of: [ceasefire, withdrawal]}
    within: 1d
  - id: airport-still-shut
    title: airport still shut
    pattern: {absence: {first: shutdown, then_not: reopening}}
    within: 1d
  - id: strike
    title: strike
    pattern: {any: strike}
    realert: 6h
    corroborate: {distinct: source, at_least: 2, within: 6h, severity: high}
"""


def run(tmp_path: Path, docs: list[Document]) -> dict[str, list[tuple[str, str | None, str]]]:
    p = tmp_path / "pack.yaml"
    p.write_text(PACK, encoding="utf-8")
    _loaded, rules = load_rules([str(p)])
    engine = Engine(rules)
    collector = NearMissCollector(rules)
    state = engine.initial_state()
    for d in docs:
        state, outputs = engine.process_document(state, d)
        collector.on_outputs(outputs)
    state, outputs = engine.advance(state, T0 + timedelta(days=30))
    collector.on_outputs(outputs)
    got: dict[str, list[tuple[str, str | None, str]]] = {}
    for m in collector.near_misses():
        key = f"{m.signal.document_id}:{m.signal.name}"
        got[key] = [(r.kind, r.detection, r.detail) for r in m.reasons]
    return got


def test_every_reason(tmp_path: Path) -> None:
    docs = [
        doc("Alphaland closed the border with Betastan.", at=0, doc_id="closed"),
        doc("Alphaland closed the border again, a second outlet says.", at=1, source="Wire B", doc_id="again"),
        doc("Betastan could have closed the border.", at=2, doc_id="hedged"),
        doc("Officials said they closed the border.", at=3, doc_id="nobody"),
        doc("Betastan announced a blockade.", at=4, doc_id="beta-blockade"),
        doc("Protests in the capital.", at=5, doc_id="protest"),
        doc("Talks are planned.", at=6, doc_id="talks"),
        doc("A ceasefire was agreed.", at=7, doc_id="ceasefire"),
        doc("Officials shut the airport.", at=8, doc_id="shut"),
        doc("Officials reopened the airport.", at=10, doc_id="reopened"),
        doc("Dock workers went on strike.", at=11, doc_id="strike-1"),
        doc("The strike continues, the same wire reports.", at=12, doc_id="strike-2"),
        doc("An embargo was announced.", at=13, doc_id="embargo"),
        # 4 h behind the newest: late. Still correlated (against what is held); it raises nothing (one protest
        # is not a count), and the reason given is its lateness.
        doc("Protests in the capital again.", at=9, doc_id="late"),
    ]
    got = run(tmp_path, docs)
    kinds = {k: [(r[0], r[1]) for r in v] for k, v in got.items()}
    assert kinds == {
        "again:closure": [("realert", "closure")],
        "hedged:closure": [("modality", "closure")],
        "nobody:closure": [("group", "closure")],
        "beta-blockade:blockade": [("capture", "alpha-blockade")],
        "protest:protest": [("count", "protests")],
        "talks:talks": [("sequence", "sanctions-then-talks")],
        "ceasefire:ceasefire": [("all_of", "truce")],
        "shut:shutdown": [("absence", "airport-still-shut")],
        "reopened:reopening": [("absence", "airport-still-shut")],
        "strike-2:strike": [("corroboration", "strike")],
        "late:protest": [("late", "protests")],
        "embargo:embargo": [("unused", None)],
    }
    assert "closed:closure" not in got and "strike-1:strike" not in got  # cited by alerts
    detail = {k: v[0][2] for k, v in got.items()}
    assert detail["hedged:closure"] == "the signal is hedged (cue 'could'); closure takes asserted"
    assert detail["again:closure"].startswith("closure for country=ALPHA alerted at 2025-03-01T00:00+00:00")
    assert detail["beta-blockade:blockade"] == "alpha-blockade needs country=ALPHA; the sentence gives country=BETA"
    assert detail["protest:protest"] == "1 of 3 distinct sources within 12h"
    assert detail["talks:talks"] == "sanction must come first, within 1d"
    assert detail["ceasefire:ceasefire"] == "waiting for withdrawal within 1d"
    assert detail["reopened:reopening"] == "answers shutdown: an open absence is closed"
    assert "corroboration: 1 of 2 distinct sources within 6h" in detail["strike-2:strike"]
    assert detail["late:protest"].startswith("late: document late ")
    assert {k for v in got.values() for k, _d, _t in v} <= set(REASON_KINDS)


def test_candidates_are_bounded(tmp_path: Path) -> None:
    p = tmp_path / "pack.yaml"
    p.write_text(PACK, encoding="utf-8")
    _loaded, rules = load_rules([str(p)])
    engine = Engine(rules)
    collector = NearMissCollector(rules, limit=5)
    state = engine.initial_state()
    for k in range(20):
        state, outputs = engine.process_document(state, doc("An embargo was announced.", at=k, doc_id=f"e{k}"))
        collector.on_outputs(outputs)
    assert len(collector.near_misses()) == 5 and collector.dropped == 15
