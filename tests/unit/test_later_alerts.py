"""An alert sent after later alerts of its rule and group (re-sent once given up) says so, in every channel kind."""

from __future__ import annotations

from tests.functional.delivery_helpers import detection
from watchfloor.alerts.notice import Notice, later_alerts, later_text, payload
from watchfloor.alerts.notifiers.file import record
from watchfloor.schemas.events import Alert
from watchfloor.stream_processors.ports import DeliveryRecord


def row(n: int, seq: int, *, status: str = "sent", kind: str = "alert", **kw: object) -> DeliveryRecord:
    alert = Alert(id=f"det{n:04d}", detection=detection(n, **kw), channels=("ops",))  # type: ignore[arg-type]
    return DeliveryRecord(alert.id, "ops", status=status, kind=kind, payload=payload(alert), seq=seq)


def test_only_rows_raised_after_it_and_sent_count_and_the_newest_in_event_time_is_named() -> None:
    first = row(1, 10, status="outstanding", severity="medium", confidence="unconfirmed")
    rows = [
        row(0, 5),  # raised before it
        first,
        row(2, 11, kind="followup", severity="high", minutes=90),
        row(3, 12, kind="revision", severity="medium", confidence="unconfirmed", minutes=30),
        row(4, 13, status="outstanding", minutes=200),  # not sent
        row(5, 14, kind="retraction", minutes=300),  # a withdrawal is not an alert the channel has
    ]
    later = later_alerts(rows, first)
    assert later is not None and (later.alert_id, later.severity, later.count) == ("det0002", "high", 2)
    assert later_text(later) == (
        "Sent late: 2 later alerts of this rule and group reached this channel first; "
        "the newest, det0002, is HIGH, fired 2024-11-04 10:30 UTC"
    )
    assert later_alerts(rows[:2], first) is None  # the usual: sent in the ledger's order


def test_the_file_and_webhook_record_carries_it() -> None:
    first = row(1, 10, status="outstanding", severity="medium", confidence="unconfirmed")
    later = later_alerts([first, row(2, 11, confidence="unconfirmed")], first)
    alert = Alert(id="det0001", detection=detection(1), channels=("ops",))
    out = record(Notice(key="det0001", kind="alert", alert=alert, channel="ops", later=later))
    assert out["later"] == {
        "alert": "det0002",
        "severity": "high",
        "confidence": "unconfirmed",
        "fired_at": "2024-11-04T09:02:00+00:00",
        "count": 1,
    }
    assert "later" not in record(Notice(key="det0001", kind="alert", alert=alert, channel="ops"))
