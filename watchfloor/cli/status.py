"""The `watchfloor status` command: has the pipeline caught up? With a broker, lag per topic and group members; in
every deployment, the deliveries outstanding and given up in the store's delivery ledger."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from watchfloor.alerts.throttle import HELD
from watchfloor.schemas.rules import format_elapsed
from watchfloor.schemas.topics import TopicNames

from ._common import ConfigOpt, app, app_config, broker_origin, counted, err, fail, out, redact_url
from .distributed import KAFKA_EXTRA, BrokerOpt, PrefixOpt, StoreOpt, settings_for

_Look = TypeVar("_Look")


@dataclass
class Deliveries:
    """The delivery ledger's state, per channel: outstanding rows (and the oldest one's age), expired rows."""

    store: str
    outstanding: dict[str, int] = field(default_factory=dict)
    oldest_seconds: dict[str, float] = field(default_factory=dict)
    expired: dict[str, int] = field(default_factory=dict)
    # Of the expired rows, those whose last attempt may have got through (unsure): `redeliver --all-expired` skips
    # them, and "not delivered" would be wrong (outside trial 23, M3-5).
    maybe_delivered: int = 0
    # Alerts a channel's throttle held that no summary lists yet: they wait for their window to end, when the summary
    # that lists them is queued (an outstanding delivery then). Not pending work: the verdict does not wait for them.
    held: dict[str, int] = field(default_factory=dict)
    oldest_held_seconds: dict[str, float] = field(default_factory=dict)
    # Channels paused by their own server's Retry-After (a Slack 429) -> when the pause ends (Unix time): their
    # outstanding rows are not attempted before then, by any dispatcher (trial 19, M4).
    paused: dict[str, float] = field(default_factory=dict)
    problem: str | None = None  # why the ledger could not be read (then nothing is known of the deliveries)
    # Detections and retractions in the store after the intake's checkpoint: no `notify` has taken them in, so the
    # ledger holds no row of them yet (trial 45, MED-2: "caught up, none outstanding" while notify had 46 deliveries
    # still to make). `intake_ran`: the intake has a checkpoint in this store (a `notify` ran on it).
    not_taken_in: int = 0
    intake_ran: bool = True

    @property
    def pending(self) -> int:
        return sum(self.outstanding.values())

    @property
    def given_up(self) -> int:
        return sum(self.expired.values())

    @property
    def held_total(self) -> int:
        return sum(self.held.values())

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "store": self.store,
            "outstanding": self.outstanding,
            "oldest_outstanding_seconds": {ch: round(v, 3) for ch, v in self.oldest_seconds.items()},
            "expired": self.expired,
            "expired_maybe_delivered": self.maybe_delivered,
            "given_up": self.given_up,
            "held": self.held,
            "oldest_held_seconds": {ch: round(v, 3) for ch, v in self.oldest_held_seconds.items()},
            "paused_until": {
                ch: {"until": datetime.fromtimestamp(u, UTC).isoformat(), "why": "the server asked (Retry-After)"}
                for ch, u in self.paused.items()
            },
        }
        d["detections_not_taken_in"] = self.not_taken_in
        if self.problem is not None:
            d["problem"] = self.problem
        return d

    def intake_text(self) -> str:
        """The verdict's words for detections no `notify` has taken in yet ('' when none)."""
        if not self.not_taken_in:
            return ""
        text = f"{counted(self.not_taken_in, 'detection')} not yet taken in for delivery by `notify`"
        return text + ("" if self.intake_ran else " (none ever: is `watchfloor notify` running on this store?)")


def _other_schema(d: Deliveries) -> bool:
    """Whether the ledger was not read because the store is of an older or newer schema (review 22, F6): not "caught
    up", whatever else says so, as its deliveries are not known."""
    return d.problem is not None and "schema is version" in d.problem


def read_deliveries(url: str) -> Deliveries:
    """The ledger of the store at `url`, read only (a store that is not there is not made: said instead)."""
    from watchfloor.alerts.dispatcher import INTAKE_TYPES, PROCESSOR
    from watchfloor.web.metrics import given_up, held_waiting, oldest_outstanding  # (what /metrics reports too)
    from watchfloor.wiring import open_store

    got = Deliveries(store=redact_url(url))
    try:
        st = open_store(url, create=False, upgrade=False)
    except Exception as e:
        got.problem = f"{type(e).__name__}: {e}"
        return got
    try:
        stats = st.delivery_stats(("outstanding", "expired", HELD))
        if any(status == "expired" for _ch, status in stats):  # rare, and few: read to count the unsure ones
            got.maybe_delivered = sum(r.unsure for r in st.deliveries(statuses=("expired",)))
        waiting = held_waiting(st, sorted(ch for ch, status in stats if status == HELD))
        got.paused = dict(sorted(st.channel_pauses(time.time()).items()))
        # The intake's own checkpoint against the log's end (the count over the store's (type, position) index).
        taken_to = st.checkpoint_position(PROCESSOR)  # (0: none recorded)
        got.intake_ran = taken_to > 0
        got.not_taken_in = st.count(types=INTAKE_TYPES, after=taken_to)
    except Exception as e:
        got.problem = f"{type(e).__name__}: {e}"
        return got
    finally:
        st.close()
    for (ch, status), (n, _) in sorted(stats.items()):
        if status == "outstanding":
            got.outstanding[ch] = n
    got.expired = given_up(stats)  # (as /healthz reads them: any makes both not ok)
    now = time.time()
    got.oldest_seconds = dict(sorted(oldest_outstanding(stats, now).items()))
    for ch, (n, oldest) in waiting.items():
        got.held[ch] = n
        if oldest > 0:
            got.oldest_held_seconds[ch] = max(now - oldest, 0.0)
    return got


def read_alert_acks(url: str) -> Any:
    """The alerts standing in the store at `url` and how many of them are acknowledged (alerts.standing), read once
    (not per look of --wait); None when the store cannot be read (the deliveries' line says why)."""
    from watchfloor.alerts.standing import read_standing_acks
    from watchfloor.wiring import open_store

    try:
        st = open_store(url, create=False, upgrade=False)
    except Exception:
        return None
    try:
        return read_standing_acks(st)
    except Exception:
        return None
    finally:
        st.close()


def alert_acks_json(acks: Any) -> dict[str, Any] | None:
    """`status --json`'s `alerts`: standing, acknowledged and unacknowledged, and per rule (None: not read)."""
    if acks is None:
        return None
    return {
        "standing": acks.total,
        "unacknowledged": acks.unacknowledged,
        "acknowledged": acks.acknowledged,
        "by_rule": {rule: {"standing": n, "unacknowledged": u} for rule, (n, u) in acks.by_rule().items()},
    }


def alert_acks_text(acks: Any) -> str | None:
    """'alerts standing: 7, 5 of them unacknowledged (2 acknowledged): `watchfloor alerts list` names them' (None: the
    store could not be read)."""
    if acks is None:
        return None
    if not acks.total:
        return "alerts standing: none"
    if not acks.unacknowledged:
        return f"alerts standing: {acks.total:,}, every one acknowledged"
    return (
        f"alerts standing: {acks.total:,}, [yellow]{acks.unacknowledged:,} of them unacknowledged[/yellow] "
        f"({acks.acknowledged:,} acknowledged): `watchfloor alerts list` names them, `watchfloor alerts ack ID` "
        "takes one"
    )


def deliveries_text(n: int) -> str:
    return counted(n, "delivery", "deliveries")


def pending_text(d: Deliveries) -> str:
    """'3 deliveries outstanding' for the verdict, with the channels paused by a Retry-After named (what they wait
    for is the server, not us)."""
    text = f"{deliveries_text(d.pending)} outstanding"
    paused = [
        f"channel {ch} paused until {datetime.fromtimestamp(u, UTC).strftime('%H:%M:%S UTC')} by its Retry-After"
        for ch, u in d.paused.items()
    ]
    return text + (f", {', '.join(paused)}" if paused else "")


NEVER_POLLED = "never polled"  # how an unread RSS or GDELT source's entry in `sources_unread` begins


