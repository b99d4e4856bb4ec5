"""Poll every configured source and publish what it yields; remember each HTTP feed's ETag/Last-Modified.

After each poll the poller records a CaughtUp mark in the log, naming every source it read to the end:
event time moves at those marks (stream_processors/engine/eventtime.py), so the order in which one poll
reads its sources never makes one source's items late for another's, and a replay of the log moves event
time exactly as the live run did. A poll that brought nothing new writes one only every MARK_EVERY.

A JSON Lines source is read whole by `ingest` (document ids are deterministic and the log skips known ids, so
re-reading is idempotent). A `bounded` poller (`run`'s and `produce`'s) reads it from where its last poll stopped: the
checkpoint `source:<path>` = {"offset", "line", "tail", "size", "mtime_ns", "dead"} (producers/jsonl.JsonlPosition) is
committed with the documents of the lines before it, at most the source's `max_lines_per_poll` lines per poll, and
the source is said to be `behind` while more is left: a backlog is read a slice per poll. A file whose bytes before
the offset changed (truncated, replaced, rewritten), or that was modified in place keeping its size (a line fixed to
the same length), is read from its start again, which adds only what is new. (A line edited in place in a file that
has also grown since is not told from an append: it is not read again, unless it is one of the newest 32 lines that
were dead-lettered, whose bytes the position keeps a print of: a bad line fixed in place is read.) A `.gz` file's
decompressor is kept open from one poll to the next (jsonl.OpenDecompressors; `close()` closes them). Under `produce`
the position is saved with the documents in the outbox store, which is what makes them durable; the relay moves its
own checkpoint only once the broker acknowledged them (or the spool holds them), so the source position never runs
ahead of what is durable, and Kafka's acknowledgement is the relay's business, not the poller's.
A GDELT source (a file, or a folder of export files) reads each file once: the checkpoint `source:<path>` =
{"files": {file: [size, mtime_ns]}} is committed with each file's last batch of documents, in one transaction (a
crash leaves neither or both), so a file is read again only when it changes (ids make that idempotent too), and a
new file at the next poll. A folder's damaged file is passed over until it changes ("damaged"), with a dead letter.
Two GDELT sources of one path or url (other filters) each keep their own, `source:<where>#<filters>`
(source_checkpoint).
A GDELT source at a `url` (GDELT 2.0's lastupdate.txt, gdelt_live.py) downloads, each `poll`, the export files
published since the last one read: the checkpoint `source:<url>` = {"at": YYYYMMDDHHMMSS, "export": url} is
committed with each file's last batch of documents, so a restart neither reads a file again nor skips one.
An RSS source at an http(s) URL keeps its cache validators in the store as the checkpoint `source:<url>` =
{"etag", "modified"}, committed in the same transaction as that poll's documents. A source that fails (missing
file, unreachable feed, not a feed) is reported in the summary and the log; it never stops the other sources or the
loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from watchfloor.schemas.config import GdeltSource, JsonlSource, RssSource
from watchfloor.schemas.events import CaughtUp, DeadLetter, Document, caught_up_event
from watchfloor.schemas.gdelt_codes import UNKNOWN_COUNTRY
from watchfloor.schemas.inputs import DEFAULT_MAX_BODY_CHARS
from watchfloor.schemas.redact import redact_url
from watchfloor.stream_processors.ports import Checkpoint, CheckpointStore, EventLog

from .gdelt import (
    GdeltOptions,
    GdeltSourceError,
    auto_folder_problem,
    export_files,
    read_gdelt,
    read_gdelt_archive,
)
from .gdelt_live import SLOT, LiveExports, LiveFile, parse_stamp, stamp
from .jsonl import JsonlPosition, JsonlSourceError, OpenDecompressors, read_jsonl_slice
from .publish import DEFAULT_BATCH_SIZE, IngestSummary, Located, ingest, source_feed
from .rss import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, FeedError, FeedResult, fetch_feed
from .source_auth import MissingSecret, source_credentials, source_query

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_CONCURRENT_FETCHES = 8
"""Feeds fetched at once in one poll (each within its own deadline)."""

MARK_EVERY = 300.0  # seconds: how often a poll that brought nothing new still records a CaughtUp mark


class IngestStore(EventLog, CheckpointStore, Protocol):
    """What the poller needs: an event log that also keeps checkpoints (MemoryStore, the SQL stores)."""


def checkpoint_name(url: str) -> str:
    return f"source:{url}"


def _filters_key(source: GdeltSource) -> str:
    """A GDELT source's row filters, as text: what tells apart two sources of one folder or lastupdate.txt."""
    return (
        f"event_codes={','.join(source.event_codes)};countries={','.join(source.countries)};"
        f"root_only={str(source.root_only).lower()};min_mentions={source.min_mentions}"
    )


def _gdelt_where(source: GdeltSource) -> str:
    """What a GDELT source reads, to tell two sources of the same one (`./inbox/` is `./inbox`)."""
    return source.url if source.url is not None else os.path.normpath(source.path or "")


