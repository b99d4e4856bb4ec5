"""A revision made by a report of the very time of the alert it changes (trial 32, L4: Channel One stamps every item
of a day 12:00; an item read in a later poll with a smaller id becomes the alert's first report) is not told as "a
late report": the engine marks it `same_time`, and the channel is told that reports of one time are taken in the
order of their ids. A report dated before the alert is a late report, as before."""

from __future__ import annotations

from watchfloor.alerts.notice import revision_cause
from watchfloor.schemas.events import Detection
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules

EXCHANGE = "North Korea and Russia exchanged the instruments of ratification of the treaty"


def _detections(*docs: tuple[str, str]) -> list[Detection]:
    _loaded, compiled = load_rules(["builtin:dprk_russia"])
    engine = Engine(compiled)
    state = engine.initial_state()
    out: list[Detection] = []
    for doc_id, at in docs:
        doc = parse_document(
            {"type": "news.article", "id": doc_id, "published_at": at, "source": "wire", "title": EXCHANGE}
        )
        state, outputs = engine.process_document(state, doc)
        out += [o for o in outputs if isinstance(o, Detection) and o.rule == "ratification-exchange"]
    return out


def test_a_report_of_the_same_time_read_later_is_no_late_report() -> None:
    first, revision = _detections(("1tv-500", "2024-10-28T12:00:00Z"), ("1tv-499", "2024-10-28T12:00:00Z"))
    assert revision.revises == first.id and revision.revision == 1
    assert revision.same_time and not first.same_time
    said = revision_cause(revision)
    assert said.startswith("A report of the same time (2024-10-28 12:00 UTC), read after this alert was raised"), said
    assert "late report" not in said
    assert "same_time" in revision.model_dump(mode="json")


def test_a_report_dated_before_is_a_late_report_as_before() -> None:
    first, revision = _detections(("1tv-500", "2024-10-28T12:00:00Z"), ("1tv-501", "2024-10-28T11:00:00Z"))
    assert revision.revises == first.id and not revision.same_time
    assert revision_cause(revision) == "A late report changed this alert"
    assert "same_time" not in revision.model_dump(mode="json")  # the JSON of every other detection is as before
