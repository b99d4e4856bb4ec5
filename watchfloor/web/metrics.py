"""Prometheus metrics derived from the log at scrape time (a custom collector), not counters threaded
through every module: the log already knows what was ingested, dead-lettered, detected and delivered, in
every process that wrote it. Only what the log cannot tell is measured apart: poll durations and failures per
source, and the feed edits each source left out past its max_editions (the pipeline's heartbeat, see
activity.record_cycle), and the delivery ledger: what is outstanding, expired or held per channel now, and which
channels are paused by their server's Retry-After (until when). The detection ->
delivered latency is the log's too (a `sent` delivery event's time minus its detection's raise time), observed as the
events are read, so a scrape costs what was sent since the last one, not the ledger's size; only a delivery whose
raise time the log lacks (a digest, a throttle summary) is looked up in the ledger, by key, for its row's creation.
With a broker configured, the Kafka pipeline's consumer groups and published watermark come from the broker (a
cached, bounded look: broker.KafkaProbe), through the collector's `extra`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR, CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import INTAKE_TYPES, holder_may_live
from watchfloor.alerts.dispatcher import PROCESSOR as INTAKE
from watchfloor.alerts.throttle import HELD, summary_thread
from watchfloor.stream_processors.kafka.clients import Availability
from watchfloor.stream_processors.kafka.late import OUTCOMES, late_checkpoint, read_late_documents
from watchfloor.stream_processors.ports import DeliveryLedger, Store
from watchfloor.stream_processors.stores.errors import StoreError, store_problem
from watchfloor.stream_processors.stores.sql import WRITE_TIMEOUT

from .activity import LATENCY_BUCKETS, Activity, ActivityView, Heartbeat, Latencies, buckets_of, heartbeat
from .broker import KafkaView


def write_problem(store: object) -> str | None:
    """Why this process's last write to the store failed, while no later one went through (SqlStore's
    `write_problem`); None for a store that does not keep it."""
    problem = getattr(store, "write_problem", None)
    return problem if isinstance(problem, str) else None


def write_locked_for(store: object, every: float) -> float | None:
    """Seconds another writer has held the store's write lock, unbroken, as SqlStore.write_locked_for sees it (a
    look at most every `every` s, never waiting); None while it is free, or for a store that cannot tell."""
    look = getattr(store, "write_locked_for", None)
    if look is None:
        return None
    held = look(every)
    return held if isinstance(held, float) else None


def lock_verdict(held: float | None, after: float) -> tuple[str, str] | None:
    """What a write lock held elsewhere for `held` seconds makes of the store: None (free, or held for less than
    `after`: a busy writer's moment), ("degraded", why): the pipeline's writes wait for it, or ("down", why): held
    past the write timeout, so a write that waited for it failed."""
    if held is None or held < after:
        return None
    if held >= WRITE_TIMEOUT:
        return "down", (
            f"locked by another writer for {held:.0f}s: past the {WRITE_TIMEOUT:g}s write timeout, writes fail"
        )
    return "degraded", f"locked by another writer for {held:.0f}s: writes wait for it (up to {WRITE_TIMEOUT:g}s)"


@dataclass(frozen=True, slots=True)
class IntakeBacklog:
    """Notify's intake as the store tells it: the detections and retractions after its checkpoint (no `notify`, nor
    `run`'s or `worker --dispatch`'s dispatcher, has taken them in: the ledger holds no row of them yet), and that
    checkpoint (0: none recorded, no dispatcher has ever run on this store)."""

    waiting: int
    position: int

    @property
    def ran(self) -> bool:
        return self.position > 0


class IntakeWatch:
    """Notify's intake as this server's successive looks (/healthz, /metrics, the status page) see it; shared by the
    server's threads.

    The backlog is counted over the log's (type, position) index, as `watchfloor status` counts it, but only once in
    full (the first look): each later look counts what the intake took in since the last (between its checkpoints)
    and what the log gained (after the head counted), so a look costs what changed, not the backlog (a store no
    notify ever ran on holds every detection in it: BENCHMARKS.md, "notify's intake on /metrics"). The log is
    append-only, and a checkpoint that went back, or a head that did, is counted again in full.

    Stalled: how long the intake has had detections waiting and taken none in, as broker.KafkaProbe tells a consumer
    group's: the time since the first look that saw its checkpoint where it still is with detections after it; 0 when
    none wait, when it has moved since the last look (it takes them in: a notify behind is busy, not stuck), or when
    it has never run (nothing to be stuck; a warning says so). A lower bound, as fine as the looks are frequent, and 0
    at this server's first look."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: tuple[int, float] | None = None  # (checkpoint, when first seen there with detections waiting)
        self._counted: tuple[int, int, int] | None = None  # (checkpoint, head, detections and retractions between)

    def look(self, store: Store, now: float) -> tuple[IntakeBacklog, float]:
        """The intake's backlog now, and how long it has stalled (seconds)."""
        with self._lock:
            position = store.checkpoint_position(INTAKE)
            head = store.head()  # (after the checkpoint: never behind it)
            waiting = self._count(store, position, head)
            self._counted = (position, head, waiting)
            backlog = IntakeBacklog(waiting, position)
            if not waiting or not backlog.ran:
                self._since = None
                return backlog, 0.0
            if self._since is None or self._since[0] != position:
                self._since = (position, now)
                return backlog, 0.0
            return backlog, max(now - self._since[1], 0.0)

    def _count(self, store: Store, position: int, head: int) -> int:
        def between(after: int, up_to: int) -> int:
            return store.count(types=INTAKE_TYPES, after=after, up_to=up_to) if up_to > after else 0

        got = self._counted
        if got is None or position < got[0] or head < got[1] or position > head:
            return between(position, head)
        was, counted_to, n = got
        # less what the intake took in since the last look, plus what the log gained after the head counted then
        return n - between(was, min(position, counted_to)) + between(max(counted_to, position), head)