def source_checkpoint(
    source: JsonlSource | RssSource | GdeltSource, sources: Sequence[JsonlSource | RssSource | GdeltSource]
) -> str:
    """The checkpoint of `source` among the configured `sources`: `source:<path or url>`, unless other GDELT sources
    name the same folder, file or lastupdate.txt (with other filters: the way to filter it per rule family), when
    each keeps its own, `source:<path or url>#<filters>` (outside trial 65, HIGH-1: one shared checkpoint, so the
    second source found every file read by the first and its rows were lost). A path only one source names keeps
    the plain key, so its progress stands; a path that becomes shared is read once more by each source (ids make
    that idempotent: what the other source had taken is already in the log)."""
    if isinstance(source, JsonlSource):
        return checkpoint_name(source.path)
    if isinstance(source, RssSource):
        return checkpoint_name(source.url)
    where = source.url if source.url is not None else source.path
    assert where is not None
    shared = sum(1 for s in sources if isinstance(s, GdeltSource) and _gdelt_where(s) == _gdelt_where(source))
    return checkpoint_name(where) if shared <= 1 else f"{checkpoint_name(where)}#{_filters_key(source)}"


class SourcePositions(CheckpointStore, Protocol):
    """What `unread_sources` reads: the checkpoints, and their names (every store)."""

    def checkpoint_positions(self) -> dict[str, int]: ...


UNREAD_PEEK = 1 << 20
"""How much past a JSON Lines source's saved position `unread_sources` looks for a whole line."""


def unread_sources(store: SourcePositions) -> dict[str, str]:
    """The JSON Lines sources with lines a poll has not read yet, from their saved positions (`source:<path>`)
    against the files now: path -> what is unread (outside trial 20, M3: `status` said "caught up" while a
    stopped `run --once` had left 7,863 lines of a source unread). Only what is exact and cheap: a plain file
    longer than its saved offset with a whole line after it (a last line still being written is not one), a file
    edited in place since, or one a dead-lettered line of which changed (both read again from their start), a .gz
    file whose size changed. A path that cannot be opened from here (relative to another directory, removed) is left
    to the poller's own failure reports; RSS and GDELT sources cannot know what their publisher has not shown yet."""
    out: dict[str, str] = {}
    for name in sorted(store.checkpoint_positions()):
        if not name.startswith("source:"):
            continue
        state = store.load_checkpoint(name).state
        if not isinstance(state, dict) or "offset" not in state:
            continue  # not a JSON Lines position (a GDELT folder's files, an RSS feed's validators)
        path = Path(name.removeprefix("source:"))
        at = JsonlPosition.from_state(state)
        try:
            st = os.stat(path)
            if at.edited(st):
                out[str(path)] = "edited in place since it was read: it is read again from its start"
            elif path.suffix == ".gz":
                if at.size >= 0 and st.st_size != at.size:
                    out[str(path)] = f"{st.st_size - at.size:+,} compressed bytes since it was read"
            else:
                with open(path, "rb") as f:
                    if at.dead_line_fixed(f):
                        out[str(path)] = "a dead-lettered line changed since it was read: read again from its start"
                    elif st.st_size > at.offset:
                        f.seek(at.offset)
                        if b"\n" in f.read(UNREAD_PEEK):
                            out[str(path)] = f"{st.st_size - at.offset:,} bytes not read yet (from line {at.line + 1})"
        except OSError:
            continue
    return out


def never_read_sources(
    store: SourcePositions, sources: Sequence[JsonlSource | RssSource | GdeltSource]
) -> dict[str, str]:
    """The configured JSON Lines sources with a whole line and no saved position at all: path -> what is unread
    (outside trial 50, MED-1: a source added to the config under a live `run`, or named for a `run` that cannot
    write its store, was never read, and `status` said "caught up"). An optional file not there yet is nothing to
    read; a file that cannot be opened from here is left to the poller's failure reports, as in `unread_sources`."""
    saved = set(store.checkpoint_positions())
    out: dict[str, str] = {}
    for source in sources:
        if not isinstance(source, JsonlSource) or checkpoint_name(source.path) in saved:
            continue
        try:
            size = os.stat(source.path).st_size
            if source.path.endswith(".gz"):
                whole = size > 0  # (a compressed file's lines are not told without decompressing it)
            else:
                with open(source.path, "rb") as f:
                    whole = b"\n" in f.read(UNREAD_PEEK)
        except OSError:
            continue
        if whole:
            kind = "compressed bytes" if source.path.endswith(".gz") else "bytes"
            out[source.path] = f"never read: {size:,} {kind}, no poll has saved a position in it"
    return out


