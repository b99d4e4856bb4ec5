"""/healthz: the store, the pipeline's heartbeat, the delivery ledger and, if asked to, the Kafka groups' lag."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from watchfloor.alerts.dispatcher import holder_may_live
from watchfloor.schemas.redact import redact_url
from watchfloor.stream_processors.kafka.clients import Availability
from watchfloor.stream_processors.stores.errors import store_problem

from .activity import Heartbeat, heartbeat, stale_age, superseded_checks
from .broker import KafkaProbe
from .metrics import given_up, lock_verdict, maybe_delivered, oldest_outstanding, write_locked_for, write_problem

if TYPE_CHECKING:
    from .server import Services

log = logging.getLogger(__name__)


def store_availability() -> Availability:
    """The store as the web server sees it: logged once when it goes (with why) and once when it is back, not
    once per request (a status page refreshing every 30 s and each scrape would repeat the same traceback)."""
    return Availability(
        "the store",
        log,
        meanwhile="/healthz answers 503 `down`, the status page says why, and /metrics watchfloor_store_up 0",
    )


def health_report(s: Services) -> tuple[dict[str, Any], int]:
    """/healthz's answer (body, HTTP status), which the status page shows too."""
    now = s.now()
    body: dict[str, Any] = {"status": "ok", "store": "ok", "checked_at": now.isoformat()}
    try:
        body["log_head"] = s.store.head()
        hb = heartbeat(s.store)
        checks = superseded_checks(s.store, hb)  # (one seek of the sent rows' index per failed channel)
        stats = s.store.delivery_stats(("outstanding", "expired"))  # (by the status index: the sent rows are not read)
        pauses = s.store.channel_pauses(now.timestamp())
        intake, stalled = s.intake_watch.look(s.store, now.timestamp())
    except Exception as e:  # any store failure: say so (logged once per outage), don't crash the probe
        log.debug("healthz: the store could not be read", exc_info=True)
        reason = store_problem(e)
        s.store_watch.down(reason, lasting=True)
        body.update(status="down", store=f"unreachable: {reason}")
        return body, 503
    failed_write = write_problem(s.store)
    if failed_write is not None:
        # Readable, but this process's last write failed and none went through since (another process holds the
        # write lock, the disk is full): down, as the log says, not "ok" until the heartbeat goes stale (trial 19, M1).
        s.store_watch.down(failed_write, lasting=True)
        body.update(status="down", store=f"cannot write: {failed_write}")
        return body, 503
    # Before any write fails (a write waits the busy timeout, 30 s, first): another writer holding the write lock is
    # seen by a look that never waits, so the first seconds of such an outage say so.
    held = write_locked_for(s.store, s.store_probe_every)
    verdict = lock_verdict(held, s.store_locked_after)
    if verdict is not None and verdict[0] == "down":
        s.store_watch.down(verdict[1], lasting=True)
        body.update(status="down", store=verdict[1])
        return body, 503
    s.store_watch.up()
    if held is not None:
        body["store_write_locked_seconds"] = round(held, 3)
    age = hb.age(now)
    body["last_cycle_finished_at"] = hb.finished_at.isoformat() if hb.finished_at else None
    body["last_cycle_age_seconds"] = None if age is None else round(age, 3)
    body["last_cycle_seconds"] = hb.seconds
    body["pipeline"] = "no cycle recorded yet" if age is None else "catching up" if hb.behind else "running"
    if age is None and s.kafka is not None:
        # A `serve --broker` of a distributed pipeline: no `run` cycles, by design (outside trial 39, L: "no cycle
        # recorded yet" read like a pipeline that never started)
        body["pipeline"] = "distributed: the workers read from Kafka (their lag: `watchfloor status --broker …`)"
    if hb.first_cycle_pending() and hb.started_at is not None:  # (trial 50, MED-3: told by runner_verdict below)
        body["run_started_at"] = hb.started_at.isoformat()
        body["pipeline"] = "the live `run` started last is in its first cycle"
    if hb.behind:  # a backlog read a slice per cycle: busy, not stale (outside trial 18, M1)
        body["catching_up"] = [redact_url(o) for o in hb.behind]
    # A separate `serve` (the pipeline in another process): which process wrote the last cycle, and whether it still
    # runs. "running" was said of a live `run` killed an hour before (trial 38, MED-4): a process of this host that is
    # gone is told (stale, 503), as a lease of it is taken over; a `run --once` (cron) is idle between its runs.
    stopped = None
    stale_after = hb.stale_after(s.pipeline_max_age)
    if stale_after is not None:
        body["stale_after_seconds"] = round(stale_after, 3)
    if s.pipeline_max_age is None and (told := runner_verdict(hb, now)) is not None:
        body["pipeline"], stopped = told
    body["slack_app"] = "configured" if s.slack_app is not None else f"off: {s.slack_problem}"
    failing = hb.failing(now)
    body["sources_failing"] = {
        origin: {"failing_seconds": round(secs, 3), "error": error} for origin, (secs, error) in sorted(failing.items())
    }
    oldest = oldest_outstanding(stats, now.timestamp())
    body["deliveries_outstanding"] = {
        ch: n for (ch, status), (n, _) in sorted(stats.items()) if status == "outstanding"
    }
    expired = given_up(stats)
    body["deliveries_expired"] = expired
    # Of those, the ones whose last attempt may have got through (its outcome unknown): looked for before a re-send,
    # and not "not delivered" (session 30's candidate: `status` split them, /healthz did not). Read only when any
    # row is given up, which is rare: the ledger's status index answers the counts above without reading rows.
    maybe = maybe_delivered(s.store) if expired else {}
    body["deliveries_expired_maybe_delivered"] = maybe
    body["oldest_outstanding_delivery_seconds"] = {ch: round(secs, 3) for ch, secs in sorted(oldest.items())}
    # A channel whose server asked to wait (a Slack 429's Retry-After): its outstanding rows wait for the pause to
    # end, not for a backoff of ours (trial 19, M4). Not a problem by itself: the outstanding age says when it is.
    body["channels_paused"] = {
        ch: {
            "until": datetime.fromtimestamp(until, UTC).isoformat(),
            "seconds_left": round(until - now.timestamp(), 3),
            "why": "the server asked to wait (Retry-After)",
        }
        for ch, until in sorted(pauses.items())
    }
    # Detections no dispatcher has taken in yet (the ledger holds no row of them: the counts above cannot show them,
    # trial 45). Degraded only once the intake has taken none in for health.delivery_outstanding with some waiting,
    # as this server's looks see it: a notify seconds behind moves its checkpoint between looks and never flaps the
    # verdict. A store no dispatcher has ever run on delivers nothing from it (analysis, a first start): a warning,
    # as `watchfloor status` notes it, not a backlog.
    body["detections_not_taken_in"] = intake.waiting
    body["intake_stalled_seconds"] = round(stalled, 3)
    body["intake_started"] = intake.ran
    warnings = []
    if intake.waiting and not intake.ran:
        warnings.append(
            f"{intake.waiting} {'detection' if intake.waiting == 1 else 'detections'} not taken in for delivery: no "
            "`watchfloor notify` (nor `run`'s dispatcher) has ever run on this store, so none is delivered from it"
        )
    # What the last dispatcher start found wrong with a channel (a missing scope, a channel not found): a warning, not
    # a verdict, since its alerts are tried anyway and a failure then shows as outstanding deliveries (trial 33, M2:
    # only that start's terminal said it, e.g. that a missing history scope costs the look before a re-send). Not
    # once a delivery there was sent after it (trial 54, LOW-1: "failed" said of channels delivering fine since).
    warnings += [
        f"channel {ch}: check at start ({hb.channels_checked_at}) failed: {why}" for ch, why in checks.standing
    ]
    # Every process on the store (their presence records), not only the last cycle's writer (trial 69, L6): a
    # warning when several run, which the status page shows too
    seen = processes_seen(hb, now, s.may_live)
    body["processes"] = [p.as_dict() for p in seen]
    if (several := processes_line(seen)) is not None:
        warnings.append(several)
    # and those whose record outlived them: a kill, said for GONE_SHOWN (outside trial 76, F3)
    gone = processes_gone(hb, now, s.may_live)
    body["processes_gone"] = [g.as_dict() for g in gone]
    warnings += [g.describe() for g in gone]
    if warnings:
        body["warnings"] = warnings
    problems = []
    if verdict is not None:  # degraded: the pipeline's writes wait for another writer
        body["store"] = verdict[1]
        problems.append(f"store {verdict[1]}")
    last = hb.last_poll
    if last.get("polled") and len(last.get("failed") or ()) >= last["polled"]:
        problems.append(f"every source polled at {last.get('at')} failed ({last['polled']})")
    for origin, (secs, error) in sorted(failing.items()):
        if secs > s.source_failing_after:
            problems.append(f"source {redact_url(origin)}: failing for {secs:.0f}s: {error}")
    for ch, secs in sorted(oldest.items()):
        if secs > s.delivery_outstanding_after:
            n = stats[(ch, "outstanding")][0]
            problems.append(f"channel {ch}: {n} deliveries outstanding, the oldest for {secs:.0f}s")
    if stalled > s.delivery_outstanding_after:
        problems.append(
            f"notify's intake: {intake.waiting} {'detection' if intake.waiting == 1 else 'detections'} not taken in "
            f"for delivery, none taken in for {stalled:.0f}s: is `watchfloor notify` running on this store?"
        )
    for ch, n in expired.items():  # the rule `watchfloor status` exits 3 by (web.metrics.given_up)
        unsure = maybe.get(ch, 0)
        if not unsure:
            how = "expired"
        elif unsure == n:
            how = "expired; " + ("it" if n == 1 else "each") + " may have got through, not confirmed"
        else:
            how = f"expired; {unsure} of them may have got through, not confirmed"
        problems.append(
            f"channel {ch}: {n} {'delivery' if n == 1 else 'deliveries'} given up ({how}): "
            "watchfloor alerts list --undelivered names them, watchfloor status says how to re-send them"
        )
    if s.kafka is not None and s.kafka_behind_after is not None:
        # Asked only with the threshold set, so that a broker that is away never slows the probe otherwise.
        problems.extend(_kafka_health(s.kafka, s.kafka_behind_after, body))
    if stopped is not None:
        problems.append(stopped)
        body.update(status="stale", problems=problems)
        return body, 503
    if s.pipeline_max_age is not None and (age is None or age > s.pipeline_max_age):
        # Only when the pipeline runs in this process: a separate `serve` reports the age, a probe decides.
        started = (now - s.started_at).total_seconds()
        if age is not None or started > s.pipeline_max_age:
            body.update(status="stale", pipeline="stale")
            if problems:
                body["problems"] = problems
            return body, 503
    if problems:
        body.update(status="degraded", problems=problems)
        return body, 503
    return body, 200


