"""A revision that keeps its alert's id (the same reports at another point in time: `Detection.revises` is its own id,
which the correlator makes when a firing moves and its evidence, capped, stays the same) revises a standing alert in
place. Review of ef3de3f: it was taken for a raising after a withdrawal, so `alerts list` said "reinstated", the
status page "(reinstated)" (test_activity_bounded), and an acknowledgement of the alert stopped counting."""

from __future__ import annotations

from datetime import UTC, datetime

from watchfloor.alerts.control import ControlLog
from watchfloor.cli.alerts import _Withdrawals
from watchfloor.schemas.control import Actor
from watchfloor.schemas.events import Detection, detection_event, detection_event_id
from watchfloor.stream_processors.stores.memory import MemoryStore

T0 = datetime(2024, 11, 4, 12, tzinfo=UTC)


def _raisings() -> tuple[Detection, Detection, Detection]:
    first = Detection(id="a1", rule="r", title="t", severity="high", fired_at=T0)
    in_place = first.model_copy(update={"revision": 1, "revises": "a1"})
    # withdrawn (revised into b1), then raised again with its own id: reinstated
    back = first.model_copy(update={"revision": 3, "revises": "b1"})
    return first, in_place, back


def test_an_acknowledgement_still_counts_after_a_revision_in_place() -> None:
    store = MemoryStore()
    control = ControlLog(store, now=lambda: T0)
    first, in_place, back = _raisings()
    store.append([detection_event(first)])
    control.acknowledge("a1", by=Actor(via="cli", user="lee"))
    store.append([detection_event(in_place)])
    assert [a.by.user for a in control.acknowledgements("a1")] == ["lee"]
    assert control.acknowledgements_before("a1") == []
    # a raising after a withdrawal is acknowledged anew, as before
    other = Detection(id="b1", rule="r", title="t", severity="high", fired_at=T0, revises="a1", revision=2)
    store.append([detection_event(other), detection_event(back)])
    assert control.acknowledgements("a1") == []
    assert [a.by.user for a in control.acknowledgements_before("a1")] == ["lee"]


def test_alerts_list_does_not_call_a_revision_in_place_reinstated() -> None:
    fold = _Withdrawals()
    first, in_place, back = _raisings()
    fold.add(1, "detection", first.model_dump(mode="json"))
    fold.add(2, "detection", in_place.model_dump(mode="json"))
    assert fold.reinstates == {}
    assert fold.why[detection_event_id(first)].startswith("revised in place")
    assert [key for _, key in fold.raised["a1"]] == [detection_event_id(first)]  # one raising for its acks
    other = Detection(id="b1", rule="r", title="t", severity="high", fired_at=T0, revises="a1", revision=2)
    fold.add(3, "detection", other.model_dump(mode="json"))
    fold.add(4, "detection", back.model_dump(mode="json"))
    assert fold.reinstates == {detection_event_id(back): detection_event_id(in_place)}
