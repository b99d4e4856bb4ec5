"""The `watchfloor run` command: the live embedded pipeline."""

from __future__ import annotations

import logging
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ._common import (
    ConfigOpt,
    QuietCycles,
    StoryReadProgress,
    app,
    app_config,
    counted,
    edited,
    err,
    error_line,
    exception_name,
    fail,
    interval_seconds,
    log_times,
    print_dead_letters,
    print_editions_bound,
    print_event_time,
    progress_bar,
    redact_url,
    seen_before,
    shown_origin,
    source_absent,
    source_failed,
    stop_on_sigterm,
    stopped_line,
)
from .alerts import (
    UNDELIVERED_EXIT,
    PolledSources,
    after_take_over,
    delivery_summary,
    exit_if_sources_failed,
    exit_if_undelivered,
    failed_sources_note,
    next_wait,
    print_channel_checks,
)
from .health import Heartbeat, between_deliveries

if TYPE_CHECKING:
    from watchfloor.producers.poller import PollSummary
    from watchfloor.stream_processors.kafka.clients import Availability
    from watchfloor.stream_processors.ports import Store

log = logging.getLogger(__name__)


@app.command()
def run(
    config: ConfigOpt = None,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="One pass over the sources, then exit: 0 when all went through, 3 while deliveries are outstanding "
            "or a stop (SIGTERM) left a backlog unread, 4 when a source failed in any cycle (wins over 3).",
        ),
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            help="Seconds (or a duration: 30s, 5m) between cycles (default: the config's poll_interval, 60s). A feed "
            "is read at its own `poll` (default 15m), whichever is longer.",
            parser=interval_seconds,
        ),
    ] = None,
    serve: Annotated[
        str | None,
        typer.Option(
            "--serve", metavar="[HOST:]PORT", help="Also serve the Slack app, /healthz, /metrics and the status page."
        ),
    ] = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="With --serve on a non-loopback address and no serve.admin_token_env: serve the status page and "
            "/metrics open, on purpose (refused otherwise).",
        ),
    ] = False,
) -> None:
    """Run the live pipeline on the embedded runtime: poll sources, detect, alert."""
    run_service(config, once=once, interval=interval, serve=serve, public=public)


