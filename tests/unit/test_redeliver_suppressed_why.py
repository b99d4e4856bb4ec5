"""`alerts redeliver` says of a suppressed delivery the reason the ledger recorded for it, not "a silence or the
subscription's max_age" whatever it was (outside trial 45, HIGH-1: said of a row replaced by a revision, and of one
taken for a copy of it, with no silence and no max_age), and says when a row taken for a copy of an earlier
raising points at a row that was never sent either."""

from __future__ import annotations

from collections.abc import Collection

from watchfloor.cli.alerts import _copies_of_unsent, _suppressed_why
from watchfloor.stream_processors.ports import DeliveryRecord

REPLACED = "replaced before it was sent: alert B (delivery kB) revises it and goes instead"
COPY = "the same alert as kA1, already outstanding here (its reports arrived again)"


def row(key: str, detail: str, status: str = "suppressed") -> DeliveryRecord:
    return DeliveryRecord(key, "archive", status=status, detail=detail)


class Ledger:
    def __init__(self, *rows: DeliveryRecord) -> None:
        self.rows = rows

    def deliveries(self, *, alert_ids: Collection[str], channel: str, limit: int | None = None) -> list[DeliveryRecord]:
        return [r for r in self.rows if r.alert_id in alert_ids and r.channel == channel][:limit]


def test_each_suppressed_row_is_said_with_its_own_reason() -> None:
    said = _suppressed_why([row("kA1", REPLACED), row("kA2", COPY)])
    assert said == f"2 suppressed, never sent ({REPLACED}; {COPY})", said
    assert "silence" not in said and "max_age" not in said
    assert _suppressed_why([row("k1", "silenced by sil-1"), row("k2", "silenced by sil-1")]) == (
        "2 suppressed, never sent (2: silenced by sil-1)"
    )
    many = _suppressed_why([row(f"k{i}", f"reason {i}") for i in range(5)])
    assert many.endswith("reason 2; and 2 other reasons: `alerts list --json` has each)"), many


def test_a_row_taken_for_a_copy_of_a_row_never_sent_is_said_to_have_told_nothing() -> None:
    first, again = row("kA1", REPLACED), row("kA2", COPY)
    (why,) = _copies_of_unsent(Ledger(first, again), [first, again])
    assert why.startswith("kA2 to archive was taken for a copy of kA1, which was never sent either"), why
    sent = row("kA1", "", status="sent")
    assert _copies_of_unsent(Ledger(sent, again), [again]) == []  # a copy of a row sent: told, rightly suppressed