def runner_verdict(hb: Heartbeat, now: datetime) -> tuple[str, str | None] | None:
    """What the heartbeat says of the `run` that wrote the last cycle, when the pipeline runs in another process
    (a separate `serve`, `watchfloor status`): ("stopped", why) for a live `run` of this host that is gone (trial 38,
    MED-4), ("stale", why) for one that still runs but has finished no cycle for three of its poll intervals and a
    minute: hung, or unable to write the store (trial 42, MED-2); ("idle (…)", None) after a `run --once` (a cron
    job, idle between its runs); None when it runs, or nothing can be told (no cycle, no process recorded). A live
    `run` started after the last cycle is told by its start record (record_start) until it records a cycle."""
    if hb.first_cycle_pending() and hb.started_process is not None and hb.started_at is not None:
        # The live `run` started last has recorded no cycle (a long first backlog, a slow channel): told by its start
        # record, as one that wrote a cycle is by that (trial 50, MED-3: one killed then was told by nothing).
        host, pid = [*hb.started_process.split(":"), "", ""][:2]
        who = f"the `watchfloor run` started at {hb.started_at.isoformat(timespec='seconds')} (pid {pid} on {host})"
        if not holder_may_live(hb.started_process):
            return "stopped", f"{who} is no longer running and never finished a cycle: start it again"
        since = hb.started_age(now) or 0.0
        stale_after = hb.stale_after()
        if stale_after is not None and since > stale_after:
            return "stale", (
                f"{who} has finished no cycle in the {since:.0f}s since its start, more than three of its "
                f"{hb.started_interval:g}s poll intervals: a long first backlog, or it is hung or cannot write the "
                "store (its log says which)"
            )
        return None
    age = hb.age(now)
    if hb.process is None or age is None:
        return None
    host, pid = [*hb.process.split(":"), "", ""][:2]
    who = f"the `watchfloor run` that wrote the last cycle (pid {pid} on {host})"
    if hb.live and not holder_may_live(hb.process):
        return "stopped", f"{who} is no longer running: start it again"
    if hb.live is False and not hb.behind:
        return "idle (the last cycle was a `watchfloor run --once`)", None
    stale_after = hb.stale_after()
    if stale_after is not None and age > stale_after:
        # It runs, but has finished no cycle for three of its intervals: hung (stopped, a stuck call) or unable to
        # write its store (read-only, full), said only in its own log until then.
        return "stale", (
            f"{who} has finished no cycle for {age:.0f}s, more than three of its {hb.interval:g}s poll intervals: "
            "it is hung or cannot write the store (its log says which)"
        )
    return None