def run_service(
    config: Path | None,
    *,
    once: bool,
    interval: float | None,
    serve: str | None,
    public: bool,
    opened: Store | None = None,
) -> None:
    """`watchfloor run`. `opened`: the store to run on, already open, instead of the config's (a test's fault
    injector around a real store: tests/faults/store_outage.py); closed at the end as that one is."""
    from watchfloor.stream_processors.fingerprint import (
        difference,
        legacy_fingerprint,
        other_release,
        rules_digest,
        rules_fingerprint,
    )
    from watchfloor.stream_processors.fingerprint import (
        release as this_release,
    )
    from watchfloor.stream_processors.rulefile import RuleLoadError
    from watchfloor.stream_processors.runner import OtherRulesWatch, note_rules, other_start_line
    from watchfloor.web.activity import HeartbeatRecorder, stale_age

    from ..config_edit import apply_config_edit, edit_lines
    from ..rule_watch import ConfigFileWatch, RuleFilesWatch, edited_rules_note, rules_load_problem
    from ..wiring import EmbeddedPipeline, WiringError

    cfg = app_config(config)
    # A live run's lines with their time (log_times), from the first (trial 54, LOW-2: the banner and the channel
    # checks had none); a `--once`'s as they were. Closed when the start fails, else after the closing line.
    stamps = ExitStack()
    if not once:
        stamps.enter_context(log_times())
    # The config file as it was read: its `subscriptions:` edits applied, the rest said (outside trial 30, F4)
    config_file = None if once or config is None else ConfigFileWatch(config)
    try:
        pipeline = EmbeddedPipeline(cfg, store=opened, story_progress=StoryReadProgress())
        if once:  # nothing runs after it to send a held reply: `update_wait` does not hold replies in `--once`
            pipeline.dispatcher.deliverer.hold_replies = False
    except (RuleLoadError, WiringError, ValueError) as e:
        stamps.close()
        raise fail(str(e)) from None
    stop = stop_on_sigterm()
    pipeline.dispatcher.deliverer.stopping = stop.is_set  # a SIGTERM waits for the delivery under way, no more
    pipeline.runner.stopping = stop.is_set  # and for the engine's batch in hand (outside trial 18, M2)
    err.print(
        f"[bold]watchfloor[/bold] embedded · store {escape(redact_url(cfg.store))} · "
        # "rules", not "detections": what follows prints alerts, which a desk also calls detections (trial 29, F7)
        f"{counted(len(pipeline.rules.detections), 'rule')} · {counted(len(cfg.sources), 'source')}",
        highlight=False,
    )
    try:
        print_channel_checks(pipeline.dispatcher, record=pipeline.store)
    except typer.Exit:  # a channel whose config cannot work (a file channel's path that is a directory)
        pipeline.close()
        stamps.close()
        raise
    # The rules read what comes after them: say so when they changed since the last start (outside trial 14, M1:
    # a rule added and `run` restarted read none of the 325 documents already in the log, and nothing said so).
    fingerprint = rules_fingerprint(pipeline.engine)
    alerts_digest = rules_digest(pipeline.engine, threads=False)
    change = note_rules(pipeline.store, fingerprint, alerts_digest)
    legacy = legacy_fingerprint(pipeline.engine)  # these rules as a release of before the mark wrote them
    other_rules = OtherRulesWatch(pipeline.store, fingerprint, legacy, alerts_digest)
    if change is not None and change.threads_only:
        err.print(
            f"[yellow]only the rules' thread_by changed since the last run[/yellow] (fingerprint {change.before} -> "
            f"{change.now}): the alerts are the same (thread_by changes no alert and no alert id: no backtest to run); "
            "each open story goes on where its messages are, and the stories begun from now on are threaded by the "
            "new setting",
            highlight=False,
        )
    elif change is not None:
        release = other_release(change.before, change.now, legacy)
        what = "watchfloor version" if release is not None else "rules"
        err.print(
            f"[yellow]the {what} changed since the last run[/yellow] (fingerprint {change.before} -> {change.now}: "
            f"{difference(change.before, change.now, legacy)}): they read the documents that come from "
            f"now on; the {change.position:,} events already in the log were read by the earlier {what} and are not "
            "read again. What these rules would have raised over them: "
            f"`watchfloor backtest --from-store {shlex.quote(redact_url(cfg.store))}{_rules_args(list(cfg.rules))}`",
            highlight=False,
        )
    wait = interval if interval is not None else cfg.poll_interval.total_seconds()
    if not once and (slower := slower_sources(cfg.sources, wait)):
        # A cycle reads only the feeds whose own `poll` has passed (outside trial 23, M3-2: `--interval 2` read a
        # local feed file edited twice in 22 cycles never, and nothing said why).
        err.print(
            f"note: a cycle every {wait:g}s; {slower} (each source's `poll` setting)", highlight=False, markup=False
        )
    server = None
    report = None
    polled = None  # the last cycle's poll summary
    polled_all = PolledSources()  # every cycle's sources, for --once's exit status (a failure in any of them: 4)
    heartbeat = HeartbeatRecorder(
        pipeline.store,
        sources=source_origins(cfg.sources),
        process=pipeline.dispatcher.owner,
        live=not once,
        interval=None if once else wait,
        rules=fingerprint,
        command="run" + (" --once" if once else "") + (" --serve" if serve is not None else ""),
        release=this_release(),
    )
    try:  # a live run's start, for status, /healthz and /metrics to tell one gone before its first cycle ends
        heartbeat.start(datetime.now(UTC))
    except Exception as e:  # (the cycles say a store outage, and retry; this record is not worth stopping for)
        err.print(f"[yellow]could not record this run's start for status and /healthz[/yellow]: {e}", highlight=False)
    lines = QuietCycles()  # a quiet cycle's line once per 10 minutes, not every poll
    heart = Heartbeat()  # $WATCHFLOOR_HEARTBEAT, for `watchfloor health`, as produce, archive and notify keep it
    # The rules are read once, at start: an edit is said (once) instead of being silently ignored (trial 13, M1).
    rule_files = None if once else RuleFilesWatch(cfg.rules)
    cycles = 0
    stopped_by: str | None = None  # what stopped a live run as asked (SIGTERM, Ctrl-C): said last
    unfinished = False  # a `--once` stopped with a backlog (a source or the engine) not read to its end
    # One for the cycles and, with --serve, the pages: a store outage is a line when it starts and one when it ends.
    store_watch = run_store_availability(wait, serving=serve is not None)
    # The liveness file, and the end of a store outage, between deliveries too (trial 50, MED-3 and LOW-1)
    pipeline.dispatcher.deliverer.between = between_deliveries(heart, store_watch, pipeline.store)
    lock_watch = LockWatch(pipeline.store, lambda line: err.print(f"[yellow]{escape(line)}[/yellow]", highlight=False))
    with stamps:  # the closing lines too (the stopped line said last is stamped)
        lock_watch.start()
        try:
            if serve is not None:
                from .serve import parse_listen, start_server

                host, port = parse_listen(serve)
                # Unhealthy when no cycle has finished for three intervals (and a minute's slack for a slow one).
                server = start_server(
                    cfg,
                    pipeline.store,
                    pipeline.control,
                    pipeline.rules,
                    host,
                    port,
                    pipeline_max_age=stale_age(wait),
                    store_watch=store_watch,
                    public=public,
                )

            while True:
                heart.beat()
                cycles += 1
                # Deliveries owed from before a start go before a backlog is read (outside trial 18, M4: a restart's
                # 2,400 outstanding deliveries waited 74 s behind the first poll's ingest). Later cycles need no such
                # pass: each ends with one, and a cycle behind starts the next at once.
                owed = cycles == 1
                behind = False
                if once:
                    try:
                        report, polled = _cycle(pipeline, heartbeat, lines, config, owed=owed)
                    except Exception as e:
                        if (gone := store_gone(e)) is not None:
                            raise fail(gone) from None
                        # A store that cannot be used says its reason and names the store, as every command's error
                        # does (error_line), not "StoreError: store …" (trial 50, LOW-2).
                        raise fail(error_line(e)) from None
                    polled_all.add(polled)
                    behind = bool(polled.catching_up)
                elif (done := live_cycle(pipeline, heartbeat, lines, config, store_watch, wait, owed=owed)) is not None:
                    report, polled = done
                    behind = bool(polled.catching_up)
                    changes = rule_files.edited() if rule_files is not None else []
                    if changes and (problem := rules_load_problem(cfg.rules)) is not None:
                        err.print(
                            f"[yellow]{escape(edited_rules_note(changes))}[/yellow]; as they are now they do not "
                            f"load, so a start would fail: {escape(problem)} (fix them first: `watchfloor rules "
                            "check`)",
                            highlight=False,
                        )
                    elif changes:
                        err.print(
                            f"[yellow]{escape(edited_rules_note(changes))}[/yellow]: stop `watchfloor run` and start "
                            "it again to use them (`watchfloor rules check` them first)",
                            highlight=False,
                        )
                    if config_file is not None and config_file.edited():
                        edit = apply_config_edit(
                            config_file.path, cfg, pipeline.control, pipeline.dispatcher.notifiers, pipeline.rules
                        )
                        if edit.deferred is not None:
                            config_file.again()
                        for line in edit_lines(config_file.path, edit):
                            err.print(f"[yellow]{escape(line)}[/yellow]", highlight=False)
                try:
                    other = other_rules.other()
                except Exception:  # a look, not the work: a store that failed is said by the cycle itself
                    other = None
                if other is not None:  # it can only know that the other one started: a `run --once` may have ended
                    err.print(other_start_line(other, fingerprint, legacy), highlight=False)
                # A source or the engine still behind (a backlog read a slice per cycle): the next cycle at once,
                # `--once` too, so that the other sources are polled and alerts delivered between the slices (M1). A
                # stop (SIGTERM) ends it between slices: what was read is committed, the rest is read at the next
                # start.
                if stop.is_set():
                    stopped_by = stop.signal
                    unfinished = once and behind
                    break
                if once and not behind:
                    report = after_take_over(pipeline.dispatcher, report, stop)
                    break
                # Wake for the next due delivery too, so a retry is not held up by a long poll interval. (next_wait
                # reads the store: one gone right after the cycle's last write gives the interval, and the next cycle
                # meets the outage and waits it out, tests/faults/test_live_outage_faults.py)
                if not once and stop.wait(0 if behind else next_wait(pipeline.dispatcher, wait)):
                    stopped_by = stop.signal
                    break
        except KeyboardInterrupt:
            stopped_by = "Ctrl-C"
        finally:
            lock_watch.stop()
            if server is not None:
                server.stop()
            try:
                heartbeat.flush()
            except Exception as e:  # the store may be what failed; closing must go on
                from watchfloor.stream_processors.stores.errors import store_problem

                if store_gone(e) is None:  # (a deleted store file was said already, as what stopped the run)
                    err.print(
                        f"[yellow]could not save the last heartbeat[/yellow]: {escape(store_problem(e))}",
                        highlight=False,
                    )
            try:  # a clean stop: this process no longer listed by `status` (a killed one ages out of the list)
                heartbeat.stop()
            except Exception:  # (the store may be what failed: said above; the record ages out)
                log.debug("presence record not removed", exc_info=True)
            pipeline.close()
        if unfinished and polled is not None:
            # Not "all went through": exit 3 below, as for deliveries outstanding, whatever the last slice's deliveries
            # did (outside trial 18: it exited 0 or 3 by that alone); the next `run` goes on from the saved position.
            where = behind_places(polled) or "the engine had more in the log"
            held = report is not None and getattr(report, "held_back", False) and report.outstanding
            err.print(
                f"[yellow]not everything was read:[/yellow] stopped while catching up ({escape(where)}); the next "
                "`watchfloor run` goes on from there"
                + ("; the alerts raised so far are held, and go with the rest, in event time" if held else ""),
                highlight=False,
            )
        if stopped_by is not None:  # after closing: the line says everything was closed as it should be
            err.print(stopped_line("run", stopped_by, cycles), highlight=False)
        if once and report is not None:
            if unfinished and getattr(report, "held_back", False):
                undelivered = UNDELIVERED_EXIT  # (said above: what the backlog raised so far is held for the next run)
            else:
                undelivered = exit_if_undelivered(report, then_exit=False)
            if unfinished:
                undelivered = UNDELIVERED_EXIT
            exit_if_sources_failed(polled_all)  # exit 4, for a source failed in any cycle: wins over 3 (both are said)
            if undelivered:
                raise typer.Exit(undelivered)


