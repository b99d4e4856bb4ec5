"""What `alerts list` says withdrew which raising of an alert (watchfloor.cli.alerts._Withdrawals): one chain, never a
cycle, when an alert is raised again with its own id (reinstated; outside trial 30, F2)."""

from __future__ import annotations

from datetime import UTC, datetime

from watchfloor.cli.alerts import _Withdrawals
from watchfloor.schemas.events import Detection, EventType, Retraction, detection_key

T0 = datetime(2026, 12, 5, tzinfo=UTC)
DET, GONE = EventType.DETECTION.value, EventType.RETRACTION.value


def det(alert_id: str, revision: int = 0, revises: str | None = None) -> dict[str, object]:
    d = Detection(id=alert_id, rule="r", title="t", severity="high", fired_at=T0, revises=revises, revision=revision)
    return d.model_dump(mode="json")


def retraction(alert_id: str, revision: int) -> dict[str, object]:
    return Retraction(alert_id=alert_id, rule="r", reason="a late report", revision=revision, at=T0).model_dump(
        mode="json"
    )


def test_an_alert_revised_back_into_its_own_id_is_one_chain() -> None:
    fold = _Withdrawals()
    fold.add(1, DET, det("A"))
    fold.add(2, DET, det("B", 1, revises="A"))
    fold.add(3, DET, det("A", 2, revises="B"))
    a2, b = detection_key("A", 2), detection_key("B", 1)
    assert fold.reinstates == {a2: "A"}
    assert fold.why == {"A": "revised by B", b: "revised back into A, which it had revised"}
    assert fold.at == {"A": 2, b: 3}
    assert fold.withdrawn() == {"A": "revised by B; reinstated since", b: "revised back into A, which it had revised"}
    # Revised again after that: the raising that stood then, the reinstated one, is what is withdrawn.
    fold.add(4, DET, det("C", 3, revises="A"))
    assert fold.why[a2] == "revised by C" and fold.why["A"] == "revised by B"


def test_an_alert_withdrawn_and_raised_again_is_reinstated() -> None:
    fold = _Withdrawals()
    fold.add(1, DET, det("A"))
    fold.add(2, GONE, retraction("A", 1))
    fold.add(3, DET, det("A", 2))
    assert fold.reinstates == {detection_key("A", 2): "A"}
    assert fold.withdrawn() == {"A": "withdrawn: a late report; reinstated since"}


def test_a_revision_into_another_alert_is_no_reinstatement() -> None:
    fold = _Withdrawals()
    fold.add(1, DET, det("A"))
    fold.add(2, DET, det("B", 1, revises="A"))
    fold.add(3, DET, det("C", 2, revises="B"))
    assert fold.reinstates == {}
    assert fold.withdrawn() == {"A": "revised by B", detection_key("B", 1): "revised by C"}