def _kafka_health(probe: KafkaProbe, behind_after: float, body: dict[str, Any]) -> list[str]:
    """The consumer groups' lag for /healthz, and a problem for each group behind longer than `behind_after`. A
    broker that cannot be asked is said, and degrades nothing (watchfloor_kafka_up says it to alerting)."""
    v = probe.view()
    if v.status is None:
        body["kafka"] = {"broker": f"could not be asked: {v.error}"}
        return []
    lag = {g.group: g.lag for g in v.status.groups if g.group in v.behind}
    body["kafka"] = {
        "broker": "ok",
        "caught_up": v.status.caught_up,
        "lag": lag,
        "behind_seconds": {g: round(secs, 3) for g, secs in sorted(v.behind.items())},
    }
    return [
        f"kafka group {g}: behind for {secs:.0f}s ({lag[g]} records)"
        for g, secs in sorted(v.behind.items())
        if secs > behind_after
    ]


ONCE_SEEN = 900.0  # a `run --once` (no poll interval) is listed this long after it was last seen, unless it stopped
# A process whose presence record outlived it (a clean stop removes the record: so it was killed, or lost the store)
# is named this long after it was last seen, then no more (outside trial 76, F3: a SIGKILLed `run` vanished at once)
GONE_SHOWN = 3600.0
QUIET_AFTER = 2.0  # a live process not seen for more than this many of its intervals is said to be "not seen for Ns"


