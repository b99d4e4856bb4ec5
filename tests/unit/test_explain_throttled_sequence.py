"""Audit 4, F5: a sequence completed while its group was quiet after an alert. `rules explain` and the
backtest's near misses said "sequence: waiting for  to follow" for it (the refs after the last one: none),
while the throttle held it back: a false alert on 25 Nov silenced every real collapse report of 1 Dec. Now
they say `realert`, when the group alerted and until when it is quiet, in the count case's words."""

from __future__ import annotations

from pathlib import Path

from watchfloor.scoring.near_misses import NearMissCollector
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.explain_detections import explain_documents

from .engine_helpers import doc, engine_for

PACK = """\
version: 2
name: truce
language: en
signals:
  truce_begins:
    match: {any: ["truce begins"]}
  truce_collapsed:
    match: {any: ["truce collapses"]}
  talks_end:
    match: {any: ["talks end"]}
detections:
  - id: truce-collapsed
    title: Truce collapsed
    severity: high
    pattern:
      sequence: [truce_begins, truce_collapsed]
    within: 30d
    realert: 10d
  - id: three-steps
    title: Talks ended, truce began and collapsed
    severity: medium
    pattern:
      sequence: [talks_end, truce_begins, truce_collapsed]
    within: 30d
"""


def _engine(tmp_path: Path) -> Engine:
    path = tmp_path / "truce.yaml"
    path.write_text(PACK, encoding="utf-8")
    return engine_for(str(path))


DOCS = [
    doc("The truce begins at dawn.", at=0, doc_id="begins"),
    doc("The truce collapses, a rumour says.", at=24, doc_id="false-collapse"),  # fires: the realert starts
    doc("The truce collapses as fighting resumes.", at=24 * 7, doc_id="real-collapse", source="Wire B"),
]


def test_a_sequence_completed_within_realert_says_realert_with_when_and_until(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    explained, _end = explain_documents(engine, DOCS, only={"truce-collapsed"})
    checks = {e.document_id: e.detections for e in explained}
    [begins] = checks["begins"]
    assert (begins.kind, begins.reason) == ("sequence", "waiting for truce_collapsed to follow")
    [fired] = checks["false-collapse"]
    assert fired.fired
    [check] = checks["real-collapse"]
    assert (check.kind, check.fired) == ("realert", False)
    assert check.reason == (
        "truce-collapsed alerted at 2025-03-02T00:00+00:00; quiet for 10d (until 2025-03-12T00:00+00:00), "
        "though it had truce_begins then truce_collapsed within 30d"
    )
    assert "waiting for  to follow" not in check.reason


def test_the_near_miss_of_a_throttled_sequence_is_realert_in_the_same_words(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    explained, _end = explain_documents(engine, DOCS, only={"truce-collapsed"})
    [check] = next(e.detections for e in explained if e.document_id == "real-collapse")
    collector = NearMissCollector(engine.rules)
    state = engine.initial_state()
    for d in DOCS:
        state, outs = engine.process_document(state, d)
        collector.on_outputs(outs)
    misses = {(m.signal.document_id, r.detection): r for m in collector.near_misses() for r in m.reasons}
    reason = misses[("real-collapse", "truce-collapsed")]
    assert (reason.kind, reason.detail) == ("realert", check.reason)


def test_a_middle_step_still_waits_for_the_steps_after_it_by_name(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    docs = [
        doc("The talks end without a deal.", at=0, doc_id="talks"),
        doc("The truce begins at dawn.", at=1, doc_id="begins"),
    ]
    explained, _end = explain_documents(engine, docs, only={"three-steps"})
    [check] = next(e.detections for e in explained if e.document_id == "begins")
    assert (check.kind, check.reason) == ("sequence", "waiting for truce_collapsed to follow")
    [first] = next(e.detections for e in explained if e.document_id == "talks")
    assert first.reason == "waiting for truce_begins, truce_collapsed to follow"


def test_a_last_step_whose_earlier_steps_came_out_of_order_says_so_with_every_name(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    docs = [
        doc("The truce begins at dawn.", at=0, doc_id="begins"),
        doc("The talks end without a deal.", at=1, doc_id="talks"),
        doc("The truce collapses as fighting resumes.", at=2, doc_id="collapse"),
    ]
    explained, _end = explain_documents(engine, docs, only={"three-steps"})
    [check] = next(e.detections for e in explained if e.document_id == "collapse")
    assert (check.kind, check.fired) == ("sequence", False)
    assert check.reason == "talks_end then truce_begins then truce_collapsed not in order within 30d"
