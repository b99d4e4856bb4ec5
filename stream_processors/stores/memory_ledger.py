"""The delivery ledger of the in-memory store: the same claims, leases and outcomes as the SQL ledger."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime

from watchfloor.schemas.events import Event

from ..ports import DeliveryRecord, ReplanRefused, Settlement, ThreadRead


def _order(r: DeliveryRecord) -> tuple[int, str, str]:
    return (r.seq, r.alert_id, r.channel)


def _claim_order(r: DeliveryRecord) -> tuple[float, int, str, str]:
    return (r.order_at, r.seq, r.alert_id, r.channel)


class RevisedRows(dict[tuple[str, str], DeliveryRecord]):
    """The ledger's rows by (alert_id, channel), each with its revision: every row written (`rows[key] = ...`, the one
    way the ledger writes a row) gets the next one, as the SQL ledger's triggers give them."""

    def __init__(self) -> None:
        super().__init__()
        self.revisions: dict[tuple[str, str], int] = {}
        self._last = 0

    def __setitem__(self, key: tuple[str, str], value: DeliveryRecord) -> None:
        self._last += 1
        self.revisions[key] = self._last
        super().__setitem__(key, value)


def untouched(row: DeliveryRecord) -> bool:
    """Outstanding, never sent nor tried, and not claimed: a row intake may plan again (`enqueue(replacing=)`)."""
    return (
        row.status == "outstanding" and not row.ref and not row.attempts and not row.unsure and row.lease_owner is None
    )