def catching_up_note(summary: PollSummary, *, engine: bool = False) -> str:
    """What a cycle's line says of the sources it read only a slice of: ` · catching up: PATH at line N` (`run`,
    `produce`); with `engine` (`run`: the rules have more of the log to read), that too, by name. Each part is named:
    the engine alone read `catching up:  (the engine has more in the log)`, nothing between (trial 48, LOW-3)."""
    parts = [behind_places(summary)] if summary.behind else []
    if engine:
        parts.append("the engine (more documents in the log than one cycle reads)")
    return " · catching up: " + "; ".join(parts) if parts else ""


def behind_places(summary: PollSummary) -> str:
    """Where each source read only a slice of stopped: `PATH at line N, …` (empty when none is behind)."""
    return ", ".join(
        f"{shown_origin(s.origin)} at line {s.position[0]:,}" if s.position else shown_origin(s.origin)
        for s in summary.behind
    )


class LockWatch:
    """Another writer holding the store's write lock, said by `run` as it happens: a cycle's write waits up to the busy
    timeout (30 s) for it and says nothing meanwhile, so a thread looks once a second (SqlStore.write_locked_for: it
    never waits, and while this run's own write waits it reads that wait instead of looking) and says when the lock
    has been held for `locked_after` seconds, when that passes the write timeout, and when it is free again. Nothing is
    looked at per event."""

    def __init__(
        self, store: object, say: Callable[[str], None], *, every: float = 1.0, locked_after: float = 2.0
    ) -> None:
        self.store = store
        self.say = say
        self.every = every
        self.locked_after = locked_after
        self._said: str | None = None  # the verdict last said ("degraded", "down"), None: free
        self._longest = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        """One look, and a line when what it says changed."""
        from watchfloor.web.metrics import lock_verdict, write_locked_for

        held = write_locked_for(self.store, self.every)
        verdict = lock_verdict(held, self.locked_after)
        if verdict is None:
            if self._said is not None and held is None:
                self.say(f"the store's write lock is free again (held by another writer for {self._longest:.0f}s)")
                self._said = None
            return
        self._longest = held or 0.0
        if verdict[0] != self._said:
            self._said = verdict[0]
            self.say(f"the store is {verdict[1]}")

    def start(self) -> LockWatch:
        self._thread = threading.Thread(target=self._watch, name="watchfloor-lock-watch", daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.check()
            except Exception:  # a look that fails says nothing: the cycles say what the store does
                log.debug("lock watch: look failed", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def run_store_availability(wait: float, *, serving: bool) -> Availability:
    """The store as a live `run` sees it (web.health's, which `serve` shares with its pages), saying what the run
    does while it is away."""
    from watchfloor.web.health import store_availability

    watch = store_availability()
    meanwhile = f"each cycle tries again (every {wait:g}s) from the last committed checkpoints"
    watch.meanwhile = f"{meanwhile}; {watch.meanwhile}" if serving else meanwhile
    return watch


def live_cycle(
    pipeline: Any,
    heartbeat: Any,
    lines: QuietCycles | None,
    config: Path | None,
    store_watch: Availability,
    wait: float,
    *,
    owed: bool = False,
) -> tuple[Any, Any] | None:
    """One cycle of a live `run`: its report and poll summary, or None when it failed. Live mode keeps going: the
    next cycle resumes from the committed checkpoints. A store that cannot be used (StoreError) is said when it goes
    and when it is back (`store_watch`), not every cycle: `run --serve` printed `cycle failed StoreError …` each
    cycle of an outage. Any other failure is said each time; tracebacks are at debug level."""
    from watchfloor.stream_processors.stores.errors import StoreError, store_problem, store_state

    try:
        done = _cycle(pipeline, heartbeat, lines, config, owed=owed)
    except Exception as e:
        log.debug("cycle failed", exc_info=True)
        if (gone := store_gone(e)) is not None:
            # Not an outage to wait out: every write from now on would go to a file no later start reads, and the
            # next start would read the sources again from the beginning and send every alert again (trial 19, H1).
            raise fail(gone) from None
        if isinstance(e, StoreError):
            store_watch.down(store_problem(e), lasting=True, word=store_state(e))
        else:
            err.print(
                f"[red]cycle failed[/red] {exception_name(e)}: {escape(str(e))}; retrying in {wait:g}s",
                highlight=False,
            )
        return None
    from watchfloor.web.metrics import write_problem

    # Back only once a write went through: a cycle that only read (nothing new) proves nothing while another process
    # holds the write lock, and said "reachable again" during the outage (trial 19, M2).
    if write_problem(pipeline.store) is None:
        store_watch.up()
    return done


def store_gone(e: BaseException) -> str | None:
    """The line a run stops with when its store's file was deleted or replaced under it, else None."""
    from watchfloor.stream_processors.stores.errors import StoreError

    if not isinstance(e, StoreError) or e.kind != "replaced":
        return None
    return (
        f"{e.problem}; stopping so that nothing is sent twice: restore the file before starting again (a new, empty "
        "store would read every source from the beginning and send its alerts again)"
    )


CYCLE_EVENTS = 2000
"""Events the engine reads at most per pass of a cycle: a log with a backlog (documents ingested by `watchfloor
ingest`, another process's) is read in slices too, the sources polled and the stop asked between them."""


def _retention(store: Any, days: float | None) -> None:
    """The config's `retention_days`: a day's prune, a bounded slice of it per cycle (retention.scheduled)."""
    if days is None:
        return
    from ..retention import RetentionError, scheduled

    try:
        done = scheduled(store, days, datetime.now(UTC))
    except RetentionError as e:  # another prune moved the record: it goes on; this one tries next cycle
        err.print(f"retention: {escape(str(e))}", highlight=False)
        return
    if done is not None and (done.documents or done.finished):
        more = "" if done.finished else "; more next cycle"
        err.print(
            f"retention: the text of {counted(done.documents, 'document')} older than {days:g} days removed{more}",
            highlight=False,
        )


def _cycle(
    pipeline: Any, heartbeat: Any, lines: QuietCycles | None = None, config: Path | None = None, *, owed: bool = False
) -> tuple[Any, Any]:
    started = time.monotonic()
    tallies: list[Any] = []
    reports: list[Any] = []
    if owed:
        reports.append(pipeline.dispatcher.cycle(finish_slow=False))

    # The poll's first seconds (the config's `poll_settle`, 5s by default): what its sources raise is detected as
    # each arrives but delivered together, once they are all in or the time is up (trial 24, F1: delivered source
    # by source, a story's
    # newest report, read first from a newest-first feed, was posted as a story of its own before the other
    # feeds' older reports of it were read; then revised, withdrawn, and its confirmation in another thread).
    # A feed slower than that delivers as it arrives (issue 9 §4: one drip-fed feed held every alert 45 s).
    settle = pipeline.cfg.poll_settle.total_seconds()
    settling = settle > 0
    # A backlog read a slice per cycle (the config's `backlog_settle`, 60 s by default): what its slices raise is
    # delivered together, in event time, once every source has caught up or the time is up (outside trial 26, F3:
    # delivered after each slice, a sparse feed's slice ran weeks ahead of a dense one's; 44 of 87 posts said "Sent
    # late"). Held from the cycle that finds a source behind, whichever source it is.
    hold = pipeline.backlog  # (alerts.backlog.BacklogHold: kept from cycle to cycle)

    def holding() -> bool:
        return bool(hold.holding(time.monotonic()))

    def deliver() -> None:
        # (a slow channel's rows past its budget wait for the closing cycle: the next source's alerts to the
        # other channels do not wait for its backlog)
        nonlocal settling
        if holding():
            return
        if not settling or time.monotonic() - started >= settle:
            settling = False
            reports.append(pipeline.dispatcher.cycle(finish_slow=False))

    def detect() -> None:
        """Run the engine over what the log holds now, delivering what each batch detected at once: under a
        steady stream of documents the runner can take many batches, and an alert must not wait for all of
        them (BENCHMARKS.md, Slack latency)."""
        backlog = pipeline.runner.backlog(limit=CYCLE_EVENTS)

        def after_batch(n: int) -> None:
            prog.advance(task, n)
            deliver()

        with progress_bar() as prog:
            task = prog.add_task("detecting", total=backlog)
            tallies.append(pipeline.runner.run_once(on_batch=after_batch, limit=CYCLE_EVENTS))

    def on_source(result: Any) -> None:
        # A source is stored: detect its alerts now, and deliver them unless the poll is still settling.
        if result.behind:
            hold.begin(time.monotonic())  # a backlog begins: held from now (the poll's settle holds until here)
        if result.ingested is not None and result.ingested.accepted:
            detect()

    def on_settled() -> None:
        nonlocal settling
        settling = False
        deliver()

    # Due-only: every JSONL source, and each feed whose own `poll` interval has passed (all on the first).
    summary = pipeline.poller.poll_due(on_source=on_source, settle=settle if settling else None, on_settled=on_settled)
    settling = False  # every source is in: what follows is delivered batch by batch again
    for src in summary.errors:  # every cycle, one line per source that failed (a live run goes on)
        err.print(source_failed(src.origin, src.error), highlight=False)
    for line in lines.recoveries.lines(summary.sources, time.monotonic()) if lines is not None else []:
        err.print(line, highlight=False)
    absent = [src.origin for src in summary.absent]  # an optional inbox not there yet: no failure
    for origin in lines.newly_absent(absent) if lines is not None else absent:  # (said once, not every poll)
        err.print(source_absent(origin), highlight=False)
    print_dead_letters(summary.dead_letters)
    print_editions_bound(summary)
    detect()  # the rest: the poll's caught-up mark, and what other producers put in the log
    print_dead_letters([dl for t in tallies for dl in t.unprocessable])
    if not summary.behind and not any(t.behind for t in tallies):
        hold.observe(False, time.monotonic())  # every source caught up: what the backlog raised goes now
    # (also enqueues and sends the digests that are due; while a backlog is held, only takes its alerts in)
    report = pipeline.dispatcher.cycle(deliver=not holding()).merged(reports)
    # Event-time reports (a report beyond the allowed lateness, one dated in the future): processed, and said so
    # here as well as in the dead-letter log, per source.
    reported = [dl for t in tallies for dl in t.late]
    print_event_time(
        [(dl.origin, dl.line, dl.reason) for dl in reported],
        f"`watchfloor dead-letters --stage event-time{_config_arg(config)}` lists them all",
    )
    late = f" ({late_by_source(reported)})" if reported else ""
    # Late documents no detection reads (a backfill's old items, mostly): counted here and in the heartbeat
    # (status, /metrics), not dead-lettered, so the late reports that can change an alert stand out (trial 67, MED-4)
    passed, lettered = late_by_origin(tallies)
    heartbeat.late(passed, lettered)
    pipeline.control.expire_lapsed()  # `silence.expired` when a silence's end passes, even with no alert to route
    _retention(pipeline.store, pipeline.cfg.retention_days)
    # The heartbeat /healthz and /metrics read, from this process or a `watchfloor serve` beside it.
    behind = [s.origin for s in summary.behind] + (["engine"] if any(t.behind for t in tallies) else [])
    heartbeat.cycle(datetime.now(UTC), time.monotonic() - started, [source_poll(s) for s in summary.sources], behind)
    polled = (
        f"polled {counted(len(summary.sources), 'source')}{failed_sources_note(summary)}: "
        f"{counted(summary.accepted, 'new document')}{edited(summary.editions, summary.editions_left_out)}, "
        f"{summary.duplicates} already seen, {counted(summary.dead_lettered, 'dead letter')}"
        f"{seen_before(summary.known_dead)}"
        if summary.sources
        # A cycle that woke to deliver (or for a source not due yet: each has its own `poll`): "polled 0 sources"
        # read like a failure to poll anything (outside trial 23, M3-3).
        else "no source due to poll (each is polled at its own `poll` interval)"
    )
    text = (
        f"{polled} · "
        f"{sum(t.documents for t in tallies)} processed, {counted(sum(t.signals for t in tallies), 'signal')}, "
        f"{counted(sum(len(t.detections) for t in tallies), 'alert')}, "
        f"{counted(len(reported), 'event-time report')}{late}{passed_over_note(passed)} · "
        f"{delivery_summary(report, pipeline.dispatcher)}"
    )
    # Catching up: the sources and the engine still behind, said on the summary line (what it reached) and kept in
    # the heartbeat, so /healthz says "catching up" rather than "stale" (M1).
    summary.catching_up = behind
    if behind:
        text += catching_up_note(summary, engine="engine" in behind)
    t = report.tally
    quiet = not (
        summary.accepted
        or summary.editions_left_out
        or summary.dead_lettered
        or summary.errors
        or any(x.documents for x in tallies)
        or reported
        or passed
        or report.outstanding
        or t.sent
        or t.failed
        or t.expired
        or t.suppressed
        or t.replaced
        or t.withdrawn
        or t.digests
        or t.summaries
    )
    shown = text if lines is None else lines.line(text, quiet=quiet)
    if shown is not None:
        err.print(shown, highlight=False)
    return report, summary


def source_poll(result: Any) -> Any:
    """A source's poll (poller.SourceResult) as the heartbeat keeps it (activity.SourcePoll)."""
    from watchfloor.web.activity import SourcePoll

    left_out = result.ingested.editions_left_out if result.ingested is not None else 0
    return SourcePoll(result.origin, result.seconds, result.error, editions_left_out=left_out)


def slower_sources(sources: Any, wait: float) -> str:
    """The sources read less often than every cycle of `wait` seconds (a feed, a GDELT lastupdate.txt: each once its
    own `poll` has passed since it was last read, at the next cycle: poller.own_poll), as "feeds.example/a.xml is
    read at most every 15m, …"; "" when none."""
    from watchfloor.producers.poller import own_poll

    slower: dict[str, list[str]] = {}
    for s in sources:
        poll = own_poll(s)
        if poll is None or poll.total_seconds() <= wait:
            continue
        slower.setdefault(_duration(poll.total_seconds()), []).append(shown_origin(getattr(s, "url", None) or s.path))
    return "; ".join(
        f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} read at most every {every}"
        for every, names in slower.items()
    )


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def source_origins(sources: Any) -> list[str]:
    """What each configured source is known by in poll results and the heartbeat: its path or URL."""
    return [getattr(s, "path", None) or s.url for s in sources]


def late_by_source(reports: list[Any]) -> str:
    """'inbox/a.jsonl: 2 late, 1 dated in the future, 1 dated at the Unix epoch; ...' for the summary line."""
    from watchfloor.stream_processors.engine.engine import EPOCH_DATED

    counts: dict[str, dict[str, int]] = {}
    for dl in reports:
        if dl.reason.startswith("late"):
            what = "late"
        elif dl.reason.startswith(EPOCH_DATED):
            what = EPOCH_DATED
        else:
            what = "dated in the future"
        per = counts.setdefault(shown_origin(dl.origin), {})
        per[what] = per.get(what, 0) + 1
    return "; ".join(
        f"{origin}: " + ", ".join(f"{n} {what}" for what, n in per.items()) for origin, per in counts.items()
    )


def late_by_origin(tallies: Any) -> tuple[dict[str, int], dict[str, int]]:
    """A cycle's late documents per origin ("" for none), from its engine tallies: (passed over, dead-lettered)."""
    from watchfloor.stream_processors.engine.engine import LATE

    passed: dict[str, int] = {}
    lettered: dict[str, int] = {}
    for t in tallies:
        for origin, n in t.passed_over.items():
            passed[origin] = passed.get(origin, 0) + n
        for dl in t.late:
            if dl.reason.startswith(LATE):
                # (a document with no origin is named by its id: counted with the others of none, not one by one)
                where = "" if dl.origin.startswith("document:") else dl.origin
                lettered[where] = lettered.get(where, 0) + 1
    return passed, lettered


def passed_over_note(passed: Mapping[str, int]) -> str:
    """', 340 late documents passed over (no detection reads them: inbox/old.jsonl 340)' for the summary line, or "":
    late documents that raised no signal a detection reads are counted, not dead-lettered (Engine.late_reports)."""
    total = sum(passed.values())
    if not total:
        return ""
    where = "; ".join(f"{shown_origin(o) if o else 'no origin'} {n}" for o, n in passed.items() if n)
    return f", {counted(total, 'late document')} passed over (no detection reads them: {where})"


def _rules_args(rules: list[str]) -> str:
    return "".join(f" --rules {shlex.quote(r)}" for r in rules)


def _config_arg(config: Path | None) -> str:
    """` --config PATH` when the run was given one, so a command it suggests can be pasted as printed."""
    return f" --config {shlex.quote(str(config))}" if config is not None else ""
