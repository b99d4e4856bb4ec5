"""The alerts standing and which of them are acknowledged (alerts.standing, outside trial 81, F5): a revision by
another alert or a retraction withdraws one, a raising again (reinstated) is acknowledged anew, a revision in place
keeps its acknowledgements, and the checkpoint's state round-trips."""

from __future__ import annotations

from typing import Any

from watchfloor.alerts.standing import StandingAcks

DET, RET, ACK = "detection", "detection.retracted", "alert.acknowledged"


def det(alert_id: str, rule: str = "troops", revises: str | None = None) -> dict[str, Any]:
    return {"id": alert_id, "rule": rule, **({"revises": revises} if revises else {})}


def fold(*events: tuple[str, dict[str, Any]]) -> StandingAcks:
    got = StandingAcks()
    for kind, payload in events:
        got.apply(kind, payload)
    return got


def test_an_acknowledged_alert_counts_until_it_is_withdrawn() -> None:
    got = fold((DET, det("a")), (DET, det("b", "treaty")), (ACK, {"alert_id": "a"}), (ACK, {"alert_id": "a"}))
    assert (got.total, got.acknowledged, got.unacknowledged) == (2, 1, 1)
    assert got.by_rule() == {"treaty": (1, 1), "troops": (1, 0)}
    got.apply(RET, {"alert_id": "a"})
    assert (got.total, got.acknowledged, got.unacknowledged) == (1, 0, 1)


def test_a_revision_by_another_alert_stands_unacknowledged_in_its_place() -> None:
    got = fold((DET, det("a")), (ACK, {"alert_id": "a"}), (DET, det("b", revises="a")))
    assert got.standing == {"b": "troops"} and got.unacknowledged == 1


def test_reinstated_is_acknowledged_anew_and_in_place_keeps_it() -> None:
    got = fold((DET, det("a")), (ACK, {"alert_id": "a"}), (DET, det("a", revises="a")))  # revised in place
    assert (got.total, got.acknowledged) == (1, 1)
    got = fold((DET, det("a")), (ACK, {"alert_id": "a"}), (DET, det("b", revises="a")), (DET, det("a", revises="b")))
    assert got.standing == {"a": "troops"} and got.acknowledged == 0  # (raised again: not taken by the earlier ack)
    got.apply(ACK, {"alert_id": "b"})  # an acknowledgement of an alert that does not stand counts for none
    assert got.acknowledged == 0


def test_state_round_trips() -> None:
    got = fold((DET, det("a")), (DET, det("b")), (ACK, {"alert_id": "b"}))
    again = StandingAcks.from_state(got.to_state())
    assert again == got