class MemoryDeliveryLedger:
    """The DeliveryLedger methods of MemoryStore (mixed in; one lock guards the log and the ledger)."""

    _lock: threading.Lock
    _deliveries: RevisedRows
    _pauses: dict[str, float]  # channel -> until: its Retry-After (defer_channel with server_asked)
    _backoffs: dict[str, tuple[float, float]]  # channel -> (until, set at): its backoff (defer_channel without)

    def _append_locked(self, events: Sequence[Event]) -> int:
        raise NotImplementedError

    def delivery_status(self, alert_id: str, channel: str) -> str | None:
        got = self._deliveries.get((alert_id, channel))
        return got.status if got else None

    def enqueue(
        self,
        records: Sequence[DeliveryRecord],
        events: Sequence[Event] = (),
        *,
        replacing: Sequence[DeliveryRecord] = (),
    ) -> int:
        now = datetime.now(UTC).timestamp()
        added = 0
        with self._lock:
            for r in replacing:  # (all checked before anything is written)
                got = self._deliveries.get((r.alert_id, r.channel))
                if got is None or not untouched(got):
                    raise ReplanRefused(r.alert_id, r.channel)
            self._append_locked(events)  # checks every event before it adds any, and before any row goes in
            for r in replacing:
                got = self._deliveries[(r.alert_id, r.channel)]
                self._deliveries[(r.alert_id, r.channel)] = dataclasses.replace(
                    got,
                    kind=r.kind,
                    payload=copy.deepcopy(r.payload),
                    parent_id=r.parent_id,
                    order_at=r.order_at,
                    updated_at=now,
                )
            for r in records:
                key = (r.alert_id, r.channel)
                if key in self._deliveries:
                    continue
                created = r.created_at or now
                self._deliveries[key] = dataclasses.replace(
                    r,
                    payload=copy.deepcopy(r.payload),
                    created_at=created,
                    scheduled_at=r.scheduled_at or created,
                    updated_at=created,
                    lease_owner=None,
                    lease_until=None,
                )
                added += 1
        return added

    def claim_deliveries(
        self,
        owner: str,
        now: float,
        lease_seconds: float,
        *,
        limit: int = 1,
        skip_channels: Collection[str] = (),
        backoff_set_before: float | None = None,
        channel_leases: Mapping[str, float] | None = None,
    ) -> list[DeliveryRecord]:
        skip = set(skip_channels)
        out: list[DeliveryRecord] = []
        with self._lock:
            skip |= {c for c, until in self._pauses.items() if until > now}
            skip |= set(self._backing_off(now, backoff_set_before))
            for r in sorted(self._deliveries.values(), key=_claim_order):
                if len(out) >= limit:
                    break
                if r.status != "outstanding" or r.channel in skip:
                    continue
                if r.lease_until is not None and r.lease_until > now:
                    if r.lease_owner != owner:  # being sent by another dispatcher: its channel's later rows wait
                        skip.add(r.channel)
                    continue
                if r.not_before > now:
                    continue
                if r.next_attempt_at > now and (backoff_set_before is None or r.scheduled_at >= backoff_set_before):
                    continue
                lease = (channel_leases or {}).get(r.channel, lease_seconds)
                claimed = dataclasses.replace(
                    r, lease_owner=owner, lease_until=now + lease, unsure=r.unsure or r.lease_owner is not None
                )
                self._deliveries[(r.alert_id, r.channel)] = claimed
                out.append(dataclasses.replace(claimed, payload=copy.deepcopy(claimed.payload)))
        return out

    def claim_delivery(
        self, alert_id: str, channel: str, owner: str, now: float, lease_seconds: float
    ) -> DeliveryRecord | None:
        with self._lock:
            r = self._deliveries.get((alert_id, channel))
            if r is None or r.status != "outstanding" or (r.lease_until is not None and r.lease_until > now):
                return None
            claimed = dataclasses.replace(
                r, lease_owner=owner, lease_until=now + lease_seconds, unsure=r.unsure or r.lease_owner is not None
            )
            self._deliveries[(alert_id, channel)] = claimed
            return dataclasses.replace(claimed, payload=copy.deepcopy(claimed.payload))

    def settle_delivery(
        self,
        alert_id: str,
        channel: str,
        owner: str,
        outcome: Settlement,
        now: float,
        events: Sequence[Event] = (),
    ) -> bool:
        with self._lock:
            r = self._deliveries.get((alert_id, channel))
            if r is None or r.lease_owner != owner:
                return False
            self._deliveries[(alert_id, channel)] = dataclasses.replace(
                r,
                status=outcome.status,
                detail=outcome.detail,
                ref=outcome.ref or r.ref,
                attempts=outcome.attempts,
                next_attempt_at=outcome.next_attempt_at,
                scheduled_at=now,
                not_before=outcome.not_before,
                unsure=outcome.unsure,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
            if outcome.status == "sent":  # the channel works again: its backoff, if any, is over
                self._backoffs.pop(channel, None)
            self._append_locked(events)
        return True

    def hold_delivery(self, alert_id: str, channel: str, owner: str, until: float, detail: str | None = None) -> bool:
        with self._lock:
            r = self._deliveries.get((alert_id, channel))
            if r is None or r.lease_owner != owner:
                return False
            held = dataclasses.replace(r, lease_until=until, unsure=True)
            self._deliveries[(alert_id, channel)] = held if detail is None else dataclasses.replace(held, detail=detail)
        return True

    def deliveries(
        self,
        *,
        statuses: Collection[str] | None = None,
        alert_ids: Collection[str] | None = None,
        channel: str | None = None,
        thread_key: str | None = None,
        limit: int | None = None,
        after_seq: int | None = None,
    ) -> list[DeliveryRecord]:
        with self._lock:
            rows = sorted(self._deliveries.values(), key=_order)
        out = [
            dataclasses.replace(r, payload=copy.deepcopy(r.payload))
            for r in rows
            if (statuses is None or r.status in statuses)
            and (alert_ids is None or r.alert_id in alert_ids)
            and (channel is None or r.channel == channel)
            and (thread_key is None or r.thread_key == thread_key)
            and (after_seq is None or r.seq > after_seq)
        ]
        return out[:limit]

    def thread_rows(self, channel: str, thread_key: str, known: Mapping[str, int]) -> ThreadRead:
        revisions: dict[str, int] = {}
        rows: dict[str, DeliveryRecord] = {}
        with self._lock:
            for key, r in self._deliveries.items():
                if r.channel != channel or r.thread_key != thread_key:
                    continue
                revisions[r.alert_id] = rev = self._deliveries.revisions[key]
                if known.get(r.alert_id) != rev:
                    rows[r.alert_id] = dataclasses.replace(r, payload=copy.deepcopy(r.payload))
        return ThreadRead(revisions, rows)

    def sent_ref(self, channel: str) -> str:
        with self._lock:
            sent = [r for r in self._deliveries.values() if r.channel == channel and r.status == "sent" and r.ref]
        return max(sent, key=lambda r: (r.updated_at, r.seq)).ref if sent else ""

    def last_sent(self, channels: Collection[str]) -> dict[str, float]:
        wanted = set(channels)
        out: dict[str, float] = {}
        with self._lock:
            for r in self._deliveries.values():
                if r.channel in wanted and r.status == "sent":
                    out[r.channel] = max(out.get(r.channel, r.updated_at), r.updated_at)
        return out

    def thread_end(self, channel: str, thread_key: str) -> int:
        with self._lock:
            seqs = [r.seq for r in self._deliveries.values() if r.channel == channel and r.thread_key == thread_key]
        return max(seqs, default=0)

    def redeliver(
        self,
        now: float,
        *,
        alert_ids: Collection[str] | None = None,
        channel: str | None = None,
        statuses: Collection[str] = ("expired",),
        skip_unconfirmed: bool = False,
    ) -> int:
        changed = 0
        with self._lock:
            for key, r in list(self._deliveries.items()):
                if r.status not in statuses or (alert_ids is not None and r.alert_id not in alert_ids):
                    continue
                if channel is not None and r.channel != channel:
                    continue
                if r.lease_until is not None and r.lease_until > now:
                    continue
                if skip_unconfirmed and r.status == "expired" and r.unsure:
                    continue
                self._deliveries[key] = dataclasses.replace(
                    r,
                    status="outstanding",
                    attempts=0,
                    created_at=now,
                    next_attempt_at=0.0,
                    scheduled_at=now,
                    not_before=0.0,
                    detail="redelivery requested",
                    updated_at=now,
                )
                changed += 1
        return changed

    def defer_channel(
        self, channel: str, until: float, now: float, *, server_asked: bool = False, hold_channel: bool = True
    ) -> int:
        changed = 0
        with self._lock:
            if server_asked and self._pauses.get(channel, 0.0) < until:
                self._pauses[channel] = until
            elif not server_asked and hold_channel:  # this failure's backoff, the latest, replaces one before
                self._backoffs[channel] = (until, now)
            for key, r in list(self._deliveries.items()):
                if r.channel != channel or r.status != "outstanding":
                    continue
                if server_asked and r.not_before < until:
                    self._deliveries[key] = dataclasses.replace(r, not_before=until)
                elif not server_asked and r.next_attempt_at < until:
                    self._deliveries[key] = dataclasses.replace(r, next_attempt_at=until, scheduled_at=now)
                else:
                    continue
                changed += 1
        return changed

    def _backing_off(self, now: float, backoff_set_before: float | None) -> dict[str, float]:
        return {
            c: until
            for c, (until, set_at) in self._backoffs.items()
            if until > now and (backoff_set_before is None or set_at >= backoff_set_before)
        }

    def channel_backoffs(self, now: float, *, backoff_set_before: float | None = None) -> dict[str, float]:
        with self._lock:
            return self._backing_off(now, backoff_set_before)

    def channel_pauses(self, now: float) -> dict[str, float]:
        with self._lock:
            return {c: until for c, until in self._pauses.items() if until > now}

    def resume_channel(self, channel: str, now: float) -> int:
        changed = 0
        with self._lock:
            self._pauses.pop(channel, None)
            backoff = self._backoffs.pop(channel, None)
            held_until = backoff[0] if backoff is not None else now
            for key, r in list(self._deliveries.items()):
                if r.channel != channel or r.status != "outstanding":
                    continue
                paused = r.not_before > now
                backed_off = now < r.next_attempt_at <= held_until  # deferred by the channel's backoff
                if paused or backed_off:
                    self._deliveries[key] = dataclasses.replace(
                        r,
                        not_before=0.0 if paused else r.not_before,
                        next_attempt_at=now if backed_off else r.next_attempt_at,
                        updated_at=now,
                    )
                    changed += 1
        return changed

    def delivery_counts(self, statuses: Collection[str] | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for r in self._deliveries.values():
                if statuses is None or r.status in statuses:
                    counts[r.status] = counts.get(r.status, 0) + 1
        return counts

    def delivery_stats(self, statuses: Collection[str] | None = None) -> dict[tuple[str, str], tuple[int, float]]:
        stats: dict[tuple[str, str], tuple[int, float]] = {}
        with self._lock:
            for r in self._deliveries.values():
                if statuses is not None and r.status not in statuses:
                    continue
                n, oldest = stats.get((r.channel, r.status), (0, r.created_at))
                stats[(r.channel, r.status)] = (n + 1, min(oldest, r.created_at))
        return stats