def _command_and_release(command: str | None, release: str | None) -> tuple[str, str]:
    """How a presence record's command and release are said (ProcessSeen, ProcessGone)."""
    what = f"`watchfloor {command}`" if command else "`watchfloor run`"
    return what, f"release {release}" if release else "a release that keeps no presence record"


@dataclass(frozen=True)
class ProcessSeen:
    """A process seen on the store lately (processes_seen)."""

    process: str  # its lease owner id
    host: str
    pid: str
    command: str | None
    release: str | None  # None: a release before presence records (it keeps none)
    started_at: str | None
    last_seen: str | None
    # seconds since it was last seen, when more than QUIET_AFTER of its intervals (one of another host killed a
    # moment ago, or hung: not listed as if it were alive); None when it saves as it should
    quiet_for: float | None = None

    def describe(self) -> str:
        what, release = _command_and_release(self.command, self.release)
        started = f", started {self.started_at}" if self.started_at else ""
        quiet = "" if self.quiet_for is None else f", not seen for {self.quiet_for:.0f}s"
        return f"pid {self.pid} on {self.host} ({what}{started}, {release}{quiet})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "host": self.host,
            "pid": self.pid,
            "command": self.command,
            "release": self.release,
            "started_at": self.started_at,
            "last_seen": self.last_seen,
            "not_seen_for": None if self.quiet_for is None else round(self.quiet_for),
        }


@dataclass(frozen=True)
class ProcessGone:
    """A process whose presence record outlived it (processes_gone): a clean stop removes the record, so one left
    behind tells a `run` killed (SIGKILL, OOM, a power cut) or cut off from the store."""

    process: str  # its lease owner id
    host: str
    pid: str
    command: str | None
    release: str | None
    last_seen: str
    seconds: float  # since it was last seen
    pid_gone: bool  # of this host, and its pid is gone; else not seen for longer than its process is listed

    def describe(self) -> str:
        what, release = _command_and_release(self.command, self.release)
        who = f"pid {self.pid} on {self.host} ({what}, {release})"
        if self.pid_gone:
            return f"{who} stopped without a clean stop at or after {self.last_seen} (its last save)"
        return (
            f"{who} not seen since {self.last_seen} ({self.seconds:.0f}s): stopped without a clean stop, hung, or "
            "cut off from the store"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "host": self.host,
            "pid": self.pid,
            "command": self.command,
            "release": self.release,
            "last_seen": self.last_seen,
            "pid_gone": self.pid_gone,
            "note": self.describe(),
        }