class LogCollector:
    """Yields watchfloor's metrics from the store on each scrape (reading only what is new since the last)."""

    def __init__(
        self,
        store: Store,
        view: ActivityView,
        control: ControlLog,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        extra: Callable[[], Iterator[Metric]] | None = None,
        channels: Sequence[str] = (),
        store_watch: Availability | None = None,
        probe_every: float = 1.0,
        locked_after: float = 2.0,
        pipeline_max_age: float | None = None,
        intake_watch: IntakeWatch | None = None,
        kafka_group: str | None = None,
        may_live: Callable[[str], bool] = holder_may_live,
    ) -> None:
        self.store = store
        self.may_live = may_live  # whether a presence record's process may still run (Services.may_live)
        # the Kafka workers' group: their extract agents' late documents per source are in the store (kafka.late)
        self.kafka_group = kafka_group
        self.view = view
        self.control = control
        self.now = now
        self.extra = extra
        self.channels = tuple(channels)  # configured channels: their delivery gauges are there from the start (0)
        self.store_watch = store_watch  # the server's: a store outage is logged once, not per scrape
        self.probe_every = probe_every  # the write lock's look (Services.store_probe_every, store_locked_after)
        self.locked_after = locked_after
        self.pipeline_max_age = pipeline_max_age  # Services.pipeline_max_age: the pipeline runs in this process
        self.intake_watch = intake_watch or IntakeWatch()  # the server's (Services.intake_watch), shared with /healthz

    def collect(self) -> Iterator[Metric]:
        """Every metric, or, while the store cannot be read, watchfloor_store_up 0 and what comes from elsewhere
        (the Kafka broker): a failed scrape would lose every series, and older numbers would pass for current."""
        up = GaugeMetricFamily(
            "watchfloor_store_up",
            "Whether the store answered this scrape and this process's last write to it went through (1); 0: it did "
            "not answer (the other store metrics are then absent), the last write failed, or another writer has "
            "held its write lock past the write timeout.",
        )
        locked = GaugeMetricFamily(
            "watchfloor_store_write_locked_seconds",
            "How long another writer has held the store's write lock, unbroken, as last looked at (0: free). The "
            "pipeline's writes wait for it, and fail past the write timeout (30 s).",
        )
        try:
            # gathered before any is yielded: a store that fails halfway leaves no half-written families
            from_store = list(self._from_store())
        except StoreError as e:
            if self.store_watch is not None:
                self.store_watch.down(store_problem(e), lasting=True)
            up.add_metric([], 0)
            yield up
        else:
            failed_write = write_problem(self.store)  # readable, but the last write failed (trial 19, M1)
            held = write_locked_for(self.store, self.probe_every)  # before a write fails: the lock held elsewhere
            verdict = lock_verdict(held, self.locked_after)
            if failed_write is None and verdict is not None and verdict[0] == "down":
                failed_write = verdict[1]
            if self.store_watch is not None:
                if failed_write is None:
                    self.store_watch.up()
                else:
                    self.store_watch.down(failed_write, lasting=True)
            up.add_metric([], 1 if failed_write is None else 0)
            yield up
            locked.add_metric([], held or 0.0)
            yield locked
            yield from from_store
        if self.extra is not None:
            yield from self.extra()

    def _from_store(self) -> Iterator[Metric]:
        a = self.view.refresh_unless_warming()  # None while the server's first read of the log goes on
        warming = GaugeMetricFamily(
            "watchfloor_metrics_warming",
            "1 while the server's first read of the log (no web:activity checkpoint yet, or one far behind) goes on in "
            "the background: the counts read from the log (documents, dead letters, signals, detections, alerts, "
            "deliveries, the latency histogram) are left out until it ends rather than shown partial; 0 after.",
        )
        warming.add_metric([], 0 if a is not None else 1)
        yield warming
        if a is not None:
            yield from self._counts(a)
        yield from self._ledger()
        yield from self._intake()
        if a is not None:
            yield from self._latency()
        yield from self._heartbeat()
        yield from self._control()
        head = GaugeMetricFamily("watchfloor_log_head", "Position of the newest event in the log.")
        # store.head(), not the activity's position: that is the newest event of the types the activity reads,
        # which lags the log (and /healthz) whenever the newest event is another type, e.g. `caught_up`.
        head.add_metric([], self.store.head())
        yield head

    def _counts(self, a: Activity) -> Iterator[Metric]:
        docs = CounterMetricFamily(
            "watchfloor_documents_ingested", "Documents accepted into the log, per source.", labels=["source"]
        )
        for source, n in sorted(a.documents.items()):
            docs.add_metric([source], n)
        yield docs
        dead = CounterMetricFamily(
            "watchfloor_dead_letters",
            "Records refused into the dead-letter log, per stage and reason (particulars removed).",
            labels=["stage", "reason"],
        )
        for (stage, reason), n in sorted(a.dead_letters.items()):
            dead.add_metric([stage, reason], n)
        yield dead
        sig = CounterMetricFamily("watchfloor_signals", "Signals extracted, per signal.", labels=["signal"])
        for name, n in sorted(a.signals.items()):
            sig.add_metric([name], n)
        yield sig
        det = CounterMetricFamily("watchfloor_detections", "Detections raised, per rule.", labels=["rule"])
        for rule, n in sorted(a.detections.items()):
            det.add_metric([rule], n)
        yield det
        alerts = CounterMetricFamily(
            "watchfloor_alerts", "Detections routed to at least one channel, per rule.", labels=["rule"]
        )
        for rule, n in sorted(a.alerts.items()):
            alerts.add_metric([rule], n)
        yield alerts
        deliv = CounterMetricFamily(
            "watchfloor_deliveries",
            "Delivery outcomes recorded, per channel and status (sent, failed, suppressed, ...).",
            labels=["channel", "status"],
        )
        # A channel's sent and failed series start at 0 once it has any outcome: Prometheus' increase() cannot see
        # a series' first sample, so a failed series born at its first failure would hide that failure from
        # WatchfloorDeliveriesFailing (deploy/prometheus-rules.yaml; outside trial 46, LOW-2).
        outcomes = dict(a.deliveries)
        for channel in {c for c, _s in a.deliveries}:
            for status in ("sent", "failed"):
                outcomes.setdefault((channel, status), 0)
        for (channel, status), n in sorted(outcomes.items()):
            deliv.add_metric([channel, status], n)
        yield deliv
        found = CounterMetricFamily(
            "watchfloor_deliveries_found",
            "Of the sent deliveries (watchfloor_deliveries, status sent), those found already posted in the channel: "
            "an earlier attempt had got through, so it was not posted again. Per channel.",
            labels=["channel"],
        )
        for channel in sorted(set(a.found) | {ch for ch, _ in a.deliveries}):
            found.add_metric([channel], a.found.get(channel, 0))
        yield found
        standing = GaugeMetricFamily(
            "watchfloor_alerts_standing",
            "Alerts standing now (raised, and not revised by another alert or withdrawn since), per rule: what "
            "`alerts list` counts standing.",
            labels=["rule"],
        )
        unacked = GaugeMetricFamily(
            "watchfloor_alerts_unacknowledged",
            "Of the alerts standing, those no one has acknowledged since they were raised (the Slack button or "
            "`alerts ack`, in any channel), per rule.",
            labels=["rule"],
        )
        for rule, (n, left) in a.standing.by_rule().items():
            standing.add_metric([rule], n)
            unacked.add_metric([rule], left)
        yield standing
        yield unacked

    def _ledger(self) -> Iterator[Metric]:
        stats = self.store.delivery_stats(("outstanding", "expired", HELD))  # (not the sent rows: the ledger's bulk)
        channels = sorted({ch for ch, _ in stats} | set(self.channels))
        for status, name, what in (
            (
                "outstanding",
                "watchfloor_deliveries_outstanding",
                "Deliveries outstanding (being retried), per channel.",
            ),
            ("expired", "watchfloor_deliveries_expired", "Deliveries given up (expired; watchfloor alerts redeliver)."),
        ):
            g = GaugeMetricFamily(name, f"{what} From the delivery ledger.", labels=["channel"])
            for ch in channels:
                g.add_metric([ch], stats.get((ch, status), (0, 0.0))[0])
            yield g
        oldest = oldest_outstanding(stats, self.now().timestamp())
        g = GaugeMetricFamily(
            "watchfloor_delivery_oldest_outstanding_seconds",
            "Seconds the oldest outstanding delivery of a channel has waited (0: none outstanding).",
            labels=["channel"],
        )
        for ch in channels:
            g.add_metric([ch], oldest.get(ch, 0.0))
        yield g
        # What `watchfloor status` shows as "held for summary": not the ledger's count of `held` rows, which keep
        # their status once a summary has listed them, but those after the channel's last summary.
        waiting = held_waiting(self.store, sorted(ch for ch, status in stats if status == HELD))
        now = self.now().timestamp()
        held = GaugeMetricFamily(
            "watchfloor_deliveries_held",
            "Alerts a channel's throttle held that no summary has listed yet (they wait for the window's end), per "
            "channel. From the delivery ledger.",
            labels=["channel"],
        )
        oldest_held = GaugeMetricFamily(
            "watchfloor_delivery_oldest_held_seconds",
            "Seconds the oldest alert held for a channel's next throttle summary has waited (0: none held).",
            labels=["channel"],
        )
        for ch in channels:
            n, first = waiting.get(ch, (0, 0.0))
            held.add_metric([ch], n)
            oldest_held.add_metric([ch], max(now - first, 0.0) if n and first > 0 else 0.0)
        yield held
        yield oldest_held
        # A channel's own Retry-After (a Slack 429): nothing of it is attempted before the pause ends, which the
        # outstanding count alone does not say (trial 19, M4). The ledger records only pauses the server asked for.
        pauses = self.store.channel_pauses(now)
        until = GaugeMetricFamily(
            "watchfloor_channel_paused_until_timestamp_seconds",
            "When a channel's pause ends (Unix time), per channel paused now because its server asked to wait "
            "(Retry-After); absent for a channel not paused. From the delivery ledger.",
            labels=["channel"],
        )
        left = GaugeMetricFamily(
            "watchfloor_channel_pause_remaining_seconds",
            "Seconds until a channel's pause ends, its server having asked to wait (Retry-After) (0: not paused).",
            labels=["channel"],
        )
        for ch in sorted(set(channels) | set(pauses)):
            if ch in pauses:
                until.add_metric([ch], pauses[ch])
            left.add_metric([ch], max(pauses.get(ch, now) - now, 0.0))
        yield until
        yield left

    def _intake(self) -> Iterator[Metric]:
        # Detections the ledger holds no row of yet, which the delivery gauges above cannot show: a stopped notify
        # left them all at 0 (trial 45).
        backlog, stalled_for = self.intake_watch.look(self.store, self.now().timestamp())
        waiting = GaugeMetricFamily(
            "watchfloor_detections_not_taken_in",
            "Detections and retractions in the log not yet taken in for delivery by notify's intake (nor by `run`'s "
            "dispatcher): the delivery ledger holds no row of them yet. Counted whether or not a notify has ever "
            "run on this store (watchfloor_intake_started says which).",
        )
        waiting.add_metric([], backlog.waiting)
        yield waiting
        started = GaugeMetricFamily(
            "watchfloor_intake_started",
            "1 once a notify (or `run`'s, or `worker --dispatch`'s, dispatcher) has taken detections in from this "
            "store; 0: none ever has, so its detections are delivered from nowhere (an analysis store, a first start).",
        )
        started.add_metric([], 1 if backlog.ran else 0)
        yield started
        stalled = GaugeMetricFamily(
            "watchfloor_intake_stalled_seconds",
            "Seconds notify's intake has had detections waiting and taken none in, as this server's successive looks "
            "see it (0: none waiting, it took some in since the last look, or it has never run). /healthz is "
            "degraded past health.delivery_outstanding.",
        )
        stalled.add_metric([], stalled_for)
        yield stalled

    def _latency(self) -> Iterator[Metric]:
        hist = HistogramMetricFamily(
            "watchfloor_detection_to_delivery_seconds",
            "From a detection being raised (the report that raised it received) to the channel accepting its "
            "message, per delivery sent (once, at its first send); queueing before and in the delivery ledger counts.",
        )
        got = self.view.latencies(lambda keys: created_at(self.store, keys))
        if got.n:
            hist.add_metric([], histogram_buckets(got), got.total)
        yield hist

    def _heartbeat(self) -> Iterator[Metric]:
        hb = heartbeat(self.store)
        polls = HistogramMetricFamily(
            "watchfloor_poll_duration_seconds",
            "How long a successful poll of a source took, per source "
            "(failed polls: watchfloor_source_poll_failures_total).",
            labels=["source"],
        )
        for origin, h in sorted(hb.polls.items()):
            polls.add_metric([origin], buckets_of(h), float(h.get("sum", 0.0)))
        yield polls
        failures = CounterMetricFamily(
            "watchfloor_source_poll_failures",
            "Polls of a source that failed (missing file, unreachable feed, not a feed), per source.",
            labels=["source"],
        )
        success = GaugeMetricFamily(
            "watchfloor_source_last_success_timestamp_seconds",
            "When a source was last polled without error (Unix time), per source; absent before its first success.",
            labels=["source"],
        )
        left_out = CounterMetricFamily(
            "watchfloor_source_editions_left_out",
            "Edits of feed items left out because the item had its source's max_editions already (each text once), "
            "per source.",
            labels=["source"],
        )
        for origin, st in sorted(hb.sources.items()):
            failures.add_metric([origin], int(st.get("failures", 0)))
            left_out.add_metric([origin], int(st.get("editions_left_out", 0)))
            if st.get("last_success"):
                success.add_metric([origin], datetime.fromisoformat(st["last_success"]).timestamp())
        yield failures
        yield success
        yield left_out
        late = CounterMetricFamily(
            "watchfloor_late_documents",
            "Documents beyond the allowed lateness the engine took (the embedded run's, and the Kafka workers' "
            "extract agents'), per source and outcome: passed_over (no detection reads them: counted, not "
            "dead-lettered) or dead_lettered (an event-time report 'late: ...').",
            labels=["source", "outcome"],
        )
        for origin, counts in sorted(late_documents(self.store, hb, self.kafka_group).items()):
            for outcome in OUTCOMES:
                late.add_metric([origin or "(no origin)", outcome], counts.get(outcome, 0))
        yield late
        cycles = CounterMetricFamily("watchfloor_pipeline_cycles", "Pipeline cycles finished (watchfloor run).")
        cycles.add_metric([], hb.cycles)
        yield cycles
        yield from self._processes(hb)
        age = hb.age(self.now())
        if age is not None:
            g = GaugeMetricFamily("watchfloor_last_cycle_age_seconds", "Seconds since the last pipeline cycle ended.")
            g.add_metric([], age)
            yield g
        started = hb.started_age(self.now())
        if started is not None:
            # A live `run` that has recorded no cycle since its start has no cycle age of its own: this one lets the
            # stalled alert fire for it too, and for nothing on a store no `run` ever started on (trial 50, MED-3).
            g = GaugeMetricFamily(
                "watchfloor_run_first_cycle_pending_seconds",
                "Seconds since the live `watchfloor run` started last, while it has recorded no cycle; absent "
                "otherwise.",
            )
            g.add_metric([], started)
            yield g
        stale_after = hb.stale_after(self.pipeline_max_age)
        if stale_after is not None:
            # /healthz's rule, for alerting on `watchfloor_last_cycle_age_seconds > this` (trial 42, MED-2)
            g = GaugeMetricFamily(
                "watchfloor_pipeline_stale_after_seconds",
                "The last cycle's age past which /healthz says the pipeline is stale: three of the live `run`'s poll "
                "intervals and a minute; absent for a `run --once` (idle between its runs).",
            )
            g.add_metric([], stale_after)
            yield g

    def _processes(self, hb: Heartbeat) -> Iterator[Metric]:
        """The processes on the store as `status` lists them, per release, and those gone without a clean stop, so
        that "fewer runs than we keep" can be alerted on (outside trial 76, F5)."""
        from .health import processes_gone, processes_seen  # (health reads this module's ledger helpers)

        now = self.now()
        running = GaugeMetricFamily(
            "watchfloor_processes",
            "Processes seen on the store lately (their presence records, as `watchfloor status` lists them), per "
            "watchfloor release; a release before presence records is '(earlier)'.",
            labels=["release"],
        )
        releases: dict[str, int] = {}
        for p in processes_seen(hb, now, self.may_live):
            releases[p.release or "(earlier)"] = releases.get(p.release or "(earlier)", 0) + 1
        for release, n in sorted(releases.items()):
            running.add_metric([release], n)
        yield running
        gone = GaugeMetricFamily(
            "watchfloor_processes_gone",
            "Processes whose presence record outlived them (killed, hung or cut off from the store: a clean stop "
            "removes it), last seen within the hour `status` names them.",
        )
        gone.add_metric([], len(processes_gone(hb, now, self.may_live)))
        yield gone

    def _control(self) -> Iterator[Metric]:
        subs = GaugeMetricFamily(
            "watchfloor_subscriptions", "Active subscriptions, per channel.", labels=["channel", "managed_by"]
        )
        count: dict[tuple[str, str], int] = {}
        for s in self.control.subscriptions():
            count[(s.channel, s.managed_by)] = count.get((s.channel, s.managed_by), 0) + 1
        for (channel, managed), n in sorted(count.items()):
            subs.add_metric([channel, managed], n)
        yield subs
        sil = GaugeMetricFamily("watchfloor_silences_active", "Silences holding alerts back now.")
        now = self.now()
        sil.add_metric([], sum(1 for s in self.control.silences() if s.active(now)))
        yield sil


