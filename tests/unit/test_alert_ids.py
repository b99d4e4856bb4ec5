"""Alert ids: deterministic (the same firing always gets the same id, so deliveries are idempotent) and
distinct for distinct firings, also when a firing's evidence is longer than an alert shows."""

from __future__ import annotations

from watchfloor.schemas.events import Detection, Document
from watchfloor.stream_processors.engine.evidence import MAX_EVIDENCE
from watchfloor.stream_processors.replay import replay

from .engine_helpers import DATA, doc, engine_for

PACK = str(DATA / "rules" / "eventtime.yaml")


def hourly_closures(n: int) -> list[Document]:
    return [doc(f"Alphaland closed its border again, report {i}.", at=i, doc_id=f"closure-{i}") for i in range(n)]


def test_firings_whose_shown_evidence_is_the_same_get_their_own_ids() -> None:
    """`closures-counted` (3 reports within 1d, realert 8h) fires at hours 2, 10 and 18 of hourly reports. At
    hours 10 and 18 its window holds more reports than an alert shows (MAX_EVIDENCE). These are two firings,
    and each must reach the channels: the id covers all of the evidence, not only what is shown."""
    docs = hourly_closures(24)
    got = [d for d in replay(docs, engine_for(PACK)).detections if d.rule == "closures-counted"]
    assert [d.fired_at.hour for d in got] == [2, 10, 18]
    assert all(len(d.evidence) <= MAX_EVIDENCE for d in got)
    assert len({d.id for d in got}) == 3  # was 2: the store kept one of the last two, the other was never sent
    again = [d for d in replay(docs, engine_for(PACK)).detections if d.rule == "closures-counted"]
    assert [d.id for d in again] == [d.id for d in got]  # and deterministic


def report_numbers(d: Detection) -> list[int]:
    return [int(e.sentence.rsplit(" ", 1)[1].rstrip(".")) for e in d.evidence]


def test_a_busy_window_shows_the_report_that_opened_it_and_the_newest_and_counts_them_all() -> None:
    """At hour 18 the window holds reports 0-18: the alert shows report 0 and the newest nine, what changed
    since hour 10's alert (it once showed reports 0-9 at both firings), and says there were 19."""
    got = [d for d in replay(hourly_closures(24), engine_for(PACK)).detections if d.rule == "closures-counted"]
    assert [report_numbers(d) for d in got] == [[0, 1, 2], [0, *range(2, 11)], [0, *range(10, 19)]]
    assert [d.evidence_total for d in got] == [3, 11, 19]
    assert [d.reports for d in got] == [3, 11, 19]