@dataclass
class SourceResult:
    """One source in one poll."""

    origin: str  # the file path or feed URL, as configured
    kind: str  # "jsonl", "rss" or "gdelt"
    ingested: IngestSummary | None = None  # None when nothing was read (error, or not modified)
    error: str | None = None  # why the source could not be read at all
    not_modified: bool = False  # HTTP 304
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long the poll took (the status server's poll-duration metric)
    # Read only part of what it has (a JSON Lines backlog past its max_lines_per_poll): the rest waits for the next
    # poll, which a live run starts at once, so the other sources are polled between the parts.
    behind: bool = False
    position: tuple[int, int] | None = None  # a JSON Lines file's (line, byte offset) its next poll starts after
    # An optional JSON Lines file (`optional: true`) that does not exist (yet): nothing read, and no failure.
    absent: bool = False


@dataclass
class PollSummary:
    """Every source of one poll, with totals."""

    sources: list[SourceResult] = field(default_factory=list)
    # What a live run's cycle left for the next (the origins of the sources behind, and "engine" when the engine
    # stopped at its limit): set by `run`, whose next cycle starts at once while it is not empty.
    catching_up: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(s.ingested.accepted for s in self.sources if s.ingested)

    @property
    def duplicates(self) -> int:
        return sum(s.ingested.duplicates for s in self.sources if s.ingested)

    @property
    def editions(self) -> int:
        return sum(s.ingested.editions for s in self.sources if s.ingested)

    @property
    def editions_left_out(self) -> int:
        """Edits of feed items past their source's max_editions: left out, each text counted once (publish.py)."""
        return sum(s.ingested.editions_left_out for s in self.sources if s.ingested)

    @property
    def dead_lettered(self) -> int:
        return sum(s.ingested.dead_lettered for s in self.sources if s.ingested)

    @property
    def known_dead(self) -> int:
        """Rejected inputs the dead-letter log held already (read again): counted, not reported again."""
        return sum(s.ingested.known_dead for s in self.sources if s.ingested)

    @property
    def dead_letters(self) -> list[DeadLetter]:
        return [dl for s in self.sources if s.ingested for dl in s.ingested.dead_letters]

    @property
    def behind(self) -> list[SourceResult]:
        """The sources that have more to read now (SourceResult.behind)."""
        return [s for s in self.sources if s.behind]

    @property
    def errors(self) -> list[SourceResult]:
        return [s for s in self.sources if s.error is not None]

    @property
    def absent(self) -> list[SourceResult]:
        """The optional JSON Lines sources whose file does not exist (yet): read nothing, failed nothing."""
        return [s for s in self.sources if s.absent]


def _until_error(items: Iterator[T], failed: list[OSError]) -> Iterator[T]:
    try:
        yield from items
    except (JsonlSourceError, GdeltSourceError) as e:
        failed.append(e)


def _rows_of_another_file(items: Iterator[Located]) -> Iterator[Located]:
    """A GDELT source's rows whose file is not the source itself (a folder's export, lastupdate.txt's download):
    their documents without the line, which would name a line of the source (`folder:12`) where the row is one of
    another file; the document's GDELT event id names the row. (The reader's own dead letters name their file.)"""
    for line, item in items:
        yield (None, item) if isinstance(item, Document) else (line, item)


def _is_http(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme in ("http", "https")


def gdelt_exports_read(
    store: CheckpointStore, sources: Sequence[JsonlSource | RssSource | GdeltSource]
) -> dict[str, tuple[datetime, list[str]]]:
    """Of each lastupdate.txt source (GDELT live) among `sources` that has read a file: its URL (redacted) -> the time
    of the last export read, and the listed files not found yet (`status`, trial 59 MED-3: a stalled or stale
    lastupdate.txt read "caught up")."""
    out: dict[str, tuple[datetime, list[str]]] = {}
    for source in sources:
        if not isinstance(source, GdeltSource) or source.url is None:
            continue
        state = store.load_checkpoint(source_checkpoint(source, sources)).state or {}
        at = parse_stamp(state.get("at"))
        if at is not None and state.get("export"):  # (a first poll that failed keeps a time, no file read)
            out[redact_url(source.url)] = (at, [str(p) for p in state.get("pending") or []])
    return out


def gdelt_files_damaged(
    store: CheckpointStore, sources: Sequence[JsonlSource | RssSource | GdeltSource]
) -> dict[str, list[str]]:
    """Of each GDELT folder source among `sources`: its path -> the files its polls passed over as damaged, each until
    it changes (`status`, outside trial 65, MED-4: after the first poll's line nothing said a slice was lost)."""
    out: dict[str, list[str]] = {}
    for source in sources:
        if not isinstance(source, GdeltSource) or source.path is None:
            continue
        state = store.load_checkpoint(source_checkpoint(source, sources)).state or {}
        damaged = sorted(f for f in state.get("damaged") or {} if os.path.exists(f))
        if damaged:
            out[source.path] = damaged
    return out


def own_poll(source: JsonlSource | RssSource | GdeltSource) -> timedelta | None:
    """A source's own `poll` interval: a feed's, a GDELT lastupdate.txt's; None: every poll (files)."""
    if isinstance(source, RssSource) or (isinstance(source, GdeltSource) and source.url is not None):
        return source.poll
    return None


UNZIPPED_FACTOR = 16
"""A GDELT source's default max_unzipped_bytes, times its max_bytes (gdelt.DEFAULT_MAX_UNZIPPED_BYTES by default)."""


def _unless_failed(
    name: str, position: Checkpoint, failed: Sequence[OSError]
) -> Callable[[IngestSummary], tuple[str, Checkpoint] | None]:
    """ingest's `checkpoint` of one GDELT file: (name, position), or none if the file's read failed part-way
    (`failed`, filled by _until_error as it is read; ingest asks once the file is read): it must not be marked read."""
    return lambda _summary: None if failed else (name, position)


def _live_state(at: datetime, export: str | None, pending: set[datetime]) -> dict[str, Any]:
    """A lastupdate.txt source's checkpoint: the time of the last export read (and its URL), and the files
    lastupdate.txt listed that were not found yet, looked for again (gdelt_live.LiveExports.pending)."""
    state: dict[str, Any] = {"at": stamp(at)}
    if export is not None:
        state["export"] = export
    if pending:
        state["pending"] = sorted(stamp(p) for p in pending)
    return state


def _folder_state(files: dict[str, Any], damaged: dict[str, Any]) -> Checkpoint:
    """A GDELT path source's checkpoint: each file read (its size and mtime), and each that failed as it was then
    (its size, mtime and ctime), passed over until it changes."""
    return Checkpoint(0, {"files": files, "damaged": damaged} if damaged else {"files": files})


def gdelt_options(source: GdeltSource) -> GdeltOptions:
    """The rows a GDELT source keeps and how far it reads a file: what `run` reads it with, and a backtest of it."""
    return GdeltOptions(
        root_only=source.root_only,
        min_mentions=source.min_mentions,
        event_codes=tuple(source.event_codes),
        # (`unknown`, as in a rule: an actor GDELT coded no country for, the field it leaves empty)
        countries=tuple("" if c == UNKNOWN_COUNTRY else c for c in source.countries),
        max_unzipped_bytes=(
            source.max_unzipped_bytes
            if source.max_unzipped_bytes is not None
            else UNZIPPED_FACTOR * (source.max_bytes if source.max_bytes is not None else DEFAULT_MAX_BYTES)
        ),
    )


class AutoGdeltFolder(GdeltSource):
    """A folder named on the command line under `--source-kind auto` (wiring.sources_from_args): read as GDELT's,
    the only kind a folder can be, but until one of its files has been read each poll first asks whether it holds
    anything auto can read (gdelt.auto_folder_problem), so an empty folder or one of other files fails saying so
    instead of reading as nothing. `--source-kind gdelt` (or a config's kind) takes it as GDELT's as it is."""


OnSource = Callable[[SourceResult], None]
"""Told each source's result as soon as the source has been stored."""


def _arrivals(
    fetches: Mapping[Future[Any], Any], settle_at: float | None, on_settled: Callable[[], None] | None
) -> Iterator[Future[Any]]:
    """The fetches as they complete; `on_settled()` once, when `settle_at` (monotonic) passes with some still
    running."""
    pending = set(fetches)
    while pending:
        wait = None
        if settle_at is not None and on_settled is not None:
            wait = max(0.0, settle_at - time.monotonic())
        try:
            for done in as_completed(pending, timeout=wait):
                pending.discard(done)
                yield done
        except TimeoutError:
            assert on_settled is not None
            settle_at = None
            on_settled()


class SourcePoller:
    """Ingests `sources` into `store`: `poll_once()` for one pass, `run()` to keep polling until stopped."""

    def __init__(
        self,
        store: IngestStore,
        sources: Sequence[JsonlSource | RssSource | GdeltSource],
        max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        batch_size: int = DEFAULT_BATCH_SIZE,
        env: Mapping[str, str] | None = None,
        bounded: bool = False,
    ) -> None:
        self.store = store
        # Whether a JSON Lines source is read from its saved position, at most its max_lines_per_poll lines per poll
        # (`run`, `produce`: they poll again at once while one is behind), or whole (`ingest`).
        self.bounded = bounded
        self.env = env  # where sources' credentials are read at each fetch (None: the process environment)
        self.sources = list(sources)
        self.max_body_chars = max_body_chars
        self.timeout = timeout
        self.batch_size = batch_size
        self._last_polled: dict[int, float] = {}  # source index -> time.monotonic() of its last poll
        self._last_mark: float | None = None  # time.monotonic() of the last CaughtUp mark written
        # A .gz source's decompressor, kept open between a bounded poller's polls (jsonl.OpenDecompressors).
        self._decompressors = OpenDecompressors()

    def close(self) -> None:
        """Close the files kept open between polls (the .gz sources' decompressors)."""
        self._decompressors.close()

    def poll_once(self, on_source: OnSource | None = None) -> PollSummary:
        """Poll every source now, whatever its `poll` interval. `on_source(result)` is called, on this thread,
        as each source has been stored (a pipeline detects and delivers its alerts then: see _poll)."""
        return self._poll(due_only=False, on_source=on_source)

    def poll_due(
        self,
        on_source: OnSource | None = None,
        *,
        settle: float | None = None,
        on_settled: Callable[[], None] | None = None,
    ) -> PollSummary:
        """Poll every file source, and each feed or GDELT lastupdate.txt whose own `poll` interval has passed. With
        `settle` (seconds) and `on_settled`: `on_settled()` is called, on this thread, once `settle` seconds into the
        poll while feeds are still being fetched (not at all when the poll ends first)."""
        return self._poll(due_only=True, on_source=on_source, settle=settle, on_settled=on_settled)

    def run(self, interval: float | timedelta, stop_event: threading.Event) -> None:
        """Poll until `stop_event` is set: every `interval`, each file source, and each feed or GDELT lastupdate.txt
        whose own `poll` interval has passed since it was last polled. Returns soon after `stop_event` is set."""
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else float(interval)
        if seconds <= 0:
            raise ValueError("interval must be positive")
        while not stop_event.is_set():
            try:
                for failed in self._poll(due_only=True, stop_event=stop_event).errors:
                    log.warning("source %s: %s", redact_url(failed.origin), failed.error)
            except Exception:  # a store failure, say: log it and try again next round
                log.exception("poll failed; retrying in %gs", seconds)
            stop_event.wait(seconds)

    def _poll(
        self,
        *,
        due_only: bool,
        stop_event: threading.Event | None = None,
        on_source: OnSource | None = None,
        settle: float | None = None,
        on_settled: Callable[[], None] | None = None,
    ) -> PollSummary:
        due: list[tuple[int, JsonlSource | RssSource | GdeltSource]] = []
        for index, source in enumerate(self.sources):
            now = time.monotonic()
            every = own_poll(source)
            if due_only and every is not None and index in self._last_polled:
                if now - self._last_polled[index] < every.total_seconds():
                    continue
            self._last_polled[index] = now
            due.append((index, source))
        remote = [(i, s) for i, s in due if isinstance(s, RssSource) and _is_http(s.url)]
        # A GDELT lastupdate.txt may mean many downloads (catch-up): read after the feeds are committed, so their
        # alerts do not wait for it.
        live = [(i, s) for i, s in due if isinstance(s, GdeltSource) and s.url is not None]
        fetched = {i for i, _ in remote + live}
        local = [(i, s) for i, s in due if i not in fetched]
        results: dict[int, SourceResult] = {}
        # Feeds are fetched at once, each within its own deadline, while the local sources are read here; each
        # feed is committed as soon as it has arrived (on this thread: one writer), so a slow or hostile feed
        # delays no other source past its own deadline (issue 9: one drip-fed feed held every alert for 45 s).
        workers = max(1, min(MAX_CONCURRENT_FETCHES, len(remote)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed")
        states = {i: self._feed_state(s) for i, s in remote}
        try:
            fetches = {pool.submit(self._fetch_rss, s, states[i]): (i, s) for i, s in remote}
            started = time.monotonic()
            for index, source in local:
                if stop_event is not None and stop_event.is_set():
                    break
                began = time.monotonic()
                if isinstance(source, JsonlSource):
                    results[index] = self._poll_jsonl(source)
                elif isinstance(source, GdeltSource):
                    results[index] = self._poll_gdelt(source)
                else:
                    results[index] = self._poll_rss(source)
                results[index].seconds = time.monotonic() - began
                if on_source is not None:
                    on_source(results[index])
            for done in _arrivals(fetches, started + settle if settle is not None else None, on_settled):
                index, source = fetches[done]
                assert isinstance(source, RssSource)
                try:
                    feed = done.result()
                except Exception as e:  # fetch_feed reports failures itself; this is a bug, not a bad feed
                    log.exception("source %s: fetch failed", redact_url(source.url))
                    results[index] = SourceResult(origin=source.url, kind="rss", error=f"{type(e).__name__}: {e}")
                    continue
                results[index] = self._commit_rss(source, states[index], feed)
                results[index].seconds = time.monotonic() - started  # fetched alongside the others
                if on_source is not None:  # its alerts need not wait for a slower feed
                    on_source(results[index])
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        for index, source in live:
            assert isinstance(source, GdeltSource)
            if stop_event is not None and stop_event.is_set():
                break
            began = time.monotonic()
            results[index] = self._poll_gdelt_live(source)
            results[index].seconds = time.monotonic() - began
            if on_source is not None:
                on_source(results[index])
        summary = PollSummary()
        for index in sorted(results):
            result = results[index]
            if result.error:  # info: the commands say it themselves, once per source (`run`, `produce`, `ingest`)
                log.info("source %s: %s", redact_url(result.origin), result.error)
            summary.sources.append(result)
        self._mark_caught_up(summary)
        log.info(
            "poll: %d source(s), %d new document(s), %d duplicate(s), %d edit(s) past max_editions left out, "
            "%d dead-lettered, %d failed",
            len(summary.sources),
            summary.accepted,
            summary.duplicates,
            summary.editions_left_out,
            summary.dead_lettered,
            len(summary.errors),
        )
        return summary

    def _mark_caught_up(self, summary: PollSummary) -> None:
        """Record the end of a poll: event time may move now (engine/eventtime.py), and the sources read without
        error are named. A mark's time is also the clock idleness is measured on, hence one every MARK_EVERY
        even when nothing is new."""
        # (A source still behind is not read to the end: its remaining lines may be older than the others' items.)
        drained = tuple(dict.fromkeys(s.origin for s in summary.sources if s.error is None and not s.behind))
        now = time.monotonic()
        quiet = self._last_mark is not None and now - self._last_mark < MARK_EVERY
        if not drained or (summary.accepted == 0 and quiet):
            return
        self.store.append([caught_up_event(CaughtUp(at=datetime.now(UTC), origins=drained))])
        self._last_mark = now

    def _poll_jsonl(self, source: JsonlSource) -> SourceResult:
        """A `bounded` poller (`run`'s, `produce`'s): the file's lines after the position its last poll saved, at most
        its `max_lines_per_poll`, committed with the position after them: the documents and the position move together,
        so a crash or a stop reads neither a line twice nor none (a batch committed before the crash is read again
        and adds nothing: ids are deterministic). Otherwise (`ingest`) the whole file, as asked, which says what the
        log holds already."""
        result = SourceResult(origin=source.path, kind="jsonl")
        if source.optional and not os.path.lexists(source.path):
            result.absent = True  # (not there yet: an inbox nobody has filled; trial 45, MED-4)
            return result
        name = checkpoint_name(source.path)
        since = JsonlPosition.from_state(self.store.load_checkpoint(name).state) if self.bounded else JsonlPosition()
        try:
            got = read_jsonl_slice(
                source.path,
                since,
                max_lines=source.max_lines_per_poll if self.bounded else None,
                max_body_chars=self.max_body_chars,
                growing=True,
                decompressors=self._decompressors if self.bounded else None,
            )
        except JsonlSourceError as e:  # cannot be opened
            result.error = str(e)
            return result
        if got.rewound:
            log.info("source %s: no longer the file read up to line %d: read from its start", source.path, since.line)
        # A read that fails part-way (a truncated .gz) commits every whole line read before the error, and keeps its
        # position: the next poll reads those lines again (which adds nothing) and says the error again.
        saving = (
            (name, Checkpoint(0, got.end.as_state()))
            if self.bounded and got.error is None and got.end != since
            else None
        )
        result.ingested = ingest(
            self.store,
            got.items,
            source.path,
            batch_size=self.batch_size,
            feed=source_identity(source),
            checkpoint=saving,
        )
        if got.error is not None:
            result.error = str(got.error)
        result.behind = got.more
        result.position = (got.end.line, got.end.offset)
        return result

    def _poll_gdelt(self, source: GdeltSource) -> SourceResult:
        assert source.path is not None
        result = SourceResult(origin=source.path, kind="gdelt")
        try:
            files = export_files(source.path)
        except GdeltSourceError as e:  # missing, or neither a file nor a folder
            result.error = str(e)
            return result
        name = source_checkpoint(source, self.sources)
        state = self.store.load_checkpoint(name).state or {}
        saved = state.get("files") or {}
        listed = {str(f) for f in files}
        done = {k: v for k, v in saved.items() if k in listed}  # files gone from the folder are forgotten
        # A folder's files that failed (a damaged export), each as it was then (size, mtime, ctime): passed over
        # until it changes, said once, not at every poll (trial 59). A .zip still being downloaded changes as it grows.
        damaged = {k: v for k, v in (state.get("damaged") or {}).items() if k in listed}
        if isinstance(source, AutoGdeltFolder) and not done and (problem := auto_folder_problem(source.path)):
            result.error = problem
            return result
        options = gdelt_options(source)
        result.ingested = IngestSummary(origin=source.path)
        committed, committed_damaged = saved, state.get("damaged") or {}
        for file in files:
            try:
                st = file.stat()
            except OSError as e:  # gone since the folder was listed: the next poll will not list it
                log.info("source %s: %s: %s", source.path, file, e.strerror or e)
                continue
            stamp = [st.st_size, st.st_mtime_ns]
            if done.get(str(file)) == stamp:
                continue
            # (ctime too: a file made readable again by chmod keeps its size and mtime)
            as_failed = [*stamp, st.st_ctime_ns]
            if damaged.get(str(file)) == as_failed:
                continue
            failed: list[OSError] = []
            own = file == Path(source.path)
            places: dict[str, tuple[str, int]] | None = None if own else {}  # a folder's file: its rows named by it
            after = {**done, str(file): stamp}
            damaged_after = {k: v for k, v in damaged.items() if k != str(file)}
            try:
                items = read_gdelt(file, options=options, max_body_chars=self.max_body_chars, places=places)
            except GdeltSourceError as e:
                failed.append(e)
            else:
                result.ingested.merge(
                    ingest(
                        self.store,
                        _until_error(items if own else _rows_of_another_file(items), failed),
                        source.path,
                        batch_size=self.batch_size,
                        feed=source_identity(source),
                        places=places,
                        # The file's last batch and the files read after it in one transaction, as a JSON Lines
                        # source's lines and position: a crash leaves neither or both. Asked once the file is read:
                        # one that failed part-way is not marked read, and its rows read stand. (The map, ~100 bytes
                        # a file, is written whole each time: small beside the file's own rows, ~1,500 in a GDELT
                        # 2.0 export.)
                        checkpoint=_unless_failed(name, _folder_state(after, damaged_after), failed),
                    )
                )
            if failed and own:  # the source's one file: not marked read, tried again at the next poll
                result.error = str(failed[0])
                continue
            if failed:
                # A folder's file: not marked read, but passed over until it changes (a .zip still being downloaded
                # grows; GDELT's broken copy does not, and failed the source at every poll): said once, as this
                # poll's error, and kept as a dead letter naming the file, committed with the checkpoint that passes
                # over this version of it (so once per version), as a `url:` source keeps one: `dead-letters` still
                # says it after the poll's console line is gone (outside trial 65, MED-4: a lost 15-minute slice
                # left no trace).
                result.error = f"{failed[0]}; passed over until it changes"
                damaged = {**damaged_after, str(file): as_failed}
                letter = DeadLetter(origin=str(file), reason=result.error)
                result.ingested.merge(
                    ingest(self.store, [letter], source.path, checkpoint=(name, _folder_state(done, damaged)))
                )
                committed, committed_damaged = done, damaged
                continue
            damaged = damaged_after
            done = committed = after
            committed_damaged = damaged
        if (done, damaged) != (committed, committed_damaged):
            # files gone from the folder forgotten, files found damaged: no document goes with it
            self.store.commit(name, _folder_state(done, damaged), [])
        return result

    def _poll_gdelt_live(self, source: GdeltSource) -> SourceResult:
        """The export files published since the checkpoint's, oldest first, each committed before the next is
        fetched; the checkpoint moves past a file once its documents are in (gdelt_live.py says what fails)."""
        url = source.url
        assert url is not None
        result = SourceResult(origin=url, kind="gdelt")
        name = source_checkpoint(source, self.sources)
        saved = self.store.load_checkpoint(name).state or {}
        last = parse_stamp(saved.get("at"))
        export_read = saved.get("export")
        waiting = {at for at in map(parse_stamp, saved.get("pending") or []) if at is not None}
        try:
            credentials = source_credentials(source, self.env)
            query = source_query(source, self.env)
        except MissingSecret as e:  # checked at start (wiring.build_poller); gone since
            result.error = str(e)
            return result
        options = gdelt_options(source)
        exports = LiveExports(
            url,
            timeout=source.timeout.total_seconds() if source.timeout is not None else self.timeout,
            max_bytes=source.max_bytes if source.max_bytes is not None else DEFAULT_MAX_BYTES,
            catch_up=source.catch_up,
            credentials=credentials,
            query=query,
            max_unzipped_bytes=options.max_unzipped_bytes,
            pending=set(waiting),
        )
        read = False
        at_read = last

        def past(file: LiveFile) -> Checkpoint:
            """The position once `file` is read: a listed file read late (behind the checkpoint) does not move it
            back, and is no longer pending."""
            if at_read is None or file.at > at_read:
                return Checkpoint(0, _live_state(file.at, redact_url(file.url), exports.pending - {file.at}))
            return Checkpoint(0, _live_state(at_read, export_read, exports.pending - {file.at}))

        def now_read(file: LiveFile) -> None:
            nonlocal read, at_read, export_read, waiting
            read = True
            exports.pending.discard(file.at)
            waiting = set(exports.pending)
            if at_read is None or file.at > at_read:
                at_read, export_read = file.at, redact_url(file.url)

        try:
            for file in exports.new_files(last):
                if result.ingested is None:
                    result.ingested = IngestSummary(origin=url)
                if file.damaged is not None:
                    # GDELT's copy is broken and stays so: a dead letter once, the checkpoint past it, and the poll
                    # goes on to the next file; the poll still fails, so `status` and `run --once` say it (trial 59).
                    damaged = DeadLetter(origin=redact_url(file.url), reason=file.damaged)
                    result.ingested.merge(ingest(self.store, [damaged], url, checkpoint=(name, past(file))))
                    result.error = result.error or file.damaged
                    now_read(file)
                    continue
                failed: list[OSError] = []
                # Where each row was read (the export, its member, its line): a re-listed event's dead letter names
                # it, not lastupdate.txt with no line (trial 48, MED-2).
                places: dict[str, tuple[str, int]] = {}
                items = read_gdelt_archive(
                    file.data, redact_url(file.url), options=options, max_body_chars=self.max_body_chars, places=places
                )
                position = past(file)
                result.ingested.merge(
                    ingest(
                        self.store,
                        _until_error(_rows_of_another_file(items), failed),
                        url,
                        batch_size=self.batch_size,
                        feed=source_identity(source),
                        places=places,
                        # The export's last batch and the position past it in one transaction (a crash leaves
                        # neither or both); none if it failed part-way: it must not be marked read.
                        checkpoint=_unless_failed(name, position, failed),
                    )
                )
                if failed:  # checked whole before, so hardly ever; its rows read stand, and it is read again
                    result.error = str(failed[0])
                    break
                now_read(file)
        except GdeltSourceError as e:
            result.error = str(e)
        if last is None and not read and exports.latest is not None and result.error is not None:
            # A first poll that failed on its file starts from that file next time, not from whatever is the latest
            # by then: what a source follows starts when it is first seen.
            self.store.commit(name, Checkpoint(0, _live_state(exports.latest - SLOT, None, exports.pending)), [])
        elif at_read is not None and exports.pending != waiting:  # a listed file not found, or one given up on
            self.store.commit(name, Checkpoint(0, _live_state(at_read, export_read, exports.pending)), [])
        result.warnings = exports.warnings
        result.not_modified = result.ingested is None and result.error is None
        return result

    def _feed_state(self, source: RssSource) -> dict[str, Any]:
        """What the feed's previous poll kept: its cache validators (HTTP only), and the edits it left out past
        max_editions (`editions_held`: item id -> edition id, publish.ingest's `held`), and the latest version of each
        item it has editions of that the feed listed (`editions_latest`: item id -> [version id, text print],
        publish.ingest's `latest`)."""
        saved = self.store.load_checkpoint(checkpoint_name(source.url)).state or {}
        state: dict[str, Any] = (
            {"etag": saved.get("etag"), "modified": saved.get("modified")} if _is_http(source.url) else {}
        )
        if saved.get("editions_held"):
            state["editions_held"] = saved["editions_held"]
        if saved.get("editions_latest"):
            state["editions_latest"] = saved["editions_latest"]
        return state

    def _fetch_rss(self, source: RssSource, state: dict[str, Any]) -> FeedResult:
        try:
            credentials = source_credentials(source, self.env)
            query = source_query(source, self.env)
        except MissingSecret as e:  # checked at start (wiring.build_poller); gone since
            return FeedResult(url=source.url, error=FeedError(source.url, str(e)))
        return fetch_feed(
            source.url,
            source_name=source.source_name,
            etag=state.get("etag"),
            modified=state.get("modified"),
            max_body_chars=self.max_body_chars,
            timeout=source.timeout.total_seconds() if source.timeout is not None else self.timeout,
            max_bytes=source.max_bytes if source.max_bytes is not None else DEFAULT_MAX_BYTES,
            credentials=credentials,
            query=query,
            seen_at=datetime.now(UTC),  # the date of an entry without one (feed_entries); a later poll's is no edit
        )

    def _poll_rss(self, source: RssSource) -> SourceResult:
        state = self._feed_state(source)
        return self._commit_rss(source, state, self._fetch_rss(source, state))

    def _commit_rss(self, source: RssSource, state: dict[str, Any], feed: FeedResult) -> SourceResult:
        url = source.url
        result = SourceResult(origin=url, kind="rss")
        http = _is_http(url)
        result.warnings = list(feed.warnings)
        if feed.error is not None:
            result.error = feed.error.reason
            return result
        if feed.not_modified:
            result.not_modified = True
            new_state = {**state, "etag": feed.etag, "modified": feed.modified}
            if new_state != state:  # a 304 may carry a fresh validator
                self.store.commit(checkpoint_name(url), Checkpoint(0, new_state), [])
            return result

        listed = {item.id for item in feed.items if isinstance(item, Document)}

        def checkpoint(summary: IngestSummary) -> tuple[str, Checkpoint] | None:
            # The validators (HTTP), with this poll's documents; and the edits it left out, for the next poll to
            # count only those it has not; and each edited item's latest version, for the next poll to compare the
            # item with (a file feed saves nothing else: nothing, while none is left out or edited).
            new: dict[str, Any] = {"etag": feed.etag, "modified": feed.modified} if http else {}
            if summary.held:
                new["editions_held"] = summary.held
            # Only the items this poll listed are kept: one the feed no longer lists is forgotten, so the map is
            # bounded by the feed's length. Should it come back, the log's last edition of it stands in for the
            # entry (publish.ingest), so an edited item is still compared with its latest version.
            before = state.get("editions_latest", {})
            # (An item another configured source holds is this feed's own copy: listed under that id.)
            kept = listed | set(summary.own_copies.values())
            latest = {item: v for item, v in {**before, **summary.latest}.items() if item in kept}
            if latest:
                new["editions_latest"] = latest
            if not http and not summary.held and latest == before and "editions_held" not in state:
                return None  # nothing of the checkpoint changed
            return checkpoint_name(url), Checkpoint(0, new)

        # A feed's ids are its publisher's, who edits a developing story in place: each new text is an edition, up
        # to the source's max_editions per item.
        result.ingested = ingest(
            self.store,
            feed.items,
            url,
            batch_size=self.batch_size,
            checkpoint=checkpoint,
            editions=True,
            max_editions=source.max_editions,
            held=state.get("editions_held"),
            latest=state.get("editions_latest"),
            feed=source_identity(source),
            # This feed's identity as configured, whether or not it is an aggregator: an item whose id another
            # configured source's document holds is its own copy under it, never an edition of the other's.
            own=source.source_name or source_feed("rss", url),
            configured=frozenset(i for s in self.sources if (i := source_identity(s)) is not None),
            aggregators=frozenset(s.url for s in self.sources if isinstance(s, RssSource) and s.aggregator),
        )
        return result


def source_identity(source: JsonlSource | GdeltSource | RssSource) -> str | None:
    """What every document of `source` counts as for corroboration: its configured identity (url or path), unless
    it is declared an aggregator, whose items each carry their own outlet's name (docs/rules.md, "Independent
    sources")."""
    if source.aggregator:
        return None
    if isinstance(source, RssSource) and source.source_name:
        # The operator's own name for it (trusted, unlike the feed's <title>): two feeds of one outlet given the
        # same source_name are one source, and it is the name the evidence shows, so it counts as before.
        return source.source_name
    if isinstance(source, RssSource):
        return source_feed("rss", source.url)
    where = source.path if isinstance(source, JsonlSource) else (source.url or source.path)
    return source_feed(source.kind, str(where))