def created_at(store: Store, keys: Collection[str]) -> dict[tuple[str, str], float]:
    """(key, channel) -> when its ledger row was queued, for the rows of `keys` (by key: the ledger's primary key)."""
    return {(r.alert_id, r.channel): r.created_at for r in store.deliveries(alert_ids=keys)}


def held_waiting(ledger: DeliveryLedger, channels: Sequence[str]) -> dict[str, tuple[int, float]]:
    """Channel -> (alerts its throttle held that no summary lists yet, the oldest one's `created_at`): the held rows
    after the position the channel's newest summary lists through (its seq), read by the (channel, seq) index. The
    held rows that summaries listed keep their status, so the ledger's count of `held` is not what still waits."""
    out: dict[str, tuple[int, float]] = {}
    for ch in channels:
        rows = ledger.deliveries(channel=ch, statuses={HELD}, after_seq=ledger.thread_end(ch, summary_thread(ch)))
        if rows:
            out[ch] = (len(rows), min(r.created_at for r in rows))
    return out


def histogram_buckets(h: Latencies) -> list[tuple[str, float]]:
    """Prometheus's cumulative buckets (le, count) of `h`, with +Inf."""
    buckets = [(str(b), float(n)) for b, n in zip(LATENCY_BUCKETS, h.counts, strict=True)]
    return [*buckets, ("+Inf", float(h.n))]