def processes_gone(
    hb: Heartbeat, now: datetime, may_live: Callable[[str], bool] = holder_may_live
) -> list[ProcessGone]:
    """The presence records left behind by processes that are gone, last seen within GONE_SHOWN: one of this host
    whose pid is gone (`may_live`), or one not seen for longer than processes_seen lists it (another host's: its
    pid cannot be looked at). A clean stop removes its record, so each is a process that did not stop cleanly.
    Longest gone last."""
    gone: list[ProcessGone] = []
    for process, e in hb.processes.items():
        try:
            last = datetime.fromisoformat(str(e.get("last_seen")))
        except ValueError:
            continue
        age = (now - last).total_seconds()
        if age > GONE_SHOWN:
            continue
        pid_gone = not may_live(process)
        if not pid_gone and age <= _listed_for(e):
            continue
        release = _text(e.get("release"))
        gone.append(
            ProcessGone(
                process,
                str(e.get("host", "")),
                str(e.get("pid", "")),
                _text(e.get("command")),
                release,
                last.isoformat(),
                age,
                pid_gone,
            )
        )
    return sorted(gone, key=lambda g: (g.seconds, g.process))


def _listed_for(record: dict[str, Any]) -> float:
    """How long after it was last seen a process's record is listed as running: stale_age of its interval, or
    ONCE_SEEN for a `run --once`."""
    interval = record.get("interval")
    return stale_age(float(interval)) if isinstance(interval, int | float) and interval else ONCE_SEEN


def processes_seen(
    hb: Heartbeat, now: datetime, may_live: Callable[[str], bool] = holder_may_live
) -> list[ProcessSeen]:
    """The processes running on the store as far as it tells: each presence record seen within stale_age of its poll
    interval (ONCE_SEEN for a `--once`) whose process may live (`may_live`: one of this host that is gone is not
    listed); and the writer of the last cycle when it keeps no record (a live `run` of an earlier release, in a
    rolling upgrade) and wrote that cycle within stale_age of its interval. Oldest start first."""
    seen: list[ProcessSeen] = []
    for process, e in hb.processes.items():
        try:
            last = datetime.fromisoformat(str(e.get("last_seen")))
        except ValueError:
            continue
        since = (now - last).total_seconds()
        if since > _listed_for(e) or not may_live(process):
            continue
        interval = e.get("interval")
        quiet = isinstance(interval, int | float) and interval and since > QUIET_AFTER * float(interval)
        seen.append(
            ProcessSeen(
                process,
                str(e.get("host", "")),
                str(e.get("pid", "")),
                _text(e.get("command")),
                _text(e.get("release")),
                _text(e.get("started_at")),
                last.isoformat(),
                since if quiet else None,
            )
        )
    age = hb.age(now)
    if (
        hb.process is not None
        and hb.process not in hb.processes
        and hb.release is None
        and hb.live
        and hb.interval
        and age is not None
        and age <= stale_age(hb.interval)
        and may_live(hb.process)
    ):
        host, pid = [*hb.process.split(":"), "", ""][:2]
        last_cycle = hb.finished_at.isoformat() if hb.finished_at else None
        seen.append(ProcessSeen(hb.process, host, pid, None, None, None, last_cycle))
    return sorted(seen, key=lambda p: (p.started_at or "", p.process))


def processes_line(seen: list[ProcessSeen]) -> str | None:
    """What `status` says of several processes on one store (None for one or none): who they are, and plainly when
    their releases differ (trial 73, F4: a rolling upgrade's two releases ran side by side, and nothing said so)."""
    if len(seen) < 2:
        return None
    names = [p.describe() for p in seen]
    line = f"{len(seen)} processes run on this store: {', '.join(names[:-1])} and {names[-1]}"
    releases = {p.release or "(earlier)" for p in seen}
    if len(releases) > 1:
        line += (
            f"; their releases differ ({', '.join(sorted(releases))}): a rolling upgrade is under way, or a process "
            "of the other release was left running (stop the one you no longer want)"
        )
    return line


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None