@dataclass
class Backlog:
    """An embedded store's work not done yet: documents the rules have not read, detections and retractions the
    dispatcher has not taken in (the ledger does not hold them yet)."""

    documents: int = 0
    detections: int = 0
    failing: dict[str, tuple[float, str]] = field(default_factory=dict)  # source -> (seconds failing, last error)
    pruned: Any = None  # retention.PrunedRange: what `store prune` has pruned (None: never)
    unread: dict[str, str] = field(default_factory=dict)  # JSON Lines source -> what a poll has not read of it yet
    # the channels whose check failed at the last dispatcher start, (channel, why), and when (a warning, no verdict)
    channel_checks: tuple[tuple[str, str], ...] = ()
    channels_checked_at: str | None = None
    # of those, the ones a delivery sent there since supersedes: channel -> (why, its last sent delivery, epoch s)
    channel_checks_superseded: dict[str, tuple[str, float]] = field(default_factory=dict)
    heartbeat: Any = None  # web.activity.Heartbeat: the live `run` that wrote the last cycle, and its rules
    # GDELT lastupdate.txt source -> (the time of the last export read, listed files not found yet); no verdict
    gdelt_read: dict[str, tuple[datetime, list[str]]] = field(default_factory=dict)
    # GDELT folder source -> the files its polls passed over as damaged (each also a dead letter); no verdict
    gdelt_damaged: dict[str, list[str]] = field(default_factory=dict)

    def reasons(self) -> list[str]:
        why = unread_reasons(self.unread)
        if self.documents:
            why.append(f"{counted(self.documents, 'document')} not yet read by the rules")
        if self.detections:
            why.append(f"{counted(self.detections, 'detection')} not yet taken in for delivery")
        return why


def read_backlog(url: str, sources: Sequence[Any] = ()) -> Backlog:
    """The embedded runner's and the dispatcher's backlog in the store at `url` (read only); `sources`: those the
    config given names, whose JSON Lines files with lines and no saved position are unread too."""
    from watchfloor.alerts.dispatcher import INTAKE_TYPES, PROCESSOR
    from watchfloor.producers.poller import gdelt_exports_read, gdelt_files_damaged, never_read_sources, unread_sources
    from watchfloor.schemas.events import DOCUMENT_TYPES
    from watchfloor.stream_processors.ports import DocumentRetention
    from watchfloor.stream_processors.runner import ENGINE_PROCESSOR
    from watchfloor.web.activity import heartbeat, superseded_checks
    from watchfloor.wiring import open_store

    from ..retention import pruned_range

    st = open_store(url, create=False, upgrade=False)
    try:
        hb = heartbeat(st)
        checks = superseded_checks(st, hb)  # (trial 54, LOW-1: one seek of the sent rows' index per failed channel)
        unread = {**unread_sources(st), **never_read_sources(st, sources)} if isinstance(st, DocumentRetention) else {}
        if hb.finished_at is not None:
            # A feed or GDELT source has no lines to count, but the `run` that wrote the last cycle records each
            # source it polled: one the config names that it never polled (added since it started) is unread work.
            # (JSON Lines sources are told by their lines above; with no cycle recorded nothing can be told.)
            for source in sources:
                origin = redact_url(getattr(source, "path", None) or source.url)
                if getattr(source, "kind", None) != "jsonl" and origin not in hb.sources:
                    unread.setdefault(origin, f"{NEVER_POLLED} by the watchfloor run that wrote the last cycle")
        return Backlog(
            # Counted by the store over its (type, position) index: reading them (as before) cost 6 s per 100k
            # documents behind (trial 18, H1).
            documents=st.count(types=DOCUMENT_TYPES, after=st.checkpoint_position(ENGINE_PROCESSOR)),
            detections=st.count(types=INTAKE_TYPES, after=st.checkpoint_position(PROCESSOR)),
            # The sources whose last poll failed, as `run` recorded them for /healthz (trial 14, L5: "caught up",
            # exit 0, while 9 sources failed).
            failing=hb.failing(datetime.now(UTC)),
            channel_checks=checks.standing,
            channel_checks_superseded=checks.superseded,
            channels_checked_at=hb.channels_checked_at,
            heartbeat=hb,
            pruned=pruned_range(st),
            unread=unread,  # (every store: memory, SQL)
            gdelt_read=gdelt_exports_read(st, sources),
            gdelt_damaged=gdelt_files_damaged(st, sources),
        )
    finally:
        st.close()


def late_counts(counts: Mapping[str, int], *, on_topic: bool = False) -> str:
    """'340 late documents passed over (no detection reads them), 2 dead-lettered (`watchfloor dead-letters
    --stage event-time`)': what `run` did with a source's documents beyond the lateness. `on_topic`: the workers'
    dead letters, which that command lists once `archive` has stored them (outside trial 80, F7: without `archive`
    it listed none)."""
    where = "`watchfloor dead-letters --stage event-time`"
    if on_topic:
        where += " once `watchfloor archive` stored them"
    return (
        f"{counted(counts.get('passed_over', 0), 'late document')} passed over (no detection reads them), "
        f"{counts.get('dead_lettered', 0):,} dead-lettered ({where})"
    )


def read_kafka_repeats(url: str, topic: str) -> int:
    """The records of `topic` the archive found repeating one before them (kafka.repeats), in the store at `url`;
    0 when none were, or the store cannot be read."""
    from watchfloor.stream_processors.kafka.repeats import read_repeats
    from watchfloor.wiring import open_store

    try:
        st = open_store(url, create=False, upgrade=False)
    except Exception:
        return 0
    try:
        return read_repeats(st, topic)
    except Exception:
        return 0
    finally:
        st.close()


def read_watermark_holder(url: str, prefix: str, idle_after: timedelta, now: datetime) -> Any:
    """The source holding the pipeline's published watermark back (relay.WatermarkHolder), from the relay's state in
    the outbox at `url`, as of `now`; None when none does, or the store is not `produce`'s outbox (or cannot be
    read)."""
    from watchfloor.producers.relay import target_checkpoint, watermark_holder
    from watchfloor.wiring import open_store

    try:
        st = open_store(url, create=False, upgrade=False)
    except Exception:
        return None
    try:
        return watermark_holder(st, target_checkpoint("", prefix), idle_after, now)
    except Exception:
        return None
    finally:
        st.close()


def read_kafka_late(url: str, group: str) -> dict[str, dict[str, int]]:
    """The late documents per source the extract agents of worker group `group` counted in the store at `url`
    (kafka.late: {"passed_over": n, "dead_lettered": n}); {} when none were, or the store cannot be read."""
    from watchfloor.stream_processors.kafka.late import late_checkpoint, read_late_documents
    from watchfloor.wiring import open_store

    try:
        st = open_store(url, create=False, upgrade=False)
    except Exception:
        return {}
    try:
        return read_late_documents(st, late_checkpoint(group))
    except Exception:
        return {}
    finally:
        st.close()


def read_processes(url: str) -> tuple[list[Any], list[Any]]:
    """The processes whose presence records the store at `url` holds: those seen lately and those whose record
    outlived them (killed), as `status` lists them without a broker (web.health), for `status --broker`: the
    workers, `produce` and `archive` keep theirs there (outside trial 78). ([], []) when it cannot be read."""
    from watchfloor.web.activity import heartbeat
    from watchfloor.web.health import processes_gone, processes_seen
    from watchfloor.wiring import open_store

    try:
        st = open_store(url, create=False, upgrade=False)
    except Exception:
        return [], []
    try:
        hb = heartbeat(st)
        now = datetime.now(UTC)
        return processes_seen(hb, now), processes_gone(hb, now)
    except Exception:
        return [], []
    finally:
        st.close()


def print_processes(seen: Sequence[Any], gone: Sequence[Any]) -> None:
    """The processes on the store (web.health.processes_seen) and those gone without a clean stop (a warning)."""
    from watchfloor.web.health import processes_line

    several = processes_line(list(seen))
    if several is not None:
        err.print(f"[yellow]{escape(several)}[/yellow]", highlight=False)
    elif seen:
        err.print(f"1 process runs on this store: {escape(seen[0].describe())}", highlight=False)
    for g in gone:
        err.print(f"[yellow]{escape(g.describe())}[/yellow]", highlight=False)


