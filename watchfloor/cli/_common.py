"""Shared pieces of the command line: the Typer apps, consoles, config loading, progress bars, errors.

A store that cannot be used (unreachable, read-only, corrupt, missing: `StoreError`) or a file the command
cannot read or write (`OSError`) ends any command with one line on stderr and exit code 1, never a
traceback: `_CommandGroup` catches them around every command.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperArgument, TyperCommand, TyperGroup

from watchfloor.schemas.inputs import visible_text as visible_text
from watchfloor.schemas.plural import counted as counted
from watchfloor.stream_processors.kafka.clients import KafkaAuthenticationFailed
from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.errors import redact_url as redact_url
from watchfloor.stream_processors.stores.notices import SchemaMigrated, on_schema_migrated

from ..config import ConfigError, default_config_path, load_config

WIDTH_WITHOUT_TERMINAL = 160


class _Console(Console):
    """A console as wide as its terminal, or $COLUMNS; with neither (cron, CI, a script's pipe) 160 columns, not
    rich's 80, which folds every cell of a table into several lines that grep and mail cannot follow. With `stamp`
    set (log_times), each line printed starts with the time it gives."""

    stamp: Callable[[], str] | None = None

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if self.stamp is not None and objects and isinstance(objects[0], str):
            # (a plain prefix: no markup in it, so it is the same whether the line's markup is read or not)
            objects = (f"{self.stamp()} {objects[0]}", *objects[1:])
        super().print(*objects, **kwargs)

    @property
    def size(self) -> ConsoleDimensions:
        dims = super().size
        if self._width is None and not self._environ.get("COLUMNS") and not _any_terminal():
            return ConsoleDimensions(WIDTH_WITHOUT_TERMINAL, dims.height)
        return dims

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


def _any_terminal() -> bool:
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return True
        except OSError:
            continue
    return False


# No emoji codes: what is printed carries paths, file:line places and text users or feeds wrote, and rich read the
# ":100:" of `inbox.jsonl:100: …` (or of a file named so) as the 💯 emoji (trial 48, LOW-1). Nothing printed uses one.
out = _Console(soft_wrap=True, emoji=False)
err = _Console(stderr=True, soft_wrap=True, emoji=False)


def _say_migration(migrated: SchemaMigrated) -> None:
    err.print(str(migrated), markup=False, highlight=False)


# Every command that opens a store says when opening it migrated the schema (outside trial 15, L1: an upgrade
# migrated the store in silence, and a rollback is refused from then on).
on_schema_migrated(_say_migration)

# A table column of ids that people type next (`subscriptions remove sub-…`): kept whole on one line, never cut
# to "sub-361…" in a narrow terminal; only a terminal narrower than the id itself folds it.
ID_COLUMN: dict[str, Any] = {"no_wrap": True, "overflow": "fold"}


def error_line(e: BaseException) -> str:
    """One line for an environmental failure: what and where, no traceback, no secret."""
    if isinstance(e, StoreError | KafkaAuthenticationFailed):
        return str(e)
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or e}"
    return f"{exception_name(e)}: {e}"


def exception_name(e: BaseException) -> str:
    """The exception's class as a reader can place it: `zlib.error`, not a bare `error` (trial 59, LOW-3: `run
    --once` said "error: error: Error -3 …" and a live cycle "cycle failed error: …")."""
    name = type(e).__name__
    module = type(e).__module__
    if name.islower() and module not in ("builtins", "__main__"):
        return f"{module}.{name}"
    return name


class _CommandGroup(TyperGroup):
    """The top-level group: StoreError, OSError and KafkaAuthenticationFailed from any command become one line
    and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        _config_read.clear()  # (a test's CliRunner invokes many commands in one process)
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # stdout closed under us (`watchfloor --help | head`): not an error to report. Typer's main ends it as
            # Python's convention for SIGPIPE has it, exit 1 and no message (outside trial 77, F5: "error: Broken
            # pipe" on stderr)
            raise
        except (StoreError, OSError, KafkaAuthenticationFailed) as e:
            err.print(f"[red]error:[/red] {escape(error_line(e))}", highlight=False)
            if isinstance(e, StoreError):
                # Only a store the bundled config named: one given by --store or $WATCHFLOOR_STORE is not its.
                _say_bundled_config(store=e.url)
            raise typer.Exit(1) from None


# The note an error of this command ends with when the config it read is the bundled demo one (no --config, no
# $WATCHFLOOR_CONFIG): set by app_config, said by fail() and the store errors above, so that every command's
# errors that come from the config ("unknown channel 'desk'", "no store at ./var/watchfloor.db") say which config
# they come from (outside trial 15, M5), with no command saying it on its own.
_config_read: list[tuple[str, str]] = []  # (the note, the store the bundled config named, redacted)


def _say_bundled_config(store: str | None = None) -> None:
    """The note, if this command read the bundled config; for a store error (`store`: its URL, redacted), only when
    that store is the one the bundled config named."""
    for note, named in _config_read:
        if store is None or store == named:
            err.print(note, highlight=False, markup=False)


_program = threading.Event()  # set by main(): this process is the `watchfloor` program, not a test's CliRunner


def run_as_program() -> None:
    _program.set()


LOG_TIME_ENV = "WATCHFLOOR_LOG_TIME"


def utc_stamp(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Callable[[], str]:
    return lambda: clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def log_times(clock: Callable[[], datetime] = lambda: datetime.now(UTC), *, logs: bool = True) -> Iterator[None]:
    """For the long-running modes (a live `run`, `notify`, `worker`, `serve`): each line they print to stderr, and
    each warning logged, starts with the UTC time (2026-12-06T10:47:55Z), so that an incident's lines can be matched
    with Slack's or PostgreSQL's logs (trial 50, LOW-1: none had a time). On when this is the `watchfloor` program, off
    under a test's CliRunner (whose output tests pin); $WATCHFLOOR_LOG_TIME=1 or 0 says so either way (0: a log
    collector that stamps lines itself). `logs`: the warnings logged too (not where a library's logging has its own
    time). Undone on leaving: the console and the root logger are the process's."""
    asked = os.environ.get(LOG_TIME_ENV, "").strip()
    if not (asked == "1" if asked in ("0", "1") else _program.is_set()):
        yield
        return
    stamp = utc_stamp(clock)
    handler = logging.StreamHandler()  # (sys.stderr, as logging's last resort wrote the warnings without a time)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(StampedFormatter(stamp))
    root = logging.getLogger()
    before = err.stamp
    err.stamp = stamp  # (stderr only: what a command prints to stdout may be read by a program)
    if logs:
        root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        err.stamp = before


class StampedFormatter(logging.Formatter):
    """A log record's line after the UTC time `stamp` gives (log_times)."""

    def __init__(self, stamp: Callable[[], str], fmt: str = "%(message)s") -> None:
        super().__init__(fmt)
        self.stamp = stamp

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.stamp()} {super().format(record)}"


def end_process(code: int) -> None:
    """End the program now, with this exit code, once its output is flushed, without freeing what the
    command built object by object: a rule pack of 20,000 signals is millions of objects, and freeing
    them took ~0.7 s of a 7 s `rules check`; the system takes the memory back at once (mypy ends the
    same way). Only for the program itself: under a test's CliRunner this returns and the command ends
    as usual. For commands with nothing left to do (no open files, stores or threads to close)."""
    if not _program.is_set():
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said anyway
            pass
    os._exit(code)


_F = TypeVar("_F", bound=Callable[..., Any])


class _Command(TyperCommand):
    """A command whose usage line names its arguments as command lines do: `ingest [OPTIONS] SOURCES...`, not
    Typer's `{sources}...` (braces read as a set of choices)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if not isinstance(param, TyperArgument):
                pieces.extend(param.get_usage_pieces(ctx))
                continue
            name = (param.metavar or param.name or "").upper()
            name = name if param.required else f"[{name}]"
            pieces.append(f"{name}..." if param.nargs != 1 else name)
        return pieces


class Typer(typer.Typer):
    """typer.Typer whose commands are `_Command`s."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[_F], _F]:
        decorate: Callable[[_F], _F] = super().command(name, cls=cls or _Command, **kwargs)
        return decorate


app = Typer(
    cls=_CommandGroup, help="Event-sourced alerting for geopolitical news.", no_args_is_help=True, add_completion=False
)
rules_app = Typer(help="Validate and test detection rule packs.", no_args_is_help=True)
alerts_app = Typer(help="Alerts raised so far.", no_args_is_help=True)
schemas_app = Typer(help="JSON Schemas for inputs, events, rule packs and config.", no_args_is_help=True)


def _print_version(asked: bool) -> None:
    if asked:  # the release `status` lists for a process of this build (outside trial 76, F4)
        from watchfloor.stream_processors.fingerprint import CHANGELOG_POINT, release
        from watchfloor.stream_processors.stores.migrations import latest_version

        typer.echo(f"watchfloor {release()}")
        # (what an upgrade reads CHANGELOG.md for: outside trial 83, F4)
        typer.echo(f"CHANGELOG.md: up to its entries of {CHANGELOG_POINT}; store schema version {latest_version()}")
        raise typer.Exit()


@app.callback()
def _top(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print this release (the version and a digest of its files, as `status` lists it), the newest "
            "CHANGELOG.md entries it answers to and its store schema version, and exit.",
        ),
    ] = False,
) -> None:
    """Event-sourced alerting for geopolitical news."""


app.add_typer(rules_app, name="rules")
app.add_typer(alerts_app, name="alerts")
app.add_typer(schemas_app, name="schemas")

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (YAML). Default: the bundled embedded demo.", envvar="WATCHFLOOR_CONFIG"
    ),
]


def progress_bar(console: Console = err) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


class StoryReadProgress:
    """The dispatcher's long reads of the log's detections for stories (alerts.dispatcher.StoryProgress: at
    start-up, every detection in the log, ~17 s at a million): a bar on a terminal, else, as cron's and systemd's
    logs have no bar, one line when it is done with the count and the time."""

    def __init__(self, console: Console = err, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.clock = clock
        self.started = 0.0
        self.bar: Progress | None = None
        self.task: Any = None

    def begin(self, positions: int) -> None:
        self.started = self.clock()
        if self.console.is_terminal:
            self.bar = progress_bar(self.console)
            self.bar.start()
            self.task = self.bar.add_task("reading the log's detections for stories", total=positions)

    def advance(self, positions: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=positions)

    def end(self, detections: int) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
            return
        seconds = self.clock() - self.started
        self.console.print(f"stories: {detections:,} detections read from the log in {seconds:.1f} s", highlight=False)


def app_config(path: Path | None, *, note: bool = True) -> Any:
    """The config file (or the bundled default); WATCHFLOOR_STORE overrides its store (containers). With `note`
    (the default), an error of the command read from the bundled default says so (`bundled_config_note`); a caller
    whose errors cannot come from that config passes False."""
    try:
        cfg = load_config(path)
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    from ..wiring import with_store_env  # the one environment override of the store

    named = cfg.store  # the bundled config's own store, not $WATCHFLOOR_STORE's
    cfg = with_store_env(cfg)
    _config_read.clear()
    if path is None and note:
        _config_read.append((bundled_config_note(cfg), redact_url(named)))
    return cfg


def bundled_config_note(cfg: Any) -> str:
    """What follows an error of a command that read the bundled demo config: that it did, what it holds (the
    names an error refers to), and how to read one's own."""
    channels = " and ".join(", ".join(ch.name for ch in cfg.channels).rsplit(", ", 1)) or "none"
    return (
        f"note: no --config given (nor $WATCHFLOOR_CONFIG), so this read the bundled demo config "
        f"({default_config_path()}: store {redact_url(cfg.store)}, channels {channels}); "
        "give --config FILE or set WATCHFLOOR_CONFIG to use your own"
    )


class Stop(threading.Event):
    """Set by SIGTERM (`signal` then names it), so long-running commands finish their cycle and close cleanly."""

    signal: str | None = None
    signalled = False

    def on_signal(self, signum: int, _frame: object) -> None:
        self.signal = signal.Signals(signum).name
        # Not set() here: the handler runs on the main thread between two bytecodes, possibly inside this very
        # Event's wait(), which holds its (not reentrant) lock there, and set() would wait for that lock for ever (a
        # `run` catching up, waiting 0 s between slices, hung on SIGTERM about one time in two). The flag is seen at
        # once (is_set, wait); a waiter already asleep is woken by set() from another thread.
        self.signalled = True
        threading.Thread(target=self.set, name="stop-on-signal", daemon=True).start()

    def is_set(self) -> bool:
        return self.signalled or super().is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return True if self.signalled else super().wait(timeout)


def stop_on_sigterm() -> Stop:
    """A Stop that SIGTERM sets."""
    stop = Stop()
    signal.signal(signal.SIGTERM, stop.on_signal)
    return stop


def stopped_line(command: str, why: str, cycles: int | None = None, noun: str = "cycle") -> str:
    """The last line of a long-running command that stopped as asked (`why`: SIGTERM, Ctrl-C), so that a clean
    stop can be told from a crash or a kill in its log (outside trial 14, L4): `run stopped (SIGTERM) after 12
    cycles`."""
    after = "" if cycles is None else f" after {counted(cycles, noun, noun + 'es' if noun.endswith('s') else None)}"
    return f"{command} stopped ({why}){after}"


class QuietCycles:
    """Which summary lines a live loop prints: every cycle that did something; of the quiet ones (nothing new,
    nothing failed, nothing waiting to be delivered) one per `every` seconds, saying how many it stands for, so
    that a quiet week's log is not a line a minute and a stopped loop still shows (no line for 10 minutes)."""

    def __init__(self, every: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.last: float | None = None  # when a line was last printed
        self.held = 0  # quiet cycles not printed since
        self.since: datetime | None = None
        self.recoveries = SourceRecoveries()  # the sources that failed, to say when each reads again
        self.absent_said: set[str] = set()  # optional sources said to be not there yet, and not there since

    def newly_absent(self, origins: Iterable[str]) -> list[str]:
        """Of the optional sources not there this poll, those to say: each once until its file appears (then again
        if it goes), not every poll (outside trial 84, F7: 48 lines in 4 minutes of a live `produce`)."""
        now = list(origins)
        said = [o for o in now if o not in self.absent_said]
        self.absent_said = set(now)
        return said

    def line(self, text: str, *, quiet: bool) -> str | None:
        """`text` to print now, with a note of the quiet cycles before it, or None to print nothing."""
        now = self.clock()
        if quiet and self.last is not None and now - self.last < self.every:
            if not self.held:
                self.since = datetime.now(UTC)
            self.held += 1
            return None
        if self.held and self.since is not None:
            text += f" (and {counted(self.held, 'quiet poll')} since {self.since:%H:%M:%S} UTC, not shown)"
        self.last, self.held, self.since = now, 0, None
        return text


def seen_before(known: int) -> str:
    """' (2 seen before, not shown again)' after a dead-letter count: bad inputs an earlier read logged already."""
    return f" ({known} seen before, not shown again)" if known else ""


def edited(editions: int, left_out: int = 0) -> str:
    """' (1 edited in place)' after a count of new documents: feed items read again as editions (publish.py); and
    the edits left out as their items had their source's max_editions already (' (2 edits past max_editions left
    out)')."""
    said = [f"{editions} edited in place"] if editions else []
    if left_out:
        said.append(f"{left_out} edit{'s' if left_out != 1 else ''} past max_editions left out")
    return f" ({', '.join(said)})" if said else ""


def print_editions_bound(summary: Any) -> None:
    """One line per feed item whose edits a poll began to leave out (its source's max_editions reached): which, so
    that a live blog at its bound is seen once, and not only as a count (`PollSummary`'s sources)."""
    for src in summary.sources:
        got = src.ingested
        for item in got.at_bound if got is not None else ():
            err.print(
                f"[yellow]edits left out[/yellow] {escape(redact_url(src.origin))}: item {escape(visible_text(item))} "
                f"has {got.max_editions} editions (max_editions): its later edits are counted, not read",
                highlight=False,
            )


def source_failed(origin: str, error: str | None) -> str:
    """The line a live command prints for a source whose poll failed: its URL without secrets (a feed's key), its
    error without control characters (an HTTP reason phrase is the feed server's to write)."""
    said = f"[yellow]source {escape(redact_url(origin))} failed[/yellow]"
    return f"{said}: {escape(visible_text(error or ''))}"


class SourceRecoveries:
    """Which sources failed their last poll, so that a live command says when one reads again: the failure lines
    just stopped, and an operator could not tell a recovered source from one no longer polled (trial 59, LOW-3)."""

    def __init__(self) -> None:
        self._failing: dict[str, float] = {}  # origin -> monotonic time of its first failed poll in a row

    def lines(self, sources: Sequence[Any], now: float) -> list[str]:
        """The "read again" lines for this poll's `sources` (each with `.origin` and `.error`): one per source that
        failed its previous poll and was read now. A source not polled this time keeps its state."""
        said: list[str] = []
        for src in sources:
            if src.error is not None:
                self._failing.setdefault(src.origin, now)
            elif (since := self._failing.pop(src.origin, None)) is not None:
                said.append(
                    f"[green]source {escape(redact_url(src.origin))} read again[/green] "
                    f"after failing for {_seconds_said(now - since)}"
                )
        return said


def _seconds_said(seconds: float) -> str:
    s = max(0, round(seconds))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h {s % 3600 // 60}m"


def source_absent(origin: str) -> str:
    """The line a live command prints for an optional JSON Lines source whose file is not there (yet): no failure
    (trial 45, MED-4: the compose inbox, never filled, failed every poll and made /healthz 503)."""
    return f"source {escape(redact_url(origin))}: not there yet (optional: nothing to read; read once the file exists)"


def shown_origin(origin: str, line: int | None = None) -> str:
    """Where a dead letter is, as a terminal shows it: `FILE:LINE`, or a feed's URL without its password or key
    (documents' and older dead letters' origins are the source as configured)."""
    shown = redact_url(origin)
    return f"{shown}:{line}" if line else shown


def shown_channel(channel: str, names: Mapping[str, str]) -> str:
    """A routing channel as people read it: `slack:C0123 (#kursk-desk)` for a Slack channel subscribed from Slack,
    whose name its subscription keeps (trial 29, F6: the id alone told an operator nothing); else as it is."""
    name = names.get(channel)
    return f"{channel} (#{name})" if name else channel


EVENT_TIME_SHOWN = 20  # event-time lines a cycle prints; past them, how many more and where they all are


def print_event_time(reported: Sequence[tuple[str | None, int | None, str]], where_all: str) -> None:
    """One yellow line per event-time report, (origin, line, reason) (a report beyond the allowed lateness, one dated
    in the future or at the Unix epoch), as `run` and `produce` say them: `FILE:LINE` as a dead letter is said; past
    EVENT_TIME_SHOWN, how many more and `where_all` they are."""
    for origin, line, reason in reported[:EVENT_TIME_SHOWN]:
        where = shown_origin(origin, line) if origin else "(no origin)"
        err.print(f"[yellow]event time[/yellow] {escape(where)}: {escape(reason)}", highlight=False)
    if len(reported) > EVENT_TIME_SHOWN:
        err.print(f"… and {len(reported) - EVENT_TIME_SHOWN} more event-time reports: {where_all}", highlight=False)


def print_dead_letters(letters: Any, *, limit: int | None = 20, label: str = "dead letter") -> None:
    """One line per dead letter, as every command says them: `dead letter FILE:LINE (field F): REASON`. Past
    `limit`, a count and the command that lists them all (they are in the store's dead-letter log)."""
    letters = list(letters)
    shown = letters if limit is None else letters[:limit]
    for dl in shown:
        where = shown_origin(dl.origin, dl.line)
        field = f" (field {dl.field})" if dl.field else ""
        err.print(f"[yellow]{label}[/yellow] {escape(where)}{escape(field)}: {escape(dl.reason)}", highlight=False)
    if len(letters) > len(shown):
        err.print(
            f"… and {len(letters) - len(shown)} more dead letters: `watchfloor dead-letters` lists them all",
            highlight=False,
        )


def check_channel_name(
    cfg: Any, channel: str, *, also: set[str] | frozenset[str] = frozenset(), any_slack: bool = True
) -> None:
    """Refuse a channel name that is neither in the config, nor `slack:CHANNEL_ID` (a channel the Slack app
    subscribed; with `any_slack=False` only one in `also`), nor in `also` (names the store knows): a typo would
    otherwise look like success. The refusal names the known channels, the closest first."""
    from difflib import get_close_matches

    names = {ch.name for ch in cfg.channels}
    slack_id = channel.startswith("slack:") and len(channel) > len("slack:")
    if channel in names or channel in also or (any_slack and slack_id):
        return
    known = sorted(names | also)
    near = get_close_matches(channel, known, n=1, cutoff=0.6)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    slack = " or slack:CHANNEL_ID" if any_slack else ""
    raise fail(f"unknown channel {channel!r}{hint}: use one of {', '.join(known) or 'none'}{slack}")


UNDETECTED_LIMIT = 10_000  # documents counted at most, so the look costs little on a large log


def undetected_documents(store: Any) -> int | None:
    """Documents in the store that no embedded `watchfloor run` has processed yet (at most UNDETECTED_LIMIT + 1),
    when detection is `run`'s work on this store; None when the distributed runtime feeds it, where the workers
    detect and a document waiting here says nothing: its relay published from it, or no embedded pass ran and no
    producer polled into it (an archive of the workers' topics holds documents and detections, and no caught-up
    mark: the relay turns those into watermarks, which the archive does not keep)."""
    from watchfloor.producers.relay import relayed_position
    from watchfloor.schemas.events import DOCUMENT_TYPES, EventType
    from watchfloor.stream_processors.runner import ENGINE_PROCESSOR

    if relayed_position(store) > 0:  # relayed to any target: the workers detect
        return None
    position = store.checkpoint_position(ENGINE_PROCESSOR)
    if position == 0 and not store.read(0, types={EventType.CAUGHT_UP.value}, limit=1):
        return None
    return len(store.read_payloads(position, types=DOCUMENT_TYPES, limit=UNDETECTED_LIMIT + 1))


def undetected_note(waiting: int) -> str:
    """What to tell a user whose documents wait for detection (outside trial 9, F3)."""
    n = f"more than {UNDETECTED_LIMIT:,}" if waiting > UNDETECTED_LIMIT else f"{waiting:,}"
    return (
        f"{n} document{'s' if waiting != 1 else ''} in the store not through detection yet: `watchfloor run` "
        "detects and delivers them (`run --once` for one pass; with Kafka, the workers do); `notify` only delivers "
        "what is detected"
    )


def fail(message: str) -> typer.Exit:
    """Say `error: MESSAGE` on stderr; the exit to raise. The message is shown as written, never read as Rich
    markup: it carries paths, ids and text users typed, and `[rule-id]` or `watchfloor[kafka]` would vanish."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    _say_bundled_config()
    return typer.Exit(1)


def interval_seconds(value: str | float) -> float:
    """A CLI interval in seconds: a number ("3", "0.5") or a duration as the config writes one ("3s", "5m", "1h"):
    `--interval 3s` was refused as not a number while the config's `poll_interval: 60s` is the same setting (trial
    38, LOW-8)."""
    import typer

    from watchfloor.schemas.rules import parse_duration  # (the config's own reading of `poll_interval: 60s`)

    if isinstance(value, int | float):  # a default given as a number (`notify`'s 2.0) comes through the parser too
        return float(value)
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parse_duration(text).total_seconds()
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not an interval: seconds (e.g. 30, 0.5) or a duration (e.g. 30s, 5m, 1h)"
            ) from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise typer.BadParameter(f"{value!r}: an interval must be more than 0 seconds")
    return seconds


def broker_origin(broker: str | None, cfg: Any, bootstrap: str) -> str:
    """Where a command's Kafka address came from, for its "unreachable" line (outside trial 39, L: a leftover
    $WATCHFLOOR_KAFKA won over the config without a word), and a missing port said: kafka-python then tries 9092."""
    import os
    import sys

    if broker is not None:
        given = any(a == "--broker" or a.startswith("--broker=") for a in sys.argv[1:])
        where = "--broker" if given or os.environ.get("WATCHFLOOR_KAFKA") != broker else "$WATCHFLOOR_KAFKA"
    elif "kafka" in getattr(cfg, "model_fields_set", ()):
        where = "the config's kafka.bootstrap"
    else:
        where = "the default (no --broker, $WATCHFLOOR_KAFKA or kafka: section)"
    from watchfloor.stream_processors.kafka.topics import bootstrap_servers

    hosts = bootstrap_servers(bootstrap).split(",")
    portless = [h for h in hosts if h and ":" not in h.rsplit("]", 1)[-1]]
    port = f"; no port given for {', '.join(portless)}: 9092 is tried" if portless else ""
    return f"the address from {where}{port}"