def given_up(stats: Mapping[tuple[str, str], tuple[int, float]]) -> dict[str, int]:
    """Channel -> its deliveries given up (expired), from the ledger's delivery_stats(). Any of them makes
    `watchfloor status` exit 3 and /healthz degraded: an alert given up reaches no one until it is re-sent, and no
    wait brings it (trial 36, LOW-1: /healthz said "ok" while `status` said given up). The one definition of both."""
    return {ch: n for (ch, status), (n, _) in sorted(stats.items()) if status == "expired" and n}


def maybe_delivered(store: DeliveryLedger) -> dict[str, int]:
    """Channel -> its given-up deliveries whose last attempt may have got through (unsure), read from the rows."""
    counts: dict[str, int] = {}
    for r in store.deliveries(statuses=("expired",)):
        if r.unsure:
            counts[r.channel] = counts.get(r.channel, 0) + 1
    return dict(sorted(counts.items()))


def oldest_outstanding(stats: Mapping[tuple[str, str], tuple[int, float]], now: float) -> dict[str, float]:
    """Channel -> seconds its oldest outstanding delivery has waited (from the ledger's delivery_stats())."""
    return {
        ch: max(now - created, 0.0)
        for (ch, status), (n, created) in stats.items()
        if status == "outstanding" and n and created > 0
    }