def print_late(late: Mapping[str, Mapping[str, int]], *, on_topic: bool = False) -> None:
    """A line per source with documents beyond the lateness (`status`, embedded and with a broker: `on_topic`)."""
    for origin, counts in sorted(late.items()):
        # A backfill's late documents: those no detection reads passed over, the rest in the dead-letter log
        # (outside trial 67, MED-4)
        said = late_counts(counts, on_topic=on_topic)
        err.print(f"source {escape(origin or 'with no origin')}: {said}", highlight=False)


def read_outbox_unread(url: str, sources: Sequence[Any] = ()) -> dict[str, str]:
    """With a broker: the JSON Lines sources `produce` has not read to their end, from its positions in its outbox
    (the store at `url`), as `read_backlog` tells them for `run` (trial 50: `status --broker` said "caught up" with a
    configured file never read). A configured file with no position counts as never read only when the store holds
    a source position at all: a store no `produce` polls into (its outbox elsewhere, on the producer's host) would
    otherwise call every source never read. A store that cannot be read tells nothing here (said by the ledger's
    look)."""
    from watchfloor.producers.poller import never_read_sources, unread_sources
    from watchfloor.stream_processors.ports import DocumentRetention
    from watchfloor.wiring import open_store

    try:
        st = open_store(url, create=False, upgrade=False)
    except Exception:
        return {}
    try:
        if not isinstance(st, DocumentRetention):
            return {}
        unread = unread_sources(st)
        if any(name.startswith("source:") for name in st.checkpoint_positions()):
            unread.update(never_read_sources(st, sources))
        return unread
    except Exception:
        return {}
    finally:
        st.close()


def unread_reasons(unread: Mapping[str, str]) -> list[str]:
    """'2 sources with lines not read yet', '1 source never polled': the verdict's reasons for `unread`."""
    why = []
    unpolled = sum(1 for what in unread.values() if what.startswith(NEVER_POLLED))
    if len(unread) > unpolled:
        why.append(f"{counted(len(unread) - unpolled, 'source')} with lines not read yet")
    if unpolled:
        why.append(f"{counted(unpolled, 'source')} never polled")
    return why


def print_unread(unread: Mapping[str, str]) -> None:
    """A line per source not read to its end (`status`, embedded and with a broker)."""
    for path, what in sorted(unread.items()):
        if what.startswith(NEVER_POLLED):
            shown = f"[yellow]never polled[/yellow] ({escape(what.removeprefix(NEVER_POLLED).strip())})"
        elif what.startswith("never read: "):
            shown = f"[yellow]never read[/yellow] ({escape(what.removeprefix('never read: '))})"
        else:
            shown = f"[yellow]not read to its end[/yellow] ({escape(what)})"
        err.print(f"source {escape(path)}: {shown}", highlight=False)


@dataclass
class RulesCheck:
    """The rules `status` was given (--rules, else the --config's `rules:`) against those the workers run: their
    fingerprint now, computed as each worker computes its own at start (rules_guard.rules_fingerprint), so a pack
    edited after the workers started, or a rollout that restarted only some of them, is said (outside trial 13, M1:
    "caught up" with the old rules running and nothing said)."""

    source: str  # what names the rules, for the message: "the rules desk.yaml names", "--rules pack.yaml"
    fingerprint: str | None = None  # None when they did not load (`problem` says why)
    problem: str | None = None
    running: list[str] = field(default_factory=list)  # the fingerprints of the worker group's members
    legacy: str | None = None  # these rules' fingerprint as a release of before the release mark wrote it

    def look(self, st: Any) -> RulesCheck:
        """This check with the running fingerprints of `st` (a PipelineStatus)."""
        running = sorted({r for g in st.groups if g.role == "workers" for r in g.rules})
        return RulesCheck(self.source, self.fingerprint, self.problem, running, self.legacy)

    def look_embedded(self, hb: Any) -> RulesCheck:
        """This check with the rules of the live `run` that wrote the last cycle (`hb`, its heartbeat: the
        fingerprint it recorded at start); none for a `run --once` (the next reads the config's) or a `run` of a
        release that recorded none (trial 42, MED-4)."""
        running = [hb.rules] if hb is not None and hb.live and hb.rules else []
        return RulesCheck(self.source, self.fingerprint, self.problem, running, self.legacy)

    @property
    def differs(self) -> bool:
        """Workers run, and some run other rules than these (not these rules on another watchfloor release: that
        is what `status` of another release than the desk's sees, a rolled-back desk, say; outside trial 78, F2/F5:
        "the workers run other rules", exit 3, for the very packs named)."""
        fp = self.fingerprint
        return fp is not None and any(r != fp and other_release(r, fp, self.legacy) is None for r in self.running)

    @property
    def other_releases(self) -> list[str]:
        """The watchfloor releases of the processes that run these very rules on another release than this one's."""
        fp = self.fingerprint
        if fp is None:
            return []
        return sorted({v for r in self.running if r != fp and (v := other_release(r, fp, self.legacy)) is not None})

    @property
    def release_only(self) -> bool:
        """The rules compare equal but some run on another watchfloor release: a note, not a difference."""
        return self.problem is None and not self.differs and bool(self.other_releases)

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.differs

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "compared_with": self.source,
            "fingerprint": self.fingerprint,
            "running": self.running,
            "differs": self.differs,
            "same_rules_other_release": self.other_releases,
        }
        if self.problem is not None:
            d["problem"] = self.problem
        return d

    def embedded_message(self, process: str | None) -> str | None:
        """What is wrong with the rules of the embedded `run` (`process`: its lease owner id), in a line with what
        to do; None when nothing is."""
        if self.problem is not None:
            return (
                f"rules not compared: {self.source} do not load ({self.problem}); a `watchfloor run` started with "
                "them now would refuse to start"
            )
        if not self.differs and not self.release_only:
            return None
        fp = self.fingerprint
        assert fp is not None  # (differs, or another release)
        from watchfloor.stream_processors.fingerprint import difference

        theirs = self.running[0]
        host, pid = [*(process or "").split(":"), "", ""][:2]
        who = f"the `watchfloor run` that wrote the last cycle (pid {pid} on {host})" if pid else "the `watchfloor run`"
        if self.release_only:
            return (
                f"the same rules on another watchfloor release: {who} runs {self.source} on another watchfloor "
                f"version ({self.other_releases[0]}; {installed_version()} here): fingerprint {theirs}, these are "
                f"{fp}. "
                'Nothing to do unless it should run this release (an upgrade: README, "Upgrading a running desk").'
            )
        return (
            f"{who} runs other rules than {self.source} now ({difference(theirs, fp, self.legacy)}): fingerprint "
            f"{theirs}, these are {fp}. A `run` reads its rules once, at start, so the alerts still follow the old "
            "ones. To apply these: `watchfloor rules check` them, then stop the `run` and start it again. (A `run` "
            "started with --rules: give status the same --rules.)"
        )

    def message(self, group: str) -> str | None:
        """What is wrong, in a line with what to do; None when nothing is."""
        if self.problem is not None:
            return (
                f"rules not compared: {self.source} do not load ({self.problem}); a worker started with them now "
                "would refuse to start"
            )
        if not self.differs and not self.release_only:
            return None
        fp = self.fingerprint
        assert fp is not None  # (differs, or another release)
        others = ", ".join(r for r in self.running if r != fp)
        if self.release_only:
            return (
                f"the same rules on another watchfloor release: the workers of group {group} run {self.source} on "
                f"another watchfloor version ({', '.join(self.other_releases)}; {installed_version()} here): "
                f"fingerprints {others}, these are {fp}. Nothing to do unless they should run this release (an "
                'upgrade: stop all workers, then start them all on it; docs/kafka.md, "Upgrades and rule changes").'
            )
        return (
            f"the workers of group {group} run other rules than {self.source} now: theirs are {others}, these "
            f"are {self.fingerprint} (rules fingerprints: the packs, the lateness and the watchfloor release, "
            f"{installed_version()} here). A worker reads its rules once, at start, so the packs were edited "
            "since (or the workers were started with other --rules, or run another release) and the alerts "
            "still follow the old rules. To apply these: stop all workers, then start them all with these "
            "rules. (Workers started with --rules: give status the same --rules.)"
        )


