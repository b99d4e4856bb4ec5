"""Ports: the storage interfaces the runtimes talk to (event log, checkpoints, delivery ledger, kept Kafka records)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from watchfloor.schemas.events import Event


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with its global position in the log (1-based, gap-free per store, increasing)."""

    position: int
    event: Event


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a processor is in the log, and its state as of that position (JSON-able)."""

    position: int
    state: dict[str, Any] | None


@runtime_checkable
class EventLog(Protocol):
    """Append-only log of events. An event whose id is already in the log is not added again."""

    def append(self, events: Sequence[Event]) -> int:
        """Append durably; returns how many were new. Returns only after the events are committed."""
        ...

    def read(self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000) -> list[StoredEvent]:
        """Events with position > after, in position order, optionally only of some types."""
        ...

    def read_payloads(
        self, after: int = 0, *, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[tuple[int, str]]:
        """As `read`, each event's position and payload alone, as JSON text (what the SQL stores hold): for a
        reader of a few fields of many events (the dispatcher's stories at start-up) that builds no `Event`."""
        ...

    def read_latest(
        self,
        before: int | None = None,
        *,
        types: Collection[str] | None = None,
        key: str | None = None,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        """Events with position < before (all when None), newest first, optionally only of some types and with this
        `key` (a detection's is its rule): `alerts list` pages back from the head, so its cost is what it shows."""
        ...

    def read_ids(self, ids: Collection[str]) -> list[StoredEvent]:
        """The events with these ids (by the id's unique index), in position order; ids not in the log are left out."""
        ...

    def detections_of(self, alert_ids: Collection[str]) -> list[StoredEvent]:
        """Every detection event raising one of these alert ids (its first raising's event id is the alert id, a
        revision's is its own), in position order: by an index of detections' alert ids (schema migration 9)."""
        ...

    def alert_ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Up to `limit` distinct alert ids of detections that start with `prefix`, sorted: how `alerts ack` and
        `alerts list` take an id's first characters, as git does a commit's (by the same index as `detections_of`)."""
        ...

    def head(self) -> int:
        """The highest position in the log (0 when empty)."""
        ...

    def count(
        self, *, types: Collection[str] | None = None, after: int = 0, key: str | None = None, up_to: int | None = None
    ) -> int:
        """How many events (of `types`) the log holds after position `after` (and up to `up_to`, when given): counted
        by the store (an index range), not read, so what `status` asks (the documents the rules have not read) costs
        the backlog, not the log."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class CheckpointStore(Protocol):
    """Processor positions, saved in the same transaction as the processor's outputs."""

    def load_checkpoint(self, processor: str) -> Checkpoint: ...

    def checkpoint_position(self, processor: str) -> int:
        """The checkpoint's position alone (0 if none): what an idle follower needs to see that nothing is new,
        without reading its state back (which can be large)."""
        ...

    def commit(
        self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
    ) -> int:
        """Atomically append `outputs` (dedup by id) and save the checkpoint. Returns outputs added.

        With `since`, a compare-and-set: the commit happens only if the saved position is still `since` (0: no
        checkpoint yet), else CheckpointMoved is raised and nothing is written. Two processes following one
        store then never both commit the same stretch, and a slower one never moves the checkpoint back."""
        ...


class CheckpointMoved(RuntimeError):
    """A commit's compare-and-set failed: another process moved the checkpoint since this one read it."""

    def __init__(self, processor: str, expected: int, found: int) -> None:
        self.processor = processor
        self.expected = expected
        self.found = found
        super().__init__(f"checkpoint {processor!r} is at {found}, not {expected}: another process moved it")


# held: an alert its channel's throttle held back, told in the channel's throttle summary (alerts.throttle)
DELIVERY_STATUSES = ("outstanding", "sent", "expired", "suppressed", "held")
"""Ledger states. outstanding: still to be delivered (retried until it is sent or expires); sent: the channel
has it; expired: given up after the maximum age (re-sendable); suppressed: deliberately not sent (a silence).
Stores written by older versions may also hold 'pending' and 'failed'; they migrate to outstanding."""


ORDER_LAST = 1e12  # DeliveryRecord.order_at of a row with no event time of its own (year 33658: after any alert)


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One (alert, channel) row of the delivery ledger. Times are epoch seconds from the dispatcher's clock."""

    alert_id: str  # the message key: the alert (detection) id, or a retraction's id
    channel: str
    status: str = "outstanding"
    kind: str = "alert"  # alert | followup | revision | retraction
    payload: dict[str, Any] | None = None  # what to send (JSON), so a retry needs nothing else
    thread_key: str = ""  # rule + group: alerts of one thread share it
    parent_id: str | None = None  # the alert whose message this one replies to and updates
    seq: int = 0  # the log position of the event that caused it (delivery order within equal `order_at`)
    # When what it tells happened (epoch seconds): its alert's `fired_at`, no earlier than the row it replies under.
    # A pass delivers due rows in (order_at, seq) order, so stories raised out of time order in one poll or held by
    # an outage reach a channel in event time (trial 24, F3/F4). Rows without an event time (digests, throttle
    # summaries, acknowledgements) take ORDER_LAST: after the alerts of their pass, in log order.
    order_at: float = ORDER_LAST
    created_at: float = 0.0  # when it became outstanding: the maximum age counts from here
    attempts: int = 0
    next_attempt_at: float = 0.0  # our backoff; a process started since it was set may try earlier
    scheduled_at: float = 0.0  # when next_attempt_at was set
    not_before: float = 0.0  # the channel's own Retry-After: never tried earlier
    unsure: bool = False  # an earlier attempt may have got through: look in the channel before sending
    ref: str = ""  # the channel's reference of the delivered message (Slack: "CHANNELID:ts")
    detail: str = ""  # the last error, or what the channel answered
    lease_owner: str | None = None  # the dispatcher that holds the claim, until lease_until
    lease_until: float | None = None
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class ThreadRead:
    """What `thread_rows` read of a channel's thread: the revision of each of its rows, and the rows themselves of
    those whose revision the reader did not know."""

    revisions: dict[str, int]  # alert_id -> the row's revision (moved by every write of the row)
    rows: dict[str, DeliveryRecord]  # alert_id -> the row, for each revision the reader did not know


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a dispatcher records at the end of an attempt; clears its lease."""

    status: str
    detail: str = ""
    ref: str = ""  # kept as it was when empty
    attempts: int = 0  # total attempts made so far
    next_attempt_at: float = 0.0
    not_before: float = 0.0
    unsure: bool = False


@runtime_checkable
class DeliveryLedger(Protocol):
    """Which alert went to which channel. (alert_id, channel) is unique: nothing is sent twice.

    Dispatchers claim due rows with a lease before sending (`claim_deliveries`), so any number of them on one
    store send each row once; a row whose lease ran out comes back `unsure` (its attempt was interrupted).
    """

    def delivery_status(self, alert_id: str, channel: str) -> str | None:
        """The row's status (DELIVERY_STATUSES), or None if it was never enqueued."""
        ...

    def enqueue(
        self,
        records: Sequence[DeliveryRecord],
        events: Sequence[Event] = (),
        *,
        replacing: Sequence[DeliveryRecord] = (),
    ) -> int:
        """Insert each record whose (alert_id, channel) is not in the ledger yet; returns how many went in. `events`
        are appended in the same transaction (dedup by id), so the rows are never there without them.

        `replacing`: rows of the ledger planned again (a thread told again in event time, intake.plan_retold), each
        written over its row's `kind`, `payload`, `parent_id` and `order_at`, in the same transaction, only while
        that row is still untouched: outstanding, not sent or tried (no ref, no attempt, not unsure) and not
        claimed. When one is not (another dispatcher took it meanwhile), nothing at all is written and
        `ReplanRefused` is raised: the caller plans again from what the ledger holds now."""
        ...

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
        """Lease up to `limit` due outstanding rows to `owner`, in (`order_at`, `seq`) order (event time, then log
        order), and return them as leased, for `lease_seconds`, or for `channel_leases[channel]` when given for the
        row's channel (a channel whose one attempt may take longer: email waits up to 10 minutes for the server's
        verdict on a message).

        Due: status outstanding, no live lease, `not_before` <= now, its channel not paused (`channel_pauses`),
        and `next_attempt_at` <= now and its channel not backing off (`channel_backoffs`) unless that backoff was
        set before `backoff_set_before` (a process start tries every delivery once at once; a channel's own
        Retry-After, `not_before` and the channel's pause, always holds). A row whose previous lease ran out is
        returned with `unsure` set (and kept so)."""
        ...

    def claim_delivery(
        self, alert_id: str, channel: str, owner: str, now: float, lease_seconds: float
    ) -> DeliveryRecord | None:
        """Lease the one row (`alert_id`, `channel`) to `owner` for `lease_seconds` when it is outstanding with no live
        lease, due or not (its channel paused or not), and return it as leased; None otherwise. For a dispatcher that
        settles a row another one it holds decides (an alert a revision replaces before either was sent), not to send
        it: `unsure` is set, as by claim_deliveries, when a previous lease ran out."""
        ...

    def settle_delivery(
        self, alert_id: str, channel: str, owner: str, outcome: Settlement, now: float, events: Sequence[Event] = ()
    ) -> bool:
        """Record `outcome` and append `events` in one transaction, if `owner` still holds the lease.

        False (and nothing written) when the lease was lost to another dispatcher."""
        ...

    def hold_delivery(self, alert_id: str, channel: str, owner: str, until: float, detail: str | None = None) -> bool:
        """Keep the row claimed by `owner` until `until` (its lease extended, or shortened), marked `unsure`, with
        `detail` when given: a notifier call given up at the claim's deadline still runs, and nobody may claim the
        row until it ends. Compare-and-set on the owner: False (and nothing written) when `owner` no longer holds
        it."""
        ...

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
        """Rows matching every filter given, in (seq, alert_id, channel) order; with `after_seq`, only rows whose
        `seq` is greater (a reader that keeps what it read before asks only for what is new). All of them unless
        `limit` is given: a default cap cut `alerts list` and the delivery latency metric off silently at 100,000."""
        ...

    def thread_rows(self, channel: str, thread_key: str, known: Mapping[str, int]) -> ThreadRead:
        """The rows of `channel`'s thread `thread_key` as a reader that keeps them needs: the revision of every row,
        and the whole row only of those whose revision is not `known`'s (alert_id -> the revision the reader holds).
        A row's revision moves at every write of it and is never given again, so the rows the reader holds at their
        known revisions, with these, are what `deliveries(channel=, thread_key=)` reads (a long thread is read once,
        then only what changed: each delivery of it read every row, decoded)."""
        ...

    def sent_ref(self, channel: str) -> str:
        """The reference of `channel`'s delivery settled `sent` last (with one), or "" when there is none."""
        ...

    def last_sent(self, channels: Collection[str]) -> dict[str, float]:
        """Channel -> when its delivery settled `sent` last was settled (epoch seconds), for those of `channels` with
        one: read by a channel's newest entry of the index of sent rows, so what monitoring asks of a few channels
        does not cost the ledger's size (a failed start-up check superseded by a later delivery, `watchfloor status`
        and /healthz)."""
        ...

    def thread_end(self, channel: str, thread_key: str) -> int:
        """The greatest `seq` among `channel`'s rows of thread `thread_key` (0: none), without reading the rows: where a
        reader of what came after the thread's last row starts (a throttle summary lists through its seq)."""
        ...

    def redeliver(
        self,
        now: float,
        *,
        alert_ids: Collection[str] | None = None,
        channel: str | None = None,
        statuses: Collection[str] = ("expired",),
        skip_unconfirmed: bool = False,
    ) -> int:
        """Make matching rows outstanding and due now, with a fresh maximum age; rows under a live lease are
        left alone, and with `skip_unconfirmed` so are rows given up unconfirmed (expired and `unsure`: an email
        that may be in the mailbox). Returns how many changed."""
        ...

    def defer_channel(
        self, channel: str, until: float, now: float, *, server_asked: bool = False, hold_channel: bool = True
    ) -> int:
        """Hold every outstanding row of `channel` until `until`, for every dispatcher on the store, after a
        failure of the whole channel: as its `not_before` when the channel itself asked (a Retry-After), else
        as a backoff (`next_attempt_at`, scheduled at `now`). Rows held longer keep their time. Returns how
        many rows changed.

        When the channel asked (`server_asked`), the channel itself is also paused until `until` (a later pause
        recorded before stands): rows enqueued after this call are not due before then either, for every
        dispatcher on the store (see `channel_pauses`). Otherwise, with `hold_channel` (the failed row is retried at
        `until`), the channel itself backs off until `until`, set at `now` (this backoff replaces one recorded before:
        `until` is the failed row's next attempt, which the channel never waits past): rows enqueued after this call
        wait for it too, so that none goes before the failed row (see `channel_backoffs`). A row of the channel
        settled `sent` ends the backoff. Without `hold_channel` (the failed row was given up, or its retry is not
        known yet), only the rows there now wait."""
        ...

    def channel_backoffs(self, now: float, *, backoff_set_before: float | None = None) -> dict[str, float]:
        """Channels backing off at `now` after a failure of the whole channel (`defer_channel` without
        `server_asked`): channel -> when the backoff ends (later than `now`). No row of these channels is claimed
        before then by a claim with the same `backoff_set_before`, which leaves out the backoffs set before it (a
        process start tries every delivery once at once). No pause the channel asked for: `channel_pauses`."""
        ...

    def channel_pauses(self, now: float) -> dict[str, float]:
        """Channels paused at `now` by their own Retry-After (`defer_channel(..., server_asked=True)`): channel
        -> when the pause ends (later than `now`). No row of these channels is claimed before then."""
        ...

    def resume_channel(self, channel: str, now: float) -> int:
        """Lift `channel`'s pause (its Retry-After) and its backoff after a failure now, by an operator's decision:
        both are gone, and its outstanding rows held by a Retry-After (`not_before` after `now`) or deferred by the
        backoff (`next_attempt_at` after `now`, up to the backoff's end) are due; a row held to a later time of its
        own keeps it. Returns how many rows changed."""
        ...

    def delivery_counts(self, statuses: Collection[str] | None = None) -> dict[str, int]:
        """Rows per status (of `statuses` only, when given: read by the status index, so the count of a few open
        states does not cost the ledger's size, which the sent rows make)."""
        ...

    def delivery_stats(self, statuses: Collection[str] | None = None) -> dict[tuple[str, str], tuple[int, float]]:
        """(channel, status) -> (rows, the oldest row's `created_at`): what monitoring reads (/metrics, /healthz,
        `watchfloor status`) without loading the rows; of `statuses` only when given (as `delivery_counts`)."""
        ...


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """One Kafka record as a consumer read it: where it sat (partition, offset), its value's bytes as written,
    and its headers (key, value bytes), in their order. What a replay of the topic needs without the broker."""

    partition: int
    offset: int
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedPartition:
    """What a recorder holds of one partition: `records` of them, offsets `first` to `last`, and `position`, the
    offset after the last batch recorded (committed with it). `seen_end` is the partition's end offset as the
    recording consumer last knew it (None: never known), so a store can tell records it never got."""

    records: int
    first: int
    last: int
    position: int
    seen_end: int | None = None


class ReplanRefused(RuntimeError):
    """`DeliveryLedger.enqueue(replacing=)` met a row that is no longer untouched: nothing was written."""

    def __init__(self, alert_id: str, channel: str) -> None:
        self.alert_id = alert_id
        self.channel = channel
        super().__init__(f"the delivery {alert_id} -> {channel} was taken meanwhile: not planned again")


class RecordConflict(RuntimeError):
    """A record came for a (topic, partition, offset) kept with other bytes: not the same topic any more (deleted and
    made again under its name, its offsets from 0 again). Nothing of the batch is kept."""

    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        super().__init__(
            f"{topic}[{partition}] offset {offset} is kept with other content: the topic was deleted and made again "
            "since those records were archived; archive the new one into another store (`watchfloor archive --store "
            "URL`: until then this pipeline's detections and dead letters do not reach a store through the archive), "
            "or run the pipeline under a new --prefix (the kept records are the old topic's, for replay-workers)"
        )


@runtime_checkable
class RecordArchive(Protocol):
    """Kafka records kept as read, by (topic, partition, offset): `watchfloor archive` keeps the correlate topic's
    so that `replay-workers` replays what the workers raised after the broker has let the records go."""

    def record(self, topic: str, records: Sequence[TopicRecord], seen_end: Mapping[int, int] | None = None) -> int:
        """Keep each record whose (topic, partition, offset) is not kept yet, and move each partition's position
        past its last record of the batch (never back), with `seen_end` (partition -> end offset known) if given,
        in one transaction. Returns how many records were new. A record kept already with other bytes (value or
        headers) raises RecordConflict, and nothing of the batch is kept."""
        ...

    def record_positions(self, topic: str) -> dict[int, int]:
        """partition -> the offset after the last record kept (where a consumer resumes)."""
        ...

    def recorded_partitions(self, topic: str) -> dict[int, RecordedPartition]:
        """What is kept of each partition of `topic` (none: {})."""
        ...

    def read_records(self, topic: str, partition: int, after: int = -1, *, limit: int = 1000) -> list[TopicRecord]:
        """Records of one partition with offset > `after`, in offset order."""
        ...


class Store(EventLog, CheckpointStore, DeliveryLedger, Protocol):
    """Everything the embedded runtime keeps: one transactional store."""


@runtime_checkable
class ConflictCheck(Protocol):
    """An event log that can tell a re-sent event from a different one under the same id."""

    def find_conflicts(self, events: Sequence[Event]) -> list[str]:
        """Ids of `events` already in the log with another type or payload."""
        ...


@runtime_checkable
class EditionCount(Protocol):
    """An event log that can count the editions of feed items it holds (schemas.events.EDITION_MARK) by their ids,
    without reading the log: a feed's producer bounds the editions of one item by it (producers/publish.py)."""

    def count_editions(self, doc_ids: Sequence[str]) -> dict[str, int]:
        """For each of `doc_ids`, how many events of the log are editions of it (their id `ID#edition-HASH`)."""
        ...


@runtime_checkable
class EditionLatest(Protocol):
    """An event log that can tell the latest edition of feed items it holds, by their ids: a feed's producer compares
    an item its checkpoint no longer names with it (producers/publish.py), so the checkpoint's map may forget items."""

    def latest_editions(self, doc_ids: Sequence[str]) -> dict[str, Event]:
        """For each of `doc_ids` that has editions in the log (ids `ID#edition-HASH`), the one appended last."""
        ...


@dataclass(frozen=True, slots=True)
class PruneStep:
    """What one batch of a prune did: `to`, the position the prune is done to (the next batch starts after it; the
    batch's `up_to` when it reached it), documents whose text it removed, and the payload bytes that went with it."""

    to: int
    stripped: int
    freed: int


@runtime_checkable
class DocumentRetention(Protocol):
    """An event log that can bound its size: remove the text of old documents it holds (stores.pruning), keeping
    each event's id, type, event time and position. `watchfloor store prune` (watchfloor/retention.py) decides what
    may go; the store only does it, one short transaction per call."""

    def strip_documents(self, before: datetime, after: int, up_to: int, *, limit: int = 2000) -> PruneStep:
        """In one transaction, of the next `limit` documents after position `after` and at or below `up_to`, remove
        the text of those whose event time is before `before` (an instant). Idempotent: a document pruned already
        is left as it is."""
        ...

    def checkpoint_positions(self) -> dict[str, int]:
        """Every checkpoint the store holds: name -> position (what a prune must not pass)."""
        ...

    def forget_checkpoint(self, processor: str, *, at: int, record: tuple[str, str, Any] | None = None) -> bool:
        """Delete a checkpoint that is still at position `at` (a compare-and-delete) and, in the same transaction,
        note what was forgotten, for those who must still know: `record` (name, key, value) sets `key` of the state of
        checkpoint `name` (a JSON object; created at position 0) to `value`, keeping its other keys, read and
        written in that transaction after any other forget's (two run at once both keep their entries). True when
        it was deleted, False when there is none (nothing written); CheckpointMoved when it is at another position
        (its processor is still running: it must be stopped first). For a reader that is gone for good, which would
        otherwise hold every prune back (`watchfloor store forget-relay`)."""
        ...

    def reclaim_space(self, *, during_prune: bool = False) -> str:
        """Give the space pruned rows left back (SQLite: VACUUM; PostgreSQL: VACUUM of the events table; memory:
        nothing), outside any transaction; returns what it did, in a few words ("" for nothing). `during_prune`:
        a call between a prune's batches, where only what is cheap and helps the rest of the prune is done
        (PostgreSQL: the dead row versions of the batches so far made reusable by the next ones)."""
        ...


@runtime_checkable
class EditionBound(Protocol):
    """An event log that holds the bound on a feed item's editions (producers/publish.py) where two producers of one
    feed cannot both pass it: the count and the write in one transaction, under the store's write lock."""

    def append_bounded(
        self, events: Sequence[Event], max_editions: int, checkpoint: tuple[str, Checkpoint] | None = None
    ) -> tuple[int, list[str]]:
        """Append `events` (dedup by id), with `checkpoint` saved in the same transaction when given (as `commit`
        without `since`), leaving out each new edition (an id `ID#edition-HASH`) whose item has `max_editions`
        editions in the log at the write, counting those before it in `events`: (added, the ids left out)."""
        ...