def late_documents(store: Store, hb: Heartbeat, group: str | None) -> dict[str, dict[str, int]]:
    """The late documents per source and outcome: the embedded run's (its heartbeat) and the Kafka workers' extract
    agents' (group `group`), summed for a store both ran on (/metrics and the status page)."""
    counted = kafka_late(store, group)
    for origin, counts in hb.late.items():
        mine = counted.setdefault(origin, {o: 0 for o in OUTCOMES})
        for outcome in OUTCOMES:
            mine[outcome] += int(counts.get(outcome, 0))
    return counted


def kafka_late(store: Store, group: str | None) -> dict[str, dict[str, int]]:
    """The late documents per source the extract agents of worker group `group` counted in `store` ({} without a
    group: no broker configured)."""
    return {} if group is None else read_late_documents(store, late_checkpoint(group))


def kafka_metrics(view: KafkaView, now: datetime, holder: Any = None) -> Iterator[Metric]:
    """The distributed pipeline's metrics from the last look at its broker; only whether it could be asked (and
    how often it could not) while it cannot: numbers of an older look would pass for current ones. `holder`: the
    source holding the published watermark back (relay.WatermarkHolder, from the outbox's relay state), if any."""
    up = GaugeMetricFamily(
        "watchfloor_kafka_up", "Whether the last look at the Kafka broker for the pipeline's status succeeded (1)."
    )
    up.add_metric([], 1 if view.up else 0)
    yield up
    failed = CounterMetricFamily(
        "watchfloor_kafka_status_failures",
        "Looks at the Kafka broker for the pipeline's status that failed (unreachable, timed out) since this "
        "server started.",
    )
    failed.add_metric([], view.failures)
    yield failed
    st = view.status
    if st is None or view.asked_at is None:
        return
    age = GaugeMetricFamily(
        "watchfloor_kafka_status_age_seconds",
        "Age of the broker's answer the watchfloor_kafka_* metrics come from (answers are reused a few seconds).",
    )
    age.add_metric([], max((now - view.asked_at).total_seconds(), 0.0))
    yield age
    caught = GaugeMetricFamily(
        "watchfloor_kafka_caught_up",
        "1 when every topic exists and the workers (and the archive, once it has run) have no lag, else 0.",
    )
    caught.add_metric([], 1 if st.caught_up else 0)
    yield caught
    missing = GaugeMetricFamily("watchfloor_kafka_topics_missing", "Topics of the pipeline's prefix that do not exist.")
    missing.add_metric([], len(st.missing))
    yield missing
    ends = CounterMetricFamily(
        "watchfloor_kafka_topic_records",
        "Records written to a topic: the sum of its partitions' end offsets.",
        labels=["topic"],
    )
    for topic, n in sorted(st.topics.items()):
        ends.add_metric([topic], n)
    yield ends
    running = [g for g in st.groups if g.started or g.role == "workers"]  # as caught_up counts them
    lag = GaugeMetricFamily(
        "watchfloor_kafka_consumer_lag",
        "Records a consumer group has yet to process: end offset minus committed offset, summed over a topic's "
        "partitions (never committed: from the beginning), for the workers and an archive that has run.",
        labels=["group", "topic"],
    )
    for g in running:
        for t in g.topics:
            lag.add_metric([g.group, t.topic], t.lag)
    yield lag
    behind = GaugeMetricFamily(
        "watchfloor_kafka_consumer_behind_seconds",
        "At least how long a consumer group's oldest unprocessed record has waited, from this server's successive "
        "looks at the broker (0: caught up with the last look; as fine as the looks are frequent).",
        labels=["group"],
    )
    for group, secs in sorted(view.behind.items()):
        behind.add_metric([group], secs)
    yield behind
    members = GaugeMetricFamily(
        "watchfloor_kafka_group_members", "Members of a consumer group of the pipeline.", labels=["group"]
    )
    for g in st.groups:
        members.add_metric([g.group], len(g.members))
    yield members
    marks = GaugeMetricFamily(
        "watchfloor_kafka_watermark_timestamp_seconds",
        "The newest event-time watermark the publisher wrote to a documents partition (Unix time); the workers' "
        "correlators reach the lowest of them once their lag is 0.",
        labels=["partition"],
    )
    for part, mark in sorted(st.watermarks.items()):
        marks.add_metric([str(part)], mark)
    yield marks
    low = st.watermark
    if low is not None:
        wm_age = GaugeMetricFamily(
            "watchfloor_kafka_watermark_age_seconds",
            "Seconds from the lowest published watermark (event time) to now: grows while no newer report arrives, "
            "and while a source holds event time back; absence windows close only as it moves.",
        )
        wm_age.add_metric([], max(now.timestamp() - low, 0.0))
        yield wm_age
    if holder is not None:  # which source holds event time back (outside trial 67, MED-3)
        held = GaugeMetricFamily(
            "watchfloor_kafka_watermark_held_by",
            "The source (origin) holding the published watermark back, from the relay's state in this store (the "
            "producer's outbox): the Unix time of its newest document received; it holds the watermark until it has "
            "been silent for event_time.idle_after after that.",
            labels=["origin"],
        )
        held.add_metric([holder.origin], holder.received.timestamp() if holder.received is not None else 0.0)
        yield held


def registry_for(collector: LogCollector) -> CollectorRegistry:
    """A registry of our own (not the process-global one), so several servers in one process do not clash, with
    prometheus-client's own collectors of the process (resident and virtual memory, CPU seconds, open files, start
    time: from /proc, so on Linux only), of the Python platform and of its garbage collector, as its global registry
    has them."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    for own in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(own)
    return registry