def other_release(theirs: str, ours: str, legacy: str | None) -> str | None:
    """fingerprint.other_release, imported when asked (the fingerprint module loads the engine)."""
    from watchfloor.stream_processors.fingerprint import other_release as release_of

    return release_of(theirs, ours, legacy)


def installed_version() -> str:
    """This watchfloor's release (its version and a digest of its files: fingerprint.release)."""
    from watchfloor.stream_processors.fingerprint import release

    return release()


def rules_check(rules: list[str] | None, cfg: Any, config: Any) -> RulesCheck | None:
    """The rules to compare the workers' with: --rules, else the --config's (None when neither was given: the
    bundled default config names no deployment's rules). Built as `worker` builds them, then fingerprinted by the
    workers' own function."""
    if not rules and config is None:
        return None
    from watchfloor.stream_processors.fingerprint import legacy_fingerprint
    from watchfloor.stream_processors.kafka.rules_guard import rules_fingerprint
    from watchfloor.stream_processors.rulefile import RuleLoadError

    from ..wiring import WiringError, build_engine

    source = f"--rules {' '.join(rules)}" if rules else f"the rules {config} names"
    try:
        engine = build_engine(rules or list(cfg.rules), cfg)
    except (ValueError, ImportError, RuleLoadError, WiringError) as e:
        return RulesCheck(source, problem=str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
    return RulesCheck(source, rules_fingerprint(engine), legacy=legacy_fingerprint(engine))


def broker_problem(bootstrap: str, e: BaseException) -> str:
    """What `status` says when it could not look: a broker that answered with an error of its own (a group's
    coordinator not known yet, a partition's leader moving) is up, and is not called unreachable (outside trial 9,
    F7); one that did not answer is."""
    import kafka.errors as kafka_errors

    if isinstance(e, kafka_errors.BrokerResponseError):
        return (
            f"Kafka broker {bootstrap} answered, but not with what status needs: {e} (it passes on its own: a new "
            "group's coordinator, a partition leader moving; try again, or use --wait)"
        )
    return f"Kafka broker {bootstrap} unreachable: {e}"


@app.command()
def status(
    broker: BrokerOpt = None,
    prefix: PrefixOpt = None,
    app_id: Annotated[
        str | None, typer.Option(help="Consumer group of the workers (default: <prefix>-worker).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of tables.")] = False,
    wait: Annotated[
        float | None,
        typer.Option(
            help="Wait up to this many seconds for the pipeline to catch up (no lag, every detection taken in by "
            "`notify`, no delivery outstanding); "
            "exit 1 if not."
        ),
    ] = None,
    store: StoreOpt = None,
    rules: Annotated[
        list[str] | None,
        typer.Option(
            "--rules",
            "-r",
            help="Rule file/dir (repeatable) the workers, or the embedded `run`, should run (default with --config: "
            "the config's rules); exit 3 when they run others.",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Has the pipeline caught up? Records per topic; members and lag per topic of each group; deliveries
    outstanding and expired per channel in the store's delivery ledger (--store, else the config's store).

    Embedded (no --broker, $WATCHFLOOR_KAFKA, --prefix or --app-id, and no `kafka:` section in the config): no
    broker is asked; the store says it all: documents the rules have not read, detections not taken in for
    delivery, the ledger, and the sources whose polls fail. Caught up when none of these waits; exit codes as
    below, and 3 too for a source failing longer than the config's health.source_failing, and, with --config or
    --rules, for a live `run` that reads other rules than those named (it read its rules at start).

    Caught up: every group that runs (workers, archive) has processed everything, the notifier's intake has taken
    in every detection in the store (its checkpoint at the log's end: detections no `notify` has read yet make it
    behind), and no delivery is outstanding in the ledger (expired ones are not waited for). Exit code 0 when
    caught up with nothing given up; 3 when not caught up, or caught up while deliveries were given up (expired:
    `watchfloor alerts redeliver --all-expired --send`), with or without --wait; 1 with --wait when not caught up
    within the wait. A store that cannot be read is said, and leaves the deliveries out of the verdict.

    With a broker and --config or --rules: the rules fingerprint the workers run is compared with that of the rules
    named (as the workers compute theirs: packs, lateness, watchfloor release). Workers that run others (a pack
    edited since they started, a rollout half done) are said, with what to do, and the exit is 3 even when caught
    up, as for deliveries given up; --wait waits for them too (a rollout in progress), and a pack that no longer
    loads is said and exits 3."""
    cfg = app_config(config)
    # How a config says it has a broker: its `kafka:` section (as `serve` reads it); else an option naming one.
    if broker is None and prefix is None and app_id is None and "kafka" not in cfg.model_fields_set:
        _embedded_status(
            store or cfg.store,
            as_json=as_json,
            wait=wait,
            failing_after=cfg.health.source_failing.total_seconds(),
            named=rules_check(rules, cfg, config),
            # Only a config given names the sources `run` reads into this store (the bundled demo's are not them).
            sources=cfg.sources if config is not None else (),
        )
        return
    try:
        from watchfloor.stream_processors.kafka.clients import unreachable_errors
        from watchfloor.stream_processors.kafka.status import pipeline_status
    except ImportError as e:
        raise fail(f"{KAFKA_EXTRA} ({e})") from None
    s = settings_for(cfg, bootstrap=broker, prefix=prefix, app_id=app_id)
    named = rules_check(rules, cfg, config)  # once: compiling a big pack takes seconds

    # Only a config given names the sources `produce` reads into the store (the bundled demo's are not them).
    sources = cfg.sources if config is not None else ()
    Look = tuple[Any, Deliveries, RulesCheck | None, dict[str, str], Any, dict[str, dict[str, int]], int]

    def look() -> Look | BaseException:
        try:
            # (the watermarks too: --json said "watermarks": {} always, outside trial 31, LOW)
            st = pipeline_status(s.bootstrap, s.prefix, worker_group=s.group, watermarks=True)
        except unreachable_errors() as e:  # with --wait, a broker starting may answer at a later look
            return e
        url = store or cfg.store
        compared = None if named is None else named.look(st)
        holder = read_watermark_holder(url, s.prefix, cfg.event_time.idle_after, datetime.now(UTC))
        late = read_kafka_late(url, s.group)
        repeated = read_kafka_repeats(url, TopicNames(s.prefix).dead_letters)
        return st, read_deliveries(url), compared, read_outbox_unread(url, sources), holder, late, repeated

    def done(g: Look | BaseException) -> bool:
        # A rollout in progress (old members leaving, new ones joining) is waited for; a pack that does not load
        # is not (no wait loads it).
        if isinstance(g, BaseException):
            return False
        return _caught_up(g[0], g[1]) and not g[3] and (g[2] is None or not g[2].differs) and not mixed_groups(g[0])

    got = _poll_until(look, done, wait)
    if isinstance(got, BaseException):
        problem = f"{broker_problem(s.bootstrap, got)} ({broker_origin(broker, cfg, s.bootstrap)})"
        # What the store says needs no broker: whether the alerts stored still go out (outside trial 55, L6: only
        # the broker's error was shown during an outage)
        _print_store_only(store or cfg.store, sources, problem, as_json=as_json, group=s.group)
        raise fail(problem) from None
    st, deliveries, compared, unread, holder, late, repeated = got
    # the workers', `produce`'s and `archive`'s presence records in the store (outside trial 78): their releases,
    # and one SIGKILLed named, which the broker forgets once its session times out
    seen, gone = read_processes(store or cfg.store)
    # Sources `produce` has not read to their end are work not done, as they are for `run` (trial 50)
    # A group whose workers run other rules or another release is never caught up: its alerts are lost or differ, and
    # the workers that must give way stop themselves (outside trial 86, F5: "an upgrade is under way", exit 0).
    mixed = mixed_groups(st)
    caught_up = _caught_up(st, deliveries) and not unread and not mixed
    rules_ok = compared is None or compared.ok
    # A config that describes the pipeline (its `kafka:` section) with another partition count than its topics: its
    # workers and `produce` refuse to start, so a deploy gate must not pass (outside trial 55, L3: "caught up", exit 0)
    layout = layout_mismatch(st, s.partitions) if config is not None and "kafka" in cfg.model_fields_set else None
    if layout is not None:
        err.print(f"[red]{escape(layout)}[/red]", highlight=False)
    alert_acks = read_alert_acks(store or cfg.store)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    **st.as_dict(),
                    "kafka_caught_up": st.caught_up,
                    # members of this host whose process is gone (the broker keeps them for the session timeout)
                    "members_not_running": members_not_running(st),
                    "deliveries": deliveries.as_dict(),
                    "alerts": alert_acks_json(alert_acks),  # standing, and how many unacknowledged
                    "sources_unread": dict(sorted(unread.items())),
                    # the source holding the published watermark back, from the outbox's relay (None: none does)
                    "watermark_held_by": None if holder is None else holder.as_dict(),
                    "workers_running": workers_running(st),
                    # the release each worker runs (its client id), and a warning when they differ (no exit status)
                    "worker_releases": worker_releases(st),
                    "releases_note": worker_releases_note(worker_releases(st)),
                    # group -> the rules fingerprints its running members run, for a group with more than one
                    "mixed_groups": mixed,
                    "mixed_note": mixed_note(mixed),
                    # documents beyond the lateness per source: passed over (no detection reads them) or
                    # dead-lettered, as the workers' extract agents counted them (kafka.late: the store's row)
                    "late_documents": late,
                    # records of the dead-letters topic repeating a letter before them (a worker's restart), which
                    # the store keeps once (kafka.repeats, as the archive counted them)
                    "dead_letters_repeated": repeated,
                    # the processes whose presence records the store holds (web.health), as without a broker
                    "processes": [p.as_dict() for p in seen],
                    "processes_gone": [g.as_dict() for g in gone],
                    **({} if compared is None else {"rules": compared.as_dict()}),
                    "layout_mismatch": layout,
                    "caught_up": caught_up,
                    "ok": caught_up and not deliveries.given_up and rules_ok and layout is None,
                }
            )
        )
    else:
        _print(st, deliveries, caught_up, compared, unread, holder, late, repeated)
        print_processes(seen, gone)
        if (acks_line := alert_acks_text(alert_acks)) is not None:
            err.print(acks_line, highlight=False)
    if wait is not None and not caught_up:
        raise typer.Exit(1)
    # Deliveries given up are not waited for (no wait brings them), but a deploy gate must not pass over them
    # (outside trial 11, LOW 5: "caught up", exit 0, while an alert had expired undelivered): the same 3 that
    # `run --once` and `notify --once` exit with when one was given up. So with workers on other rules than those
    # named (outside trial 13, M1): caught up, with the wrong rules.
    if not caught_up or deliveries.given_up or not rules_ok or layout is not None:
        raise typer.Exit(3)


def layout_mismatch(st: Any, partitions: int) -> str | None:
    """What the config's partition count says against the documents topic's, when they differ: the workers and
    `produce` of that config refuse to start (`topics check` says the same)."""
    from watchfloor.schemas.topics import TopicNames

    documents = TopicNames(st.prefix).documents
    found = {lag.partitions for g in st.groups for lag in g.topics if lag.topic == documents and lag.partitions}
    if not found or partitions in found:
        return None
    have = min(found)
    return (
        f"the config's kafka.partitions is {partitions}, but {documents} has {have}: the workers and `produce` of "
        f"this config refuse to start (topic layout mismatch); set partitions: {have} in its kafka: section, or "
        "start the pipeline under a new prefix made with the new count (README, 'Changing the partition count')"
    )


def _print_store_only(url: str, sources: Sequence[Any], problem: str, *, as_json: bool, group: str) -> None:
    """`status` with the broker away: the store's part (deliveries, detections not taken in, sources not read to
    their end, the workers' late documents), said before the broker's error."""
    deliveries, unread = read_deliveries(url), read_outbox_unread(url, sources)
    late = read_kafka_late(url, group)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "broker_error": problem,
                    "deliveries": deliveries.as_dict(),
                    "sources_unread": dict(sorted(unread.items())),
                    "late_documents": late,
                    "caught_up": False,
                    "ok": False,
                }
            )
        )
        return
    _print_deliveries(deliveries)
    if deliveries.not_taken_in:
        err.print(escape(deliveries.intake_text()), highlight=False)
    print_unread(unread)
    print_late(late, on_topic=True)


def _caught_up(st: Any, deliveries: Deliveries) -> bool:
    """The distributed verdict: the workers (and the archive) have processed everything, the notifier's intake has
    taken in every detection in the store (its checkpoint at the log's end), and no delivery is outstanding. Without
    the intake, "caught up" came while `notify` had detections still to take in (trial 45, MED-2), so it was no
    deploy or backfill gate."""
    # A store on which no `notify` (nor a `worker --dispatch`) has ever run is a deployment that delivers nothing from
    # it (detections kept for analysis, or a first start): its detections are noted, not waited for forever.
    waiting = deliveries.not_taken_in and deliveries.intake_ran
    return st.caught_up and not deliveries.pending and not waiting and not _other_schema(deliveries)


def _embedded_status(
    url: str,
    *,
    as_json: bool,
    wait: float | None,
    failing_after: float,
    named: RulesCheck | None = None,
    sources: Sequence[Any] = (),
) -> None:
    """`status` of an embedded deployment (outside trial 12, M3: it asked for a broker there is none of, exit 1):
    the store's backlog and ledger, and the sources whose polls fail (those failing longer than `failing_after`,
    the config's health.source_failing, make the verdict not ok, as they make /healthz degraded). A store that
    cannot be read is an error here: nothing else is known. `named`: the rules of --rules or --config, compared with
    those the live `run` recorded at its start (trial 42, MED-4: a `rules:` edit under a live `run` was said once in
    its log, and `status` said "caught up", exit 0): other rules are said, and exit 3, as the workers' are."""

    def look() -> tuple[Deliveries, Any]:
        deliveries = read_deliveries(url)
        if deliveries.problem is not None:
            if "schema is version" in deliveries.problem:  # (the right store, of another version: said as it is)
                raise fail(deliveries.problem.removeprefix("StoreError: "))
            raise fail(
                f"the store {deliveries.store} cannot be read ({deliveries.problem}); give --store (or "
                "$WATCHFLOOR_STORE) where `run` delivers from"
            )
        return deliveries, read_backlog(url, sources)

    deliveries, backlog = _poll_until(look, lambda g: not g[0].pending and not g[1].reasons(), wait)
    caught_up = not deliveries.pending and not backlog.reasons()
    down = {o: f for o, f in backlog.failing.items() if f[0] > failing_after}
    # The `run` that wrote the last cycle gone or hung, as /healthz tells it (trial 42, LOW-1: `behind (9 deliveries
    # outstanding)` read like a slow pipeline while no `run` was running, and /healthz said so).
    from watchfloor.web.health import processes_gone, processes_line, processes_seen, runner_verdict

    now = datetime.now(UTC)
    told = None if backlog.heartbeat is None else runner_verdict(backlog.heartbeat, now)
    # Every process on the store, from their presence records: the last cycle's runner names one (trial 69, L6)
    seen = [] if backlog.heartbeat is None else processes_seen(backlog.heartbeat, now)
    several = processes_line(seen)
    # and those whose record outlived them, killed (trial 76, F3): a warning, no exit status of its own
    gone = [] if backlog.heartbeat is None else processes_gone(backlog.heartbeat, now)
    run_problem = None if told is None else told[1]
    # (the rules of a `run` that is gone are no one's: the next one reads those named)
    running = None if told is not None and told[0] == "stopped" else backlog.heartbeat
    compared = None if named is None else named.look_embedded(running)
    rules_ok = compared is None or compared.ok
    alert_acks = read_alert_acks(url)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "mode": "embedded",
                    "documents_unread": backlog.documents,
                    "detections_not_taken_in": backlog.detections,
                    "deliveries": deliveries.as_dict(),
                    # the alerts standing now, and how many of them no one has acknowledged (outside trial 81, F5)
                    "alerts": alert_acks_json(alert_acks),
                    "sources_failing": {
                        o: {"failing_seconds": round(secs, 3), "error": e, "past_threshold": o in down}
                        for o, (secs, e) in sorted(backlog.failing.items())
                    },
                    "sources_unread": dict(sorted(backlog.unread.items())),
                    "gdelt_exports_read": {
                        o: {
                            "last": f"{at:%Y%m%d%H%M%S}",
                            "age_seconds": round((datetime.now(UTC) - at).total_seconds()),
                            "pending": pending,
                        }
                        for o, (at, pending) in sorted(backlog.gdelt_read.items())
                    },
                    "gdelt_files_damaged": dict(sorted(backlog.gdelt_damaged.items())),
                    # documents beyond the lateness per source: passed over (no detection reads them) or
                    # dead-lettered, as `run` counted them (the heartbeat's running counts)
                    "late_documents": dict(sorted(backlog.heartbeat.late.items())) if backlog.heartbeat else {},
                    "channel_checks_failed": {
                        "at": backlog.channels_checked_at,
                        "channels": {ch: why for ch, why in backlog.channel_checks},
                    }
                    if backlog.channel_checks
                    else None,
                    # failed at the start, but a delivery there was sent since (no warning; trial 54, LOW-1)
                    "channel_checks_superseded": {
                        "at": backlog.channels_checked_at,
                        "channels": {
                            ch: {"why": why, "last_sent": datetime.fromtimestamp(last, UTC).isoformat()}
                            for ch, (why, last) in sorted(backlog.channel_checks_superseded.items())
                        },
                    }
                    if backlog.channel_checks_superseded
                    else None,
                    **({} if compared is None else {"rules": compared.as_dict()}),
                    # (as /healthz's `pipeline`: "stopped", "stale", "idle (…)"; None when it runs or cannot be told)
                    "pipeline": None if told is None else told[0],
                    "pipeline_problem": run_problem,
                    # the processes seen on the store lately (web.health.processes_seen), and a line when several
                    "processes": [p.as_dict() for p in seen],
                    "processes_note": several,
                    # the processes whose presence record outlived them (web.health.processes_gone), each with its note
                    "processes_gone": [g.as_dict() for g in gone],
                    "caught_up": caught_up,
                    "ok": caught_up and not deliveries.given_up and not down and rules_ok and run_problem is None,
                    "pruned": None
                    if backlog.pruned is None
                    else {
                        "up_to_position": backlog.pruned.up_to,
                        "dated_before": backlog.pruned.before.isoformat(),
                        "documents": backlog.pruned.documents,
                        "finished": backlog.pruned.finished,
                    },
                }
            )
        )
    else:
        _print_deliveries(deliveries)
        verdict = "[green]caught up[/green]" if caught_up else "[yellow]behind[/yellow]"
        why = backlog.reasons()
        if deliveries.pending:
            why.append(pending_text(deliveries))
        line = f"store {escape(deliveries.store)}: {verdict}" + (escape(f" ({', '.join(why)})") if why else "")
        if deliveries.given_up:
            line += (", but " if caught_up else "; ") + given_up_text(deliveries.given_up, deliveries.maybe_delivered)
        print_unread(backlog.unread)
        for origin, (at, pending) in sorted(backlog.gdelt_read.items()):
            # GDELT publishes every 15 minutes: the age of the last export read tells a stalled or stale
            # lastupdate.txt, which polls that find nothing new do not (trial 59, MED-3).
            age = format_elapsed((datetime.now(UTC) - at).total_seconds())
            waiting = ""
            if pending:
                waiting = f"; {counted(len(pending), 'listed file')} not found yet ({', '.join(pending)})"
            err.print(
                f"source {escape(origin)}: last GDELT export read {at:%Y%m%d%H%M%S} ({age} ago){escape(waiting)}",
                highlight=False,
            )
        for origin, files in sorted(backlog.gdelt_damaged.items()):
            # A damaged export is passed over until it changes: a lost slice, said while it stands (trial 65, MED-4).
            err.print(
                f"source {escape(origin)}: [yellow]{counted(len(files), 'file')} passed over as damaged[/yellow] "
                f"({escape(', '.join(Path(f).name for f in files))}; see `watchfloor dead-letters`)",
                highlight=False,
            )
        print_late(backlog.heartbeat.late if backlog.heartbeat else {})
        for origin, (secs, error) in sorted(backlog.failing.items()):
            mark = "[red]failing[/red]" if origin in down else "[yellow]failing[/yellow]"
            later = (
                ""
                if origin in down
                else f", retried; not ok after {format_elapsed(failing_after)} (health.source_failing)"
            )
            err.print(
                f"source {escape(redact_url(origin))}: {mark} for {format_elapsed(secs)} ({escape(error)}{later})",
                highlight=False,
            )
        for ch, why in backlog.channel_checks:  # trial 33, M2: what the start's terminal said, kept
            err.print(
                f"channel {escape(ch)}: [yellow]check at start failed[/yellow] "
                f"({escape(backlog.channels_checked_at or '?')}): {escape(why)}",
                highlight=False,
            )
        for ch, (why, last) in sorted(backlog.channel_checks_superseded.items()):  # trial 54, LOW-1: said, no warning
            err.print(
                f"channel {escape(ch)}: check at start failed ({escape(backlog.channels_checked_at or '?')}), "
                f"[green]delivered since[/green] (the last at {datetime.fromtimestamp(last, UTC):%H:%M:%S} UTC): "
                f"{escape(why)}",
                highlight=False,
            )
        # On stderr with every note and the verdict line: stdout keeps the deliveries table alone (trial 76, F6)
        if several is not None:
            err.print(f"[yellow]{escape(several)}[/yellow]", highlight=False)
        elif seen:  # one: listed too, as README says `status` lists the processes (trial 76, F6)
            err.print(f"1 process runs on this store: {escape(seen[0].describe())}", highlight=False)
        for g in gone:
            err.print(f"[yellow]{escape(g.describe())}[/yellow]", highlight=False)
        if down:
            line += (
                f"; [red]{counted(len(down), 'source')} failing[/red] for longer than {format_elapsed(failing_after)}"
            )
        if run_problem is not None:
            line += f"; [red]{escape(run_problem)}[/red]"
        said = None if compared is None else compared.embedded_message(backlog.heartbeat.process)
        if said is not None and compared is not None and compared.release_only:  # a note: no verdict of its own
            err.print(f"[yellow]{escape(said)}[/yellow]", highlight=False)
        elif said is not None and compared is not None:
            err.print(f"[red]{escape(said)}[/red]", highlight=False)
            line += "; " + (
                "[red]the `watchfloor run` runs other rules[/red] (above)"
                if compared.differs
                else "[red]rules not compared[/red] (above)"
            )
        if (acks_line := alert_acks_text(alert_acks)) is not None:  # (a count, no verdict: before the verdict's line)
            err.print(acks_line, highlight=False)
        err.print(line, highlight=False)
        if backlog.pruned is not None:
            err.print(f"retention: {escape(backlog.pruned.describe())}", highlight=False)
    if wait is not None and not caught_up:
        raise typer.Exit(1)
    if not caught_up or deliveries.given_up or down or not rules_ok or run_problem is not None:
        raise typer.Exit(3)


def _poll_until(look: Callable[[], _Look], caught_up: Callable[[_Look], bool], wait: float | None) -> _Look:
    """One look; with --wait, a look a second until one is caught up or the wait is over. The last look."""
    deadline = time.monotonic() + (wait or 0.0)
    while True:
        got = look()
        if caught_up(got) or wait is None or time.monotonic() >= deadline:
            return got
        time.sleep(1.0)


RESEND = "watchfloor alerts redeliver --all-expired --send"
RESEND_UNSURE = "watchfloor alerts redeliver --all-expired --include-unconfirmed --send"


def resend_text(n: int, maybe: int = 0) -> str:
    """The command that re-sends `n` deliveries given up, `maybe` of them unsure (their last attempt may have got
    through), right for what is given up: the bulk re-send leaves the unsure out (it must not post them twice
    blind), so advised alone for them it sent 0 (trial 36, LOW-2); with --include-unconfirmed it re-sends them too,
    each looked for first where the channel can be looked in. Both commands when some are sure and some not."""
    if not maybe:
        return f"re-send with `{escape(RESEND)}`"
    unsure = (
        f"`{escape(RESEND_UNSURE)}` re-sends {'it' if maybe == n == 1 else 'them all'}, looking for each that "
        "may have got through in its Slack channel or file first and not posting again what is there (an email "
        "goes again with the same Message-ID: look in the mailbox first; a webhook's with the same Idempotency-Key, "
        "for its receiver to drop a repeat)"
    )
    if maybe == n:
        return unsure
    return f"`{escape(RESEND)}` re-sends the {n - maybe} not delivered; {unsure}"


def given_up_text(n: int, maybe: int = 0) -> str:
    """The verdict's words for deliveries given up, with the command that re-sends them; `maybe` of them may have got
    through (their last attempt's outcome is unknown): "not delivered" is not said of them."""
    if not maybe:
        return f"[red]{deliveries_text(n)} given up[/red] (expired, not delivered: {resend_text(n)})"
    look = (
        f"{maybe} may have got through (not confirmed; `{escape('watchfloor alerts list --undelivered')}` names them)"
    )
    if maybe < n:
        look = f"{n - maybe} not delivered, {look}"
    return f"[red]{deliveries_text(n)} given up[/red] (expired: {look}: {resend_text(n, maybe)})"


def _print(
    st: Any,
    deliveries: Deliveries,
    caught_up: bool,
    compared: RulesCheck | None = None,
    unread: Mapping[str, str] | None = None,
    holder: Any = None,
    late: Mapping[str, Mapping[str, int]] | None = None,
    repeated: int = 0,
) -> None:
    topics = Table(title=f"topics of {st.prefix} on {st.bootstrap}")
    topics.add_column("topic")
    topics.add_column("records", justify="right")
    letters = TopicNames(st.prefix).dead_letters
    for name, n in st.topics.items():
        # The dead-letters topic's records a worker's restart wrote again (outside trial 77, F6: 81 here, 78 in the
        # store, unexplained)
        again = f" ({repeated:,} repeated by a worker's restart, kept once)" if name == letters and repeated else ""
        topics.add_row(name, f"{n:,}{again}")
    for name in st.missing:
        topics.add_row(name, "[red]missing[/red] (watchfloor topics create)")
    out.print(topics)
    if st.watermarks:
        w = st.watermark
        shown = "not on every partition" if w is None else datetime.fromtimestamp(w, UTC).isoformat()
        out.print(
            f"published watermark (event time): {shown}; per documents partition "
            + ", ".join(f"{p}: {datetime.fromtimestamp(t, UTC).isoformat()}" for p, t in sorted(st.watermarks.items())),
            highlight=False,
        )
    if holder is not None:  # which source holds event time back, and until when (outside trial 67, MED-3)
        out.print(escape(holder.text()), highlight=False)
    releases = worker_releases(st)
    for g in st.groups:
        t = Table(title=group_title(g))
        for col in ("topic", "partitions", "records", "committed", "lag"):
            t.add_column(col, justify="left" if col == "topic" else "right")
        for lag in g.topics:
            t.add_row(lag.topic, str(lag.partitions), f"{lag.end:,}", f"{lag.committed:,}", f"{lag.lag:,}")
        out.print(t)
        for line in member_lines(g, releases):
            out.print(line, highlight=False)
        if len(g.rules) > 1 and g.role == "workers" and g.group not in mixed_groups(st):  # (a member that is gone)
            err.print(
                f"[yellow]group {escape(g.group)} lists {len(g.rules)} rule sets ({', '.join(g.rules)}), but its "
                "running members run one: the others' members may have stopped (above)[/yellow]",
                highlight=False,
            )
        if not g.started:
            out.print("  (never ran)", highlight=False)
    if (mixed_said := mixed_note(mixed_groups(st))) is not None:  # the verdict is `behind`, exit 3
        err.print(f"[red]{escape(mixed_said)}[/red]", highlight=False)
    elif (differ := worker_releases_note(releases)) is not None:  # workers of several groups: no exit status
        err.print(f"[yellow]{escape(differ)}[/yellow]", highlight=False)
    _print_deliveries(deliveries)
    verdict = "[green]caught up[/green]" if caught_up else "[yellow]behind[/yellow]"
    why = behind_reasons(st) + [f"group {g} is mixed" for g in mixed_groups(st)] + unread_reasons(unread or {})
    if deliveries.not_taken_in and deliveries.intake_ran:
        why.append(deliveries.intake_text())
    if deliveries.pending:
        why.append(pending_text(deliveries))
    line = f"pipeline {escape(st.prefix)}: {verdict}" + (escape(f" ({', '.join(why)})") if why else "")
    if deliveries.given_up:
        line += (", but " if caught_up else "; ") + given_up_text(deliveries.given_up, deliveries.maybe_delivered)
    print_unread(unread or {})
    print_late(late or {}, on_topic=True)
    groups = [g.group for g in st.groups if g.role == "workers"]
    said = None if compared is None else compared.message(groups[0] if groups else "?")
    if said is not None and compared is not None and compared.release_only:  # a note: no verdict of its own
        err.print(f"[yellow]{escape(said)}[/yellow]", highlight=False)
    elif said is not None and compared is not None:
        err.print(f"[red]{escape(said)}[/red]", highlight=False)
        line += (", but " if caught_up and not deliveries.given_up else "; ") + (
            "[red]the workers run other rules[/red] (above)"
            if compared.differs
            else "[red]rules not compared[/red] (above)"
        )
    err.print(line, highlight=False)
    for group in idle_worker_groups(st):
        err.print(
            f"  note: no worker is running in group {escape(group)}: new documents will wait (start `watchfloor "
            "worker`)",
            highlight=False,
        )
    for note in rebalancing_notes(st):
        err.print(f"  note: {escape(note)}", highlight=False)
    if deliveries.not_taken_in and not deliveries.intake_ran:
        err.print(
            f"  note: {escape(deliveries.intake_text())}: nothing is delivered from this store until one runs",
            highlight=False,
        )


def member_gone(group: str, member: str) -> int | None:
    """rules_guard.member_gone (imported when asked: it loads the rules' fingerprinting)."""
    from watchfloor.stream_processors.kafka.rules_guard import member_gone as gone

    return gone(group, member)


def worker_releases(st: Any) -> dict[str, dict[str, str | None]]:
    """Each worker group's members with the watchfloor release each runs, read from what they publish (their client
    id's rules fingerprint): a Kafka desk keeps no presence record, and a reader had to spot a "+digest" in a client
    id (outside trial 78, F2). None: a worker of before the release mark."""
    from watchfloor.stream_processors.kafka.rules_guard import member_release

    return {g.group: {m: member_release(m) for m in g.members} for g in st.groups if g.role == "workers" and g.members}


def member_lines(
    g: Any, releases: Mapping[str, Mapping[str, str | None]], gone: Callable[[str, str], int | None] = member_gone
) -> list[str]:
    """A group's members for `status` (rich markup): each with the release it runs and, for one of this host whose
    process is gone, that it may have stopped."""
    lines = []
    for m in g.members:
        pid = gone(g.group, m)
        note = (
            ""
            if pid is None
            else f" [yellow](may have stopped: pid {pid} on this host is not running; the broker keeps it a "
            "member until kafka.session_timeout (30 s by default) passes without its heartbeat, and its "
            "partitions wait until then)[/yellow]"
        )
        release = releases.get(g.group, {}).get(m)
        shown = "" if release is None else f" · release {release}"
        lines.append(f"  member {escape(m)}{escape(shown)}{note}")
    return lines


def worker_releases_note(releases: Mapping[str, Mapping[str, str | None]]) -> str | None:
    """A warning when the workers' releases differ (None when they do not). Within one group that is a mixed group
    (`mixed_note` says it, and the verdict is behind); this note is for workers of several groups."""
    found = sorted({r or "(earlier)" for members in releases.values() for r in members.values()})
    if len(found) < 2:
        return None
    return (
        f"the workers' releases differ ({', '.join(found)}): every worker of a group must run the same rules on the "
        'same release (docs/kafka.md, "Upgrades and rule changes")'
    )


def mixed_groups(st: Any, gone: Callable[[str, str], int | None] = member_gone) -> dict[str, list[str]]:
    """The workers' groups whose running members (less those of this host known not to run, `gone`) run more than one
    rules fingerprint (the packs and the watchfloor release, rules_guard), each with its fingerprints."""
    from watchfloor.stream_processors.kafka.rules_guard import member_rules

    found: dict[str, list[str]] = {}
    for g in st.groups:
        if g.role != "workers":
            continue
        rules = sorted({r for m in g.members if gone(g.group, m) is None and (r := member_rules(m)) is not None})
        if len(rules) > 1:
            found[g.group] = rules
    return found


def mixed_note(mixed: Mapping[str, list[str]]) -> str | None:
    """What `status` says of a mixed group (None: none is): as docs/kafka.md says it, and what happens next."""
    if not mixed:
        return None
    return "; ".join(
        f"group {group} is mixed: its workers run {len(rules)} rule sets or releases ({', '.join(rules)}); every "
        "worker of a group must run the same rules on the same release, or alerts are lost or differ. The workers "
        "of every rule set but the one that sorts last stop themselves; stop the workers of the release or rules "
        'you do not want, then start them all on one (docs/kafka.md, "Upgrades and rule changes")'
        for group, rules in sorted(mixed.items())
    )


def idle_worker_groups(st: Any, gone: Callable[[str, str], int | None] = member_gone) -> list[str]:
    """The workers' groups with no running member while nothing waits (caught up, or only other work): nothing is
    behind now, but the next document will be (outside trial 55, L2: "caught up", exit 0, with no worker running). A
    member of this host whose process is gone (`gone`: a kill -9, listed until its session times out) runs no
    worker, as `workers_running` counts it (outside trial 86, F6: `workers_running: 0` and no note). A group with lag
    says it in the verdict's reasons instead (`behind_reasons`)."""
    return [
        g.group
        for g in st.groups
        if g.role == "workers" and all(gone(g.group, m) is not None for m in g.members) and not g.lag and not st.missing
    ]


def members_not_running(st: Any, gone: Callable[[str, str], int | None] = member_gone) -> dict[str, list[str]]:
    """Each group's members of this host known not to run (`gone`, as for workers_running), groups with none left
    out. (A function of its own: as a `:=` in `status`'s comprehension it rebound `status`'s own `gone`, the presence
    records outliving their processes, and --json said "processes_gone": [] beside a SIGKILLed produce's record.)"""
    return {g.group: left for g in st.groups if (left := [m for m in g.members if gone(g.group, m) is not None])}


REBALANCING = ("PreparingRebalance", "CompletingRebalance")


def rebalancing_notes(st: Any) -> list[str]:
    """A note per workers' group the broker is rebalancing: a member joined or left (a stop, a restart, a crash) and
    its partitions are being handed out again, so a "caught up" is as of this look (outside trial 80, F2: right after
    a worker's SIGTERM, "caught up", exit 0, beside `PreparingRebalance · 1 member`, and nothing more)."""
    return [
        f"group {g.group} is rebalancing ({g.state}, {counted(len(g.members), 'member')}): a worker joined or left "
        "and its partitions are being handed out again; look again once it is Stable"
        for g in st.groups
        if g.role == "workers" and g.state in REBALANCING
    ]


def workers_running(st: Any, gone: Callable[[str, str], int | None] = member_gone) -> int:
    """Members of the workers' groups (0: no worker runs), less those of this host known not to run (`gone`, of a
    group and a member: its pid when its process is not running): a SIGKILLed worker stays a member until its session
    times out, and was counted as running beside its own name in `members_not_running` (outside trial 78, F4)."""
    return sum(1 for g in st.groups if g.role == "workers" for m in g.members if gone(g.group, m) is None)


def group_title(g: Any, gone: Callable[[str, str], int | None] = member_gone) -> str:
    """The heading of a consumer group's table: its role, name, state and members, with how many of those are known
    not to run (as `workers_running` counts them)."""
    stopped = sum(1 for m in g.members if gone(g.group, m) is not None)
    note = f" ({stopped} may have stopped, below)" if stopped else ""
    return f"{g.role}: group {g.group} · {g.state} · {counted(len(g.members), 'member')}{note}"


def behind_reasons(st: Any) -> list[str]:
    """Why the Kafka pipeline is behind, for the verdict line: missing topics, else lag, and a lagging group with
    no member said as such (outside trial 9, F7: `behind (lag)` with no worker running, the table's "0 member(s)"
    the only hint)."""
    if st.caught_up:
        return []
    if st.missing:
        return [f"topics missing{st.prefix_note}"]
    why = ["lag"]
    for g in st.groups:
        if g.lag and not g.members and (g.started or g.role == "workers"):
            command = "worker" if g.role == "workers" else "archive"
            why.append(f"no {command} of {g.group} is running: start `watchfloor {command}`")
    return why


def _print_deliveries(d: Deliveries) -> None:
    if d.problem is not None and _other_schema(d):  # the right store, of another version: said as it is
        err.print(f"[yellow]deliveries not checked[/yellow]: {escape(d.problem.removeprefix('StoreError: '))}")
        return
    if d.problem is not None:
        err.print(
            f"[yellow]deliveries not checked[/yellow]: the store {escape(d.store)} cannot be read "
            f"({escape(d.problem)}); give --store (or $WATCHFLOOR_STORE) where `notify` delivers from",
            highlight=False,
        )
        return
    channels = sorted(set(d.outstanding) | set(d.expired) | set(d.held))
    _print_pauses(d)
    if not channels:
        out.print(f"deliveries ({escape(d.store)}): none outstanding, none expired", highlight=False)
        return
    t = Table(title=f"deliveries in {d.store}")
    columns = ["channel", "outstanding", "oldest outstanding", "expired"]
    if d.held:  # (a column only where a throttle holds alerts: most deployments have none)
        columns += ["held for summary", "oldest held"]
    for col in columns:
        t.add_column(col, justify="left" if col == "channel" else "right")
    for ch in channels:
        oldest = d.oldest_seconds.get(ch)
        row = [
            escape(ch),
            str(d.outstanding.get(ch, 0)),
            "—" if oldest is None else f"{oldest:.0f}s",
            str(d.expired.get(ch, 0)),
        ]
        if d.held:
            held_since = d.oldest_held_seconds.get(ch)
            row += [str(d.held.get(ch, 0)), "—" if held_since is None else f"{held_since:.0f}s"]
        t.add_row(*row)
    out.print(t)
    if d.held:
        out.print(
            f"{counted(d.held_total, 'alert')} held by a channel's throttle, waiting for the summary that lists them "
            "(queued when their window ends): watchfloor alerts list --undelivered",
            highlight=False,
        )
    expired = sum(d.expired.values())
    if expired:
        err.print(
            f"[yellow]{deliveries_text(expired)} given up (expired)[/yellow]: watchfloor alerts list --undelivered; "
            + resend_text(expired, d.maybe_delivered),
            highlight=False,
        )


def _print_pauses(d: Deliveries) -> None:
    """One line per channel paused by its server's Retry-After: why its deliveries are not moving (trial 19, M4:
    only `alerts redeliver` said so), until when, and how to lift it against the server's wish."""
    now = time.time()
    for ch, until in d.paused.items():
        when = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
        waiting = d.outstanding.get(ch, 0)
        err.print(
            f"[yellow]channel {escape(ch)} paused[/yellow] until {when}, in {max(until - now, 0):.0f}s (the server "
            f"asked: Retry-After): {escape(deliveries_text(waiting))} outstanding wait for it; "
            f"`watchfloor alerts resume {escape(ch)}` sends them now, against the server's wish",
            highlight=False,
        )
