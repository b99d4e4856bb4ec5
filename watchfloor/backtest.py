"""Backtest: stream events from files, a store or Kafka, order them in bounded memory, replay them through
rules (and a baseline's), compare with expectations and labels, and assemble the JSON result."""

from __future__ import annotations

import gc
import gzip
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain, compress, islice, repeat
from operator import is_, is_not
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import parse_qsl, urlsplit

import orjson
from pydantic import ValidationError

from watchfloor.backtest_live import LiveBatches, SeenIds
from watchfloor.producers.gdelt import (
    GdeltOptions,
    GdeltSourceError,
    LeftOut,
    auto_folder_problem,
    export_files,
    looks_like_gdelt,
    not_gdelt,
    read_gdelt,
)
from watchfloor.producers.jsonl import JsonlSourceError, read_blocks
from watchfloor.producers.publish import source_feed, with_feed
from watchfloor.producers.relay import relayed_position
from watchfloor.producers.rss import fetch_feed
from watchfloor.schemas.events import (
    DEFAULT_MAX_EDITIONS,
    DOCUMENT_TYPES,
    CaughtUp,
    DeadLetter,
    Detection,
    Document,
    Event,
    EventType,
    caught_up_event,
)
from watchfloor.schemas.inputs import CheckedInput, EventTime, LineGate
from watchfloor.schemas.plural import counted
from watchfloor.schemas.redact import redact_url
from watchfloor.schemas.rules import format_duration
from watchfloor.stream_processors.engine import CompiledRules, Engine
from watchfloor.stream_processors.engine.compiler import JsonLineGate
from watchfloor.stream_processors.engine.engine import EPOCH_DATED
from watchfloor.stream_processors.engine.eventtime import DEFAULT_SKEW
from watchfloor.stream_processors.external_sort import Input, event_time
from watchfloor.stream_processors.fingerprint import difference, legacy_fingerprint, other_release, rules_fingerprint
from watchfloor.stream_processors.ports import EventLog, Store
from watchfloor.stream_processors.processing import EngineTally
from watchfloor.stream_processors.replay import Replayable, detection_to_json, replay
from watchfloor.stream_processors.runner import (
    ENGINE_INPUT_TYPES,
    ENGINE_PROCESSOR,
    RULES_IN_USE,
    engine_failure_letter,
)

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
GDELT_SUFFIXES = (".csv", ".tsv", ".txt", ".zip")  # looked into for GDELT rows (source_kind)
ORDERS = ("event-time", "log", "random")
KEEP_DEAD_LETTERS = 1000
"""Dead letters kept for the report (all are counted): a file of bad lines must not fill memory."""


JSON_FEED_SNIFF = 1 << 16
"""How much of a `.json` file is looked at for a JSON Feed's version (jsonfeed.org), which leads it."""


# The `version` member's string as written: JSON may escape any character of it (`https:\/\/jsonfeed.org\/…`, as
# PHP's json_encode writes slashes), so the string is decoded before it is compared.
_JSON_FEED_VERSION_MEMBER = re.compile(rb'"version"\s*:\s*("(?:[^"\\]|\\.){0,200}")', re.DOTALL)
_JSON_FEED_VERSION = re.compile(r"https?://jsonfeed\.org/version/")


def source_kind(path: str, kind: str = "auto") -> str:
    """rss (a feed: RSS, Atom or JSON Feed), gdelt or jsonl, for every command that reads sources (`run`,
    `ingest`, `backtest`). A feed is known by its name (FEED_SUFFIXES, a URL) or, for a `.json` file, by its
    content: a JSON object whose first bytes give a jsonfeed.org `version`, which no input record has. GDELT
    (a .csv/.tsv/.txt/.zip file or a folder) by its first row: 57, 58 or 61 tab-separated columns, digits first."""
    if kind != "auto":
        return kind
    lower = path.lower()
    if lower.startswith(("http://", "https://")):
        return "gdelt" if is_lastupdate_url(path) else "rss"
    if lower.endswith(FEED_SUFFIXES):
        return "rss"
    if lower.endswith(".json") and _is_json_feed(path):
        return "rss"
    # A .zip or a folder is never JSON Lines (whose reader takes one file, plain or gzip): they are GDELT's even when
    # they cannot be read (a download cut short fails as a GDELT file, and is read again; read as text, it was
    # dead-lettered line by line for good). A folder auto cannot read says why (auto_folder_problem).
    if lower.endswith(".zip") or Path(path).is_dir():
        return "gdelt"
    if lower.endswith(GDELT_SUFFIXES) and looks_like_gdelt(path):
        return "gdelt"
    return "jsonl"


TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
"""Names of table files: GDELT's exports, or other tables (a CSV) that auto reads as no kind (auto_file_problem)."""
AUTO_KINDS = (
    "auto reads JSON Lines (.jsonl, plain or .gz), feeds (.xml, .rss, .atom, .rdf, a JSON Feed, an http(s) URL) "
    "and GDELT event exports (.csv, .tsv, .txt or .zip whose rows have 61, 58 or 57 tab-separated columns, a folder "
    "of them)"
)


def auto_file_problem(path: str, kind: str = "auto") -> str | None:
    """Why `--source-kind auto` reads a file as no kind, None when it reads it: a table file (.csv, .tsv, .txt, plain
    or .gz) that is not a GDELT export and whose first line is no JSON object. Read as JSON Lines, such a file (a
    GDELT reduced CSV, a news CSV) was one dead letter per line, 94,007 of them for one file, and exit 0 (trial 48,
    MED-1): it is refused in one line, as a folder auto cannot read is (auto_folder_problem). A JSON Lines file so
    named whose first line is a JSON object is read as JSON Lines, as before."""
    if kind != "auto" or "://" in path or source_kind(path, kind) != "jsonl":
        return None
    lower = path.lower()
    if not lower.removesuffix(".gz").endswith(TABLE_SUFFIXES) or not Path(path).is_file():
        return None
    first = _first_line(path, gz=lower.endswith(".gz"))
    if first is None or first.lstrip(b"\xef\xbb\xbf \t").startswith(b"{"):
        return None  # unreadable (the JSON Lines reader says why), or JSON Lines
    why = "GDELT's are plain or .zip" if lower.endswith(".gz") else (not_gdelt(path) or "")
    csv = " — this looks like a CSV file (a backtest's labels go to --labels)" if b"," in first else ""
    return (
        f"{path}: not a file auto can read{csv}: neither a GDELT event export ({why}) nor JSON Lines (its first line "
        f"is no JSON object); {AUTO_KINDS}; give --source-kind to read it as one of them"
    )


def _first_line(path: str, *, gz: bool) -> bytes | None:
    """The first line of a file that is not blank (at most 64 KiB of it); None when the file cannot be read."""
    try:
        with gzip.open(path, "rb") if gz else open(path, "rb") as f:
            head = f.read(JSON_FEED_SNIFF)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    return next((line for line in head.split(b"\n") if line.strip()), b"")


def is_lastupdate_url(url: str) -> bool:
    """Whether an http(s) URL names a GDELT lastupdate.txt (by its name, which is GDELT's own): a GDELT source
    followed live (producers/gdelt_live.py), not a feed."""
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and parts.path.rsplit("/", 1)[-1].lower() == "lastupdate.txt"


def _is_json_feed(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(JSON_FEED_SNIFF)
    except OSError:
        return False  # the JSON Lines reader says why it cannot read it
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # An object with a jsonfeed.org `version` member: no field of an input record (schemas/inputs.py).
    return head[:1] == b"{" and any(
        _JSON_FEED_VERSION.match(_json_string(m.group(1))) for m in _JSON_FEED_VERSION_MEMBER.finditer(head)
    )


def _json_string(literal: bytes) -> str:
    """A JSON string literal's value ("" when it is not one)."""
    try:
        value = orjson.loads(literal)
    except orjson.JSONDecodeError:
        return ""
    return value if isinstance(value, str) else ""


@contextmanager
def bulk_load() -> Iterator[None]:
    """Pause the cyclic garbage collector while hundreds of thousands of records are held: each
    collection would walk all of them (half the load time), and they form no cycles to collect."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# -- reading ---------------------------------------------------------------------------------------


@dataclass
class FileReport:
    path: str
    kind: str
    accepted: int = 0  # valid documents read (repeats of an id included)
    dead: int = 0
    first_problem: str | None = None
    already_seen: int = 0  # documents whose id an earlier one had, with the same content: skipped
    editions_left_out: int = 0  # edits of feed items past max_editions, each text once (backtest_live.SeenIds)
    filtered_out: int = 0  # GDELT rows its source's filters leave out (gdelt.LeftOut)
    # The first of them (gdelt.KEEP_LEFT_OUT): (file, line, event id, which filter), for `rules explain` to say
    left_out: list[tuple[str, int, str, str]] = field(default_factory=list)

    def problem(self) -> str | None:
        """Why this input cannot be what the user meant, or None: a file with no valid event in it."""
        if self.accepted or self.filtered_out:
            return None  # (a filter that kept no row: a quiet week, said by filtered_note, as `run` exits 0)
        if not self.dead:
            return f"{self.path}: no events in it (empty file)"
        hint = ""
        if self.path.lower().endswith((".csv", ".csv.gz", ".tsv")) or (self.first_problem or "").find("JSON") >= 0:
            hint = (
                "; events are JSON Lines (one JSON object per line, see `watchfloor schemas export`) or RSS/Atom/JSON "
                "feeds" + (" — this looks like a CSV file" if self.path.lower().endswith((".csv", ".csv.gz")) else "")
            )
            if self.kind == "jsonl" and not self.path.lower().endswith((".csv", ".csv.gz", ".tsv")):
                hint += (
                    "; it was read as JSON Lines: for a feed file not named .xml, .rss, .atom, .rdf or .json "
                    "give --source-kind rss"
                )
        elif "field 'type': is required" in (self.first_problem or ""):
            # JSON objects, none an input record: a corpus in its own fields (a feed archive's title, link,
            # date_published), which needs mapping to the input contract first.
            hint = (
                "; its records are not in the input format (each needs `type`, `published_at`, `source` and a "
                "title or body: `watchfloor schemas export` writes the schema), so map them to it first (the "
                "repository's benchmarks/prepare_rss2023.py does so for the 2023 world-news corpus)"
            )
        read = counted(self.dead, "line") if self.kind == "jsonl" else counted(self.dead, "entry", "entries")
        return f"{self.path}: no valid event in {read} (first: {self.first_problem}){hint}"

    def filtered_note(self) -> str | None:
        """A GDELT input its source's filters kept no row of: how many they left out (outside trial 65, MED-5: it
        was "no events in it (empty file)", exit 1, on a folder of 207 rows)."""
        if self.accepted or not self.filtered_out:
            return None
        return f"{self.path}: 0 of {self.filtered_out:,} rows kept by the source's filters"


@dataclass
class MergedFeeds:
    """Feed files a backtest counts as one source: their channels share a link or a title (docs/backtest.md)."""

    feed: str  # the source they count as: the first file's
    files: list[str]  # in reading order
    shared: list[str] = field(default_factory=list)  # "link URL" / "title TEXT", what made them one

    def note(self) -> str:
        names = [Path(f).name if not f.startswith(("http://", "https://")) else f for f in self.files]
        if len(set(names)) < len(names):  # (captures of one name in several folders: named as given)
            names = list(self.files)
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        what = " and ".join(
            f"the channel {kind} {value if kind == 'link' else repr(value)}"
            for kind, _, value in (n.partition(" ") for n in self.shared)
        )
        return (
            f"note: feeds {listed} share {what}: counted as one source, as captures of one feed are (name them as "
            "sources in --config to count them apart, as `run` counts configured feeds)"
        )

    def as_json(self) -> dict[str, Any]:
        shared = dict(n.partition(" ")[::2] for n in self.shared)
        return {"files": list(self.files), "counted_as": self.feed, "shared": shared, "note": self.note()}


@dataclass
class ReadReport:
    """What reading found besides documents: dead letters (counted, the first KEEP_DEAD_LETTERS kept),
    sources that failed, and per-file counts."""

    dead_letters: list[DeadLetter] = field(default_factory=list)
    dead_count: int = 0
    errors: list[str] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    already_seen: int = 0  # repeated documents skipped, as the live ingest skips them ("already seen")
    editions_left_out: int = 0  # edits of feed items past max_editions, as the live ingest leaves them out
    ids_not_kept: int = 0  # 0: past the bound (--sort-run) ids spill to disk and are still checked (SeenIds)
    error_sources: list[str] = field(default_factory=list)  # the source of each of `errors`, in step
    # Feed files counted as one source because their channels share a link or title (outside trial 67, MED-1: said,
    # since `run` counts configured feeds apart): the source -> its files, in reading order, and what they share.
    merged_feeds: dict[str, MergedFeeds] = field(default_factory=dict)

    def merge_feed(self, feed: str, first: str, path: str, shared: Iterable[str]) -> None:
        """The feed file `path` counted as the source `feed`, which the file `first` gave, for sharing `shared`
        (`link …`/`title …`) with a file read before."""
        merged = self.merged_feeds.setdefault(feed, MergedFeeds(feed, [first]))
        if path not in merged.files:
            merged.files.append(path)
        for name in shared:
            if name not in merged.shared:
                merged.shared.append(name)

    def merged_notes(self) -> list[str]:
        """One line per set of feed files counted as one source (MergedFeeds.note)."""
        return [m.note() for m in self.merged_feeds.values()]

    def source_error(self, source: str, message: str) -> None:
        """A source that could not be read (or not to its end): `message` says it as the terminal does."""
        self.errors.append(message)
        self.error_sources.append(source)

    def add_dead(self, dls: Iterable[DeadLetter], report: FileReport | None = None) -> None:
        for dl in dls:
            self.dead_count += 1
            if report is not None:
                report.dead += 1
                if report.first_problem is None:  # a feed's entries have no line: their reason names them
                    report.first_problem = f"line {dl.line}: {dl.reason}" if dl.line is not None else dl.reason
            if len(self.dead_letters) < KEEP_DEAD_LETTERS:
                self.dead_letters.append(dl)

    def problems(self) -> list[str]:
        return [message for _source, message in self.failed_sources()]

    def failed_sources(self) -> list[tuple[str | None, str]]:
        """(source, problem) of each input that was unusable (missing, not a feed, cut short, no valid event);
        the source is None for an error added to `errors` without one (not by source_error)."""
        sources: list[str | None] = [*self.error_sources]
        sources += [None] * (len(self.errors) - len(sources))
        return [
            *zip(sources, self.errors, strict=False),
            *((f.path, p) for f in self.files if (p := f.problem()) is not None),
        ]


GATE_WORD_CHARS = 32
_JSON_SPLIT = re.compile(r'[/\\"]+')
_ARTICLE_NUMBER = re.compile(r"[0-9]{5}")


def gate_word(key: str) -> str:
    """What of a label key the JSON line gate looks for: a piece of it without `/`, `\\` or `"`, so that a
    line holding the key holds the piece whichever way its JSON writer escaped slashes (`\\/`). For a URL,
    the last piece of its path (its slug) when that is long enough to be specific, else the longest one —
    never the query (`?utm_source=rss` is in thousands of lines) nor the host; at most GATE_WORD_CHARS
    characters, which keeps the gate quick to compile (1,136 URLs: 26 ms of Hyperscan rather than 39). A
    line that merely contains the piece is checked in full: the key itself is then compared exactly."""
    try:
        parts = urlsplit(key)
    except ValueError:
        parts = None
    # Any scheme with a host is a URL (outside trial 53, LOW-9: keys of a made-up `http1xs://` scheme were cut as
    # plain ids, and "…at_campaign=KARANGA", a query every BBC line has, let a fifth of 855k lines through the gate
    # as full documents: +180 MB and +25 % CPU for 143 labels).
    if parts is not None and parts.scheme and parts.netloc:
        path = [p for p in _JSON_SPLIT.split(parts.path) if p]
        if path and len(path[-1]) >= 16:
            return path[-1][-GATE_WORD_CHARS:]
        # a short slug: a piece that holds a number (an article's id: `world-65996531`, `story?id=100335756`), else
        # the longest piece of the path (`International` of `…/International/story?id=…` is in thousands of lines)
        values = [v for _, v in parse_qsl(parts.query) if "/" not in v and "\\" not in v and '"' not in v]
        numbered = [p for p in (*path, *values) if _ARTICLE_NUMBER.search(p)]
        if numbered:
            return max(numbered, key=len)[-GATE_WORD_CHARS:]
        if path:
            return max(path, key=len)[-GATE_WORD_CHARS:]
    pieces = [p for p in _JSON_SPLIT.split(key) if p]
    return max(pieces, key=len)[-GATE_WORD_CHARS:] if pieces else key


class LabelTap:
    """Notes, as documents stream past, the labelled ones: label key (a document id or URL) -> (document
    id, published_at). Gated-out lines are only event times, so a word of every key joins the JSON line
    gate (`gate_words`) and the lines that carry one come through as documents."""

    def __init__(self, keys: Iterable[str], keep: Iterable[str] = ()) -> None:
        self.keys = frozenset(keys)
        self.gate_words = frozenset(gate_word(k) for k in self.keys)
        self.seen: dict[str, tuple[str, datetime]] = {}
        # The documents of these keys (the positive labels'), by key: a missed one is read again for the condition
        # that alone kept its signal (evaluation._with_reasons; outside trial 61, L1).
        self.keep = frozenset(keep)
        self.kept: dict[str, Document] = {}

    def __call__(self, item: Document | CheckedInput) -> None:
        if isinstance(item, CheckedInput):
            # Look at the raw id and url first: the gate's hits are mostly the rules' words, and building a
            # Document (to learn a derived id) is only worth it for a line that carries a label key.
            raw_id, url = _raw_id_and_url(item)
            if not ((raw_id is not None and raw_id in self.keys) or (url is not None and url in self.keys)):
                return
            item = item.build()
        for key in (item.id, item.url):
            if key is not None and key in self.keys:
                self.seen[key] = (item.id, item.published_at)
                if key in self.keep:
                    self.kept[key] = item

    def documents(self, items: Iterable[Any]) -> None:
        """The tap over a block's documents (no event times), deciding the common case inline: a checked
        input whose raw id and url are no label key (the rules' gate passes thousands of those)."""
        keys = self.keys
        for x in items:
            rec = x.record if x.__class__ is CheckedInput else None
            if rec is not None and rec.url not in keys and (rec.id is None or rec.id.strip() not in keys):
                continue
            self(x)


def _raw_id_and_url(item: CheckedInput) -> tuple[str | None, str | None]:
    if item.record is not None:
        raw_id, url = item.record.id, item.record.url
    else:
        obj = item.obj or {}
        raw_id, url = obj.get("id"), obj.get("url")
    return (str(raw_id).strip() if raw_id is not None else None), (url if isinstance(url, str) else None)


def combined_gate(rule_sets: Iterable[CompiledRules], extra_words: Iterable[str] = ()) -> LineGate | None:
    """One JSON line gate for several rule sets (a baseline replays the same lines) and label keys. None
    when a rule set cannot be gated: then every line is checked in full."""
    sets = list(rule_sets)
    gates = [r.json_gate for r in sets]
    extra = sorted(set(extra_words))
    if any(g is None for g in gates) or not gates:
        return None
    if len(gates) == 1 and not extra:
        return gates[0]
    words = sorted({w for g in gates if g is not None for w in g.words} | set(extra))
    return JsonLineGate(words)


def _open_counted(path: str) -> tuple[IO[bytes], IO[bytes]]:
    """The file to read and the raw file under it (whose position says how many bytes were read)."""
    p = Path(path)
    if not p.exists():
        raise JsonlSourceError(f"JSON Lines file not found: {path}")
    if not p.is_file():
        raise JsonlSourceError(f"JSON Lines source is not a file: {path}")
    raw = open(p, "rb")
    try:
        gzipped = p.suffix == ".gz" or raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
    except OSError as e:
        raw.close()
        raise JsonlSourceError(f"cannot read JSON Lines file {path}: {e.strerror or e}") from e
    f: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if gzipped else raw
    return f, raw


def input_bytes(paths: Iterable[str], kind: str = "auto") -> int | None:
    """Total size of the local files (what a progress bar counts), None if some are URLs."""
    total = 0
    for p in paths:
        if p.startswith(("http://", "https://")):
            return None
        try:
            total += Path(p).stat().st_size
        except OSError:
            continue
    return total


def iter_events(
    paths: Iterable[str],
    *,
    report: ReadReport,
    kind: str = "auto",
    max_body_chars: int = 200_000,
    gate: LineGate | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_items: Callable[[int], None] | None = None,
    tap: LabelTap | None = None,
    feeds: Mapping[str, str | None] | None = None,
    gdelt_options: Mapping[str, Sequence[GdeltOptions]] | None = None,
) -> Iterator[Input]:
    """Documents of JSONL (.jsonl, .jsonl.gz) and feed files, streamed; bad records go to `report`. With
    `gate` (the rules' JSON line gate) the lines no rule can match come as their event time only.
    `on_bytes(n)`: n more bytes of the files were read. `feeds`, `gdelt_options`: a config's sources' (as
    iter_event_blocks reads them, so `rules explain --config` reads a file as `backtest --config` does)."""
    return chain.from_iterable(
        iter_event_blocks(
            paths,
            report=report,
            kind=kind,
            max_body_chars=max_body_chars,
            gate=gate,
            on_bytes=on_bytes,
            on_items=on_items,
            tap=tap,
            feeds=feeds,
            gdelt_options=gdelt_options,
        )
    )


def at_effective_time(blocks: Iterable[list[Any]], received: float | None, skew: float) -> Iterator[list[Any]]:
    """File inputs for ordering by event time, as the engine will take them: one dated more than `skew` after
    it was received counts at its receive time, so a document becomes (document, received, received) (a
    stream_processors.replay.Received, which sorts at that time and then by id) and an event time is dropped
    (it would move no watermark). The canonical order of replay(order="event-time"), kept by the external
    sort. Blocks with nothing in the future (all but a typo's) pass as they are, checked in C."""
    if received is None:
        yield from blocks
        return
    limit = received + skew
    for block in blocks:
        times = compress(block, map(is_, map(type, block), repeat(float)))
        docs = _not_times(block)
        if max(times, default=limit) <= limit and all(event_time(d) <= limit for d in docs):
            yield block
            continue
        out: list[Any] = []
        for x in block:
            if x.__class__ is float:
                if x <= limit:
                    out.append(x)
            elif x.__class__ is not tuple and event_time(x) > limit:
                out.append((x.build() if isinstance(x, CheckedInput) else x, received, received))
            else:
                out.append(x)
        yield out


class LateInFileOrder:
    """Counts, while the files are read, the documents of a JSON Lines file that come after one of the same file
    dated more than `lateness` later (effective times, as the engine takes them: one dated more than `skew` after
    `received` counts at its receive time, moves no watermark and is never late). A live run that read the earlier
    lines in an earlier poll (a file that grew while `run` followed it, a backlog read a slice per poll beside other
    sources) took such a document late (engine: W moves at the poll's CaughtUp mark, per origin); one that read the
    file in one poll did not. An event-time replay puts it in its place either way: late_in_file_order_note says so
    (an outside user trial, M1). Per file: files are separate origins, and W is the minimum over them. Cheap: a block
    whose earliest time is within the lateness of the newest is settled by min/max in C."""

    def __init__(self, lateness: float, received: float | None, skew: float) -> None:
        self.lateness = lateness
        self.limit = received + skew if received is not None else float("inf")
        self.count = 0
        self.newest = float("-inf")  # the newest effective time of the file so far (its watermark, live)
        # GDELT sources (a folder of exports): documents of an export read after an earlier export of the same source
        # (name order, as `run` reads a folder) dated more than the lateness later (outside trial 72, MED-1). Each
        # export is read whole in one poll, so only the exports before it count, not its own earlier rows.
        self.exports = 0
        self._before = float("-inf")  # the newest effective time of the source's exports before the current one
        self._export: str | None = None
        self._current = float("-inf")  # ...and of the current export so far

    def start_file(self) -> None:
        self.newest = float("-inf")

    def start_gdelt_source(self) -> None:
        self._before, self._export, self._current = float("-inf"), None, float("-inf")

    def add_exports(self, items: list[Any], exports: list[str]) -> None:
        """A GDELT source's documents (None: one left out) and the export file each was read from, in read order."""
        limit, lateness = self.limit, self.lateness
        for x, export in zip(items, exports, strict=True):
            if x is None:
                continue
            if export != self._export:
                self._before = max(self._before, self._current)
                self._export, self._current = export, float("-inf")
            t = event_time(x)
            if t > limit:
                continue  # clamped: at its receive time, which moves nothing
            if t < self._before - lateness:
                self.exports += 1
            elif t > self._current:
                self._current = t

    def add(self, items: list[Any]) -> None:
        times = list(map(event_time, compress(items, map(is_not, items, repeat(None)))))
        if not times:
            return
        top = max(times)
        if top <= self.limit and min(times) >= max(self.newest, top) - self.lateness:
            self.newest = max(self.newest, top)  # none late, none clamped: the usual block
            return
        newest, lateness, limit = self.newest, self.lateness, self.limit
        for t in times:
            if t > limit:
                continue  # clamped: at its receive time, which moves nothing
            if t < newest - lateness:
                self.count += 1  # late: moves no watermark either
            elif t > newest:
                newest = t
        self.newest = newest


def late_in_file_order_note(count: int, lateness: timedelta) -> str | None:
    """The line an event-time file backtest says when documents of its files come after later-dated ones by more
    than the lateness (LateInFileOrder), or None."""
    if not count:
        return None
    come, them = ("comes", "it") if count == 1 else ("each come", "them")
    return (
        f"note: {counted(count, 'document')} in these files {come} after one of the same file dated more than the "
        f"allowed lateness ({format_duration(lateness)}) later; a live run that read the earlier lines in an earlier "
        "poll (a file that grew while `run` followed it, a backlog read a slice per poll beside other sources) took "
        f"{them} late, against the state it still held, and this replay puts {them} in their event-time place, so its "
        "alerts may differ: `--from-store` replays what a run read, `--order log` the files as one live read takes them"
    )


def late_in_export_order_note(count: int, lateness: timedelta) -> str | None:
    """The line an event-time backtest says when documents of a GDELT source's exports come after an earlier export
    of it (name order, as `run` reads a folder) dated more than the lateness later (LateInFileOrder.exports), or
    None."""
    if not count:
        return None
    come, them = ("comes", "it") if count == 1 else ("each come", "them")
    return (
        f"note: {counted(count, 'document')} of GDELT exports {come} after an export of the same source (name order, "
        f"as `run` reads a folder) dated more than the allowed lateness ({format_duration(lateness)}) later; a live "
        "run that read the earlier exports in an earlier poll (an export added to the folder later, an older day "
        f"fetched after a newer one) took {them} late, against the state it still held, and this replay puts {them} "
        "in their event-time place, so its alerts may differ: `--from-store` replays what a run read"
    )


def batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    """Lists of up to n items (itertools.batched is Python 3.12+)."""
    it = iter(items)
    while block := list(islice(it, n)):
        yield block


def _not_times(items: list[Any]) -> list[Any]:
    """The items that are not event times (floats), without a Python-level loop over all of them."""
    return list(compress(items, map(is_not, map(type, items), repeat(float))))


def iter_event_blocks(
    paths: Iterable[str],
    *,
    report: ReadReport,
    kind: str = "auto",
    max_body_chars: int = 200_000,
    gate: LineGate | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_items: Callable[[int], None] | None = None,
    tap: LabelTap | None = None,
    arrival: bool = False,
    received_at: datetime | None = None,
    id_limit: int | None = None,
    id_spill_dir: str | None = None,
    max_editions: int | None = DEFAULT_MAX_EDITIONS,
    late_in_file_order: LateInFileOrder | None = None,
    feeds: Mapping[str, str | None] | None = None,
    skew: float = DEFAULT_SKEW.total_seconds(),
    gdelt_options: Mapping[str, Sequence[GdeltOptions]] | None = None,
) -> Iterator[list[Any]]:
    """iter_events a block (a list) at a time: what bulk consumers take (list.extend runs in C). A document
    whose id an earlier one had (in any of the files) is left out as the live ingest leaves it out
    (SeenIds): the first version stands. At most `id_limit` ids are held in memory for that (memory stays
    bounded): the others spill to a temporary directory (in `id_spill_dir`, else TMPDIR), removed at the end. A
    feed item keeps at most `max_editions` editions, as its source's `max_editions` does live.

    With `arrival` (a backtest in log order), the inputs come in the order `watchfloor run` reads them
    (LiveBatches: a file's inputs a batch at a time, each oldest first, with the file as their origin), and
    the read ends with the CaughtUp mark the poller writes after its poll (at `received_at`, naming the
    files read to their end): event time moves there, as live, not with each line. Without `arrival`,
    `late_in_file_order` counts a JSON Lines file's documents read after later-dated ones beyond the lateness.
    `feeds`: for a file the config names as a source (as given here), what its documents count as for
    corroboration, as `run` counts them (poller.source_identity; None: each by its outlet's name); a file not in it
    counts as `run` counts a source of its kind configured with the defaults. `skew`: the config's event-time skew
    (an entry dated more than it after `received_at` dates no edition: SeenIds). `gdelt_options`: for a GDELT file or
    folder (as given here) that is, or lies in, configured sources, their options (filters): it is read once with
    each, as `run`'s sources each read it (an event two reads keep is one document, as live); any other is read
    with the defaults."""
    at = received_at or datetime.now(UTC)  # when the files are read: also the date of a feed entry without one
    seen = SeenIds(
        holes=arrival, limit=id_limit, spill_dir=id_spill_dir, max_editions=max_editions, received=at, skew=skew
    )
    try:
        drained: list[str] = []  # the files read to their end (with `arrival`)
        for p in paths:
            files, errors = len(report.files), len(report.errors)
            batches = LiveBatches(p) if arrival else None
            # Lines a live run follows (a feed is read whole at each poll, a GDELT file once): counted in this pass.
            p_kind = source_kind(p, kind)
            late = late_in_file_order if not arrival and p_kind == "jsonl" else None
            if late is not None:
                late.start_file()
            exports = late_in_file_order if not arrival and p_kind == "gdelt" else None
            # What the file's documents count as for corroboration: the config's source, else as `run` counts a
            # source of its kind with the defaults: a feed is one source, its url or path (producers/poller.py
            # source_identity), whatever names it gives itself; a JSON Lines or GDELT file counts each by its name.
            named = feeds is not None and p in feeds
            feed = feeds[p] if feeds is not None and named else _default_feed(p, kind)
            reads: Sequence[GdeltOptions | None] = (gdelt_options.get(p) if gdelt_options is not None else None) or [
                None
            ]
            for k, options in enumerate(reads):
                counted = on_bytes if k == 0 else None  # (the progress bar counts a file's bytes once)
                if exports is not None:
                    exports.start_gdelt_source()  # (each read is a source of its own live, its own event time)
                blocks = _file_blocks(
                    p,
                    seen,
                    report,
                    kind,
                    max_body_chars,
                    gate,
                    counted,
                    on_items,
                    tap,
                    at,
                    feed,
                    named,
                    options,
                    exports,
                )
                for block in blocks:
                    if late is not None:
                        late.add(block)
                    yield block if batches is None else batches.add(block)
            if batches is not None and len(report.files) > files:  # (a file that cannot be opened is no source)
                yield batches.add([], end=True)
                if len(report.errors) == errors:
                    drained.append(p)
    finally:
        seen.close()  # the ids spilled, if any (also when the read stops early)
    report.ids_not_kept = seen.not_kept
    if arrival and drained:
        yield [caught_up_event(CaughtUp(at=at, origins=tuple(dict.fromkeys(drained))))]


def _file_blocks(
    p: str,
    seen: SeenIds,
    report: ReadReport,
    kind: str,
    max_body_chars: int,
    gate: LineGate | None,
    on_bytes: Callable[[int], None] | None,
    on_items: Callable[[int], None] | None,
    tap: LabelTap | None,
    seen_at: datetime,
    feed: str | None = None,
    named: bool = False,
    options: GdeltOptions | None = None,
    exports: LateInFileOrder | None = None,
) -> Iterator[list[Any]]:
    """One file's inputs, a block at a time (iter_event_blocks); `seen_at` dates a feed entry without a date; `feed`:
    what its documents count as for corroboration (SourceRef.feed; None: each by its name); `named`: the config names
    the file as a source (`feed` is that source's identity); `options`: a GDELT file's (None: the defaults);
    `exports`: counts a GDELT source's documents read after a later-dated export (LateInFileOrder.add_exports)."""
    k = source_kind(p, kind)
    problem = _unread_gdelt(p, kind) if k == "gdelt" else auto_file_problem(p, kind)
    if problem is not None:
        report.source_error(p, problem)
        return
    fr = FileReport(p, k)
    report.files.append(fr)
    if k == "gdelt":
        blocks = _gdelt_blocks(
            p, seen, report, fr, max_body_chars, on_bytes, on_items, tap, options or GdeltOptions(), exports
        )
        yield from (blocks if feed is None else (_with_feed(b, feed) for b in blocks))
        return
    if k == "rss":
        res = fetch_feed(p, max_body_chars=max_body_chars, seen_at=seen_at)
        if res.error is not None:
            report.source_error(p, f"{redact_url(p)}: {res.error.reason}")
            report.files.pop()
            return
        # Which outlet's feed this is, to tell another outlet's item under a guid read before (its own copy) from an
        # edit of the same feed (an edition): the channel's own link and title, which captures of one feed share and
        # two outlets' feeds do not (the location cannot tell: it is another for each capture file); a channel that
        # gives neither, by the configured source's identity if the config names the file, else unknown (an edition).
        names = {f"link {res.link}"} if res.link else set()
        if res.title:
            names.add(f"title {res.title}")
        if not names and named and feed is not None:
            names.add(f"source {feed}")
        if not named and feed is not None and names:
            # Captures of one feed are one source, as the one url the live poller reads is (outside trial 64,
            # HIGH-2: each file counted as a source, so a feed's second capture confirmed its first): the first file
            # of the channel's link or title gives the source it counts as to the later ones.
            first = next((seen.outlet_feeds[n] for n in sorted(names) if n in seen.outlet_feeds), None)
            if first is not None and first != feed:
                shared = sorted(n for n in names if seen.outlet_feeds.get(n) == first)
                report.merge_feed(first, seen.outlet_files[first], p, shared)
                feed = first
            seen.outlet_files.setdefault(feed, p)
            for n in names:
                seen.outlet_feeds.setdefault(n, feed)
        feed_docs = [x if feed is None else with_feed(x, feed) for x in res.items if isinstance(x, Document)]
        report.add_dead((x for x in res.items if isinstance(x, DeadLetter)), fr)
        fr.accepted += len(feed_docs)
        own = feed if feed is not None else source_feed("rss", p)  # live: its source_name, else its url
        docs: list[Any] = seen.documents(feed_docs, report, fr, outlet=frozenset(names) or None, own=own)
        if tap is not None:
            for d in docs:
                if d is not None:
                    tap(d)
        if on_bytes is not None and not p.startswith(("http://", "https://")):
            on_bytes(Path(p).stat().st_size)
        if on_items is not None:
            on_items(len(docs))
        yield docs
        return
    try:
        f, raw = _open_counted(p)
    except OSError as e:
        report.source_error(p, str(e) if isinstance(e, JsonlSourceError) else f"{p}: {e}")
        report.files.pop()
        return
    pos = 0
    raw_lines: list[tuple[list[bytes], int]] = []  # the block's lines and the number of lines before them

    def keep_lines(lines: list[bytes], base: int, into: list[tuple[list[bytes], int]] = raw_lines) -> None:
        into.append((lines, base))

    try:
        for block, dead in read_blocks(
            f, Path(p), origin=p, max_body_chars=max_body_chars, checked=True, gate=gate, on_lines=keep_lines
        ):
            if dead:
                report.add_dead((x for x in block if isinstance(x, DeadLetter)), fr)
            fr.accepted += len(block) - dead
            items: list[Any] = (
                seen.jsonl_block(block, dead, *raw_lines.pop(), report, fr)
                if raw_lines
                else [x for x in block if not isinstance(x, DeadLetter)]  # an over-long line, alone
            )
            if feed is not None:
                items = _with_feed(items, feed)
            if tap is not None:
                tap.documents(x for x in _not_times(items) if x is not None)
            if on_bytes is not None:
                now = raw.tell() if not raw.closed else pos
                on_bytes(now - pos)
                pos = now
            if on_items is not None:
                on_items(len(block))
            yield items
    except OSError as e:  # e.g. a truncated .gz in the middle of a file
        report.source_error(p, f"{p}: {e}")


def _default_feed(p: str, kind: str) -> str | None:
    """What a file's documents count as for corroboration when no config names it: as `run` counts a source of its
    kind configured with the defaults."""
    return source_feed("rss", p) if source_kind(p, kind) == "rss" else None


def _with_feed(items: list[Any], feed: str) -> list[Any]:
    """A block's items counted as the configured source `feed` (a JSON Lines or GDELT file that `run` reads as one
    source): documents as the live ingest makes them (with_feed), checked inputs when they are built."""
    out: list[Any] = []
    for x in items:
        if x.__class__ is CheckedInput:
            x.feed = feed
        elif isinstance(x, Document):
            x = with_feed(x, feed)
        out.append(x)
    return out


def _unread_gdelt(p: str, kind: str) -> str | None:
    """Why a GDELT source is not read here: a lastupdate.txt (followed live by ingest, run and produce), a folder
    auto cannot read as GDELT's (auto_folder_problem); None: read it."""
    if "://" in p and urlsplit(p).scheme.lower() in ("http", "https", "file"):
        return (
            f"{redact_url(p)}: a GDELT lastupdate.txt is followed live by `ingest`, `run` and `produce`; a backtest "
            "reads export files and folders (download them first)"
        )
    if kind == "auto" and Path(p).is_dir():
        return auto_folder_problem(p)
    return None


def _gdelt_blocks(
    p: str,
    seen: SeenIds,
    report: ReadReport,
    fr: FileReport,
    max_body_chars: int,
    on_bytes: Callable[[int], None] | None,
    on_items: Callable[[int], None] | None,
    tap: LabelTap | None,
    options: GdeltOptions,
    exports: LateInFileOrder | None = None,
) -> Iterator[list[Any]]:
    """A GDELT file's (or folder's) documents, a block at a time, read with `options` (a configured source's, else the
    defaults, as `watchfloor ingest FILE` reads it); a repeated event id is a repeat or a dead letter, never an
    edition, as live. `exports` counts those read after a later-dated export of the folder."""
    try:
        files = export_files(p)
    except GdeltSourceError as e:
        report.source_error(p, str(e))
        report.files.pop()
        return

    # Each document's file (`archive.zip:member`) and line, as read_gdelt reads it: the dead letter of an event a
    # later export lists again names them, as live (trial 59, MED-1: it named the folder, line null). Taken out
    # as each row is read, so it holds one entry at a time.
    read_at: dict[str, tuple[str, int]] = {}
    left_out = LeftOut()

    def each_file() -> Iterator[tuple[int, Document | DeadLetter]]:
        # File by file, as live and `ingest` read a folder: a damaged file is said (naming it) and the rest read
        # (trial 59, MED-4); a damaged archive gives no row (read_gdelt checks it whole first).
        for file in files:
            try:
                yield from read_gdelt(
                    file, options=options, max_body_chars=max_body_chars, places=read_at, left_out=left_out
                )
            except GdeltSourceError as e:  # a truncated or damaged archive
                report.source_error(p, str(e))
            fr.filtered_out, fr.left_out = left_out.rows, left_out.first

    rows = each_file()
    block: list[Document] = []
    places: list[tuple[str, int]] = []

    def flush() -> list[Any]:
        # Not as a feed's: the live poller makes no editions of GDELT rows (a re-listed event with other counts is
        # a dead letter there, the first version standing), so neither does a backtest (docs/gdelt.md).
        if exports is not None:
            read_from = {d.id: export for d, (export, _line) in zip(block, places, strict=True)}
        docs: list[Any] = seen.documents(block, report, fr, editions=False, places=places)
        fr.accepted += len(block)
        if exports is not None:  # (the documents kept: a repeat or a re-listed event is none, as live)
            kept = [d for d in docs if d is not None]
            exports.add_exports(kept, [read_from[d.id] for d in kept])
        if tap is not None:
            for d in docs:
                if d is not None:
                    tap(d)
        if on_items is not None:
            on_items(len(docs))
        return docs

    errors_before = len(report.errors)
    for line, item in rows:
        if isinstance(item, DeadLetter):
            report.add_dead([item], fr)
            continue
        block.append(item)
        places.append(read_at.pop(item.id, (p, line)))
        if len(block) >= GDELT_BLOCK:
            yield flush()
            block, places = [], []
    if len(report.errors) > errors_before and not (block or fr.accepted or fr.dead):
        report.files.remove(fr)  # nothing read: the error says it, not also "no events in it"
    if block:
        yield flush()
    if on_bytes is not None:
        on_bytes(input_bytes([p]) or 0)


GDELT_BLOCK = 5000
"""Documents of a GDELT source handed on at a time by a backtest."""


@dataclass
class LoadedEvents:
    # Documents; read with a rules' gate, those the rules cannot match are just their event time.
    documents: list[Document | CheckedInput | EventTime] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_events(
    paths: Iterable[str],
    *,
    kind: str = "auto",
    max_body_chars: int = 200_000,
    on_items: Callable[[int], None] | None = None,
    gate: LineGate | None = None,
) -> LoadedEvents:
    """iter_events into memory (for callers that want a list: tests, the benchmark's baseline)."""
    report = ReadReport()
    with bulk_load():
        docs = list(
            iter_events(paths, report=report, kind=kind, max_body_chars=max_body_chars, gate=gate, on_items=on_items)
        )
    files_only = cast(list[Document | CheckedInput | EventTime], docs)  # files hold no log documents
    return LoadedEvents(files_only, report.dead_letters, report.errors)


def documents_from_store(
    store: EventLog,
    batch: int = 5000,
    on_records: Callable[[int], None] | None = None,
    report: ReadReport | None = None,
) -> Iterator[Document]:
    """Every document in the log, in log order (what the live runner saw); one the engine cannot take is
    left out (and reported), as in log_from_store."""
    for block in batched(log_from_store(store, batch, report), batch):
        for ev in block:
            if ev.type in DOCUMENT_TYPES:
                yield Document.model_validate(ev.payload)
        if on_records is not None:
            on_records(len(block))


# -- ordering and replaying ------------------------------------------------------------------------


def log_from_store(store: EventLog, batch: int = 5000, report: ReadReport | None = None) -> Iterator[Event]:
    """What the live runner read, in log order: documents with their recorded origin and receive time, and
    the CaughtUp marks between them (replayed in log order, they give exactly what the live run gave).

    A document the engine cannot take (an invalid payload, or a date outside the accepted years: a store of
    an older release, an archive of a topic other producers write to) is left out and, with `report`, counted
    as a dead letter naming its log position, the letter the live runner writes for it
    (runner.engine_failure_letter): the live run skipped it too, so the alerts stay the live run's."""
    position = 0
    while True:
        got = store.read(position, types=ENGINE_INPUT_TYPES, limit=batch)
        if not got:
            return
        for se in got:
            ev = se.event
            if ev.type in DOCUMENT_TYPES:
                try:
                    Document.model_validate(ev.payload)
                except ValidationError as e:
                    if report is not None:
                        report.add_dead([engine_failure_letter(se, e)])
                    continue
            yield ev
        position = got[-1].position


# What `backtest --from-store` says of a store whose alerts Kafka workers raised (outside trial 11, M2): the
# standing alerts replay exactly, the way there does not (docs/backtest.md, "Replaying a distributed run").
FED_WORKERS_NOTE = (
    "note: `watchfloor produce` fed this store's documents to Kafka workers: the replay raises the alerts that "
    "stood live, but the raises and revisions on the way to them follow the order in which each correlate "
    "partition read its reports, which the store does not record (what the workers raised is in the store, "
    "`watchfloor alerts list`; `watchfloor replay-workers` replays it from the correlate topic, kept a week, and "
    "from the correlate records `watchfloor archive` keeps)"
)
ARCHIVED_NOTE = (
    "note: this store holds what `watchfloor archive` copied from Kafka workers: its events have no poller marks (the "
    "replay ends as a quiet system does) and not the order in which each correlate partition read its reports, so "
    "neither the raises and revisions on the way nor always the alerts that stood live replay exactly (what the "
    "workers raised is in the store, `watchfloor alerts list`; `watchfloor replay-workers` replays it from the "
    "correlate topic, kept a week, and from the correlate records `watchfloor archive` keeps in the store)"
)


def distributed_note(store: Store) -> str | None:
    """The line to say before replaying `store` when its alerts were raised by Kafka workers, not by an embedded
    `watchfloor run` (whose log, replayed in order, gives exactly what it raised): None for an embedded store.

    A store `produce` relayed from has the relay's checkpoint; one only `archive` filled has detections, no
    embedded pass and no CaughtUp mark (the relay turns those into watermark records, which archive skips)."""
    if relayed_position(store) > 0:  # any target: the workers raised its alerts
        return FED_WORKERS_NOTE
    if store.checkpoint_position(ENGINE_PROCESSOR) > 0 or store.read(0, types={EventType.CAUGHT_UP.value}, limit=1):
        return None
    if store.read(0, types={EventType.DETECTION.value, EventType.RETRACTION.value}, limit=1):
        return ARCHIVED_NOTE
    return None


def late_note(store: Store) -> str | None:
    """The line to say before replaying `store` in an order other than its log's when the live run processed
    documents beyond the lateness (its event-time reports "late: …"): live took each against the correlation
    state it still held, this replay puts it in its place, so the alerts may differ and only `--order log`
    gives what `run` raised (outside trial 20, M2: a Kursk alert live, none here, and nothing said)."""
    late, after = 0, 0
    while batch := store.read(after, types={EventType.DEAD_LETTER.value}, limit=5000):
        after = batch[-1].position
        late += sum(
            1
            for se in batch
            if se.event.payload.get("stage") == "event-time"
            and str(se.event.payload.get("reason", "")).startswith("late:")
        )
    if not late:
        return None
    each, them = ("", "it") if late == 1 else ("each ", "them")
    return (
        f"note: the live run processed {counted(late, 'document')} beyond the allowed lateness, {each}against the "
        f"state it still held; this replay puts {them} in their event-time place, so its alerts may differ from what "
        "`run` raised: `--order log` replays exactly that"
    )


def store_rules_note(store: Store, engine: Engine, replayed: str, hint: str) -> str | None:
    """The line to say before replaying `store` with `engine`'s rules when its alerts were not raised by them
    (outside trial 15, M2: a desk's own pack replayed with the bundled one, 0 alerts and nothing said): the rule
    ids its detections name that these rules lack, else the `rules` checkpoint `run` keeps when it names other
    rules. None when nothing says they differ. `replayed`: the rules as the command line named them; `hint`: what
    to pass instead."""
    have = {d.id for d in engine.rules.detections}
    named: set[str] = set()
    after = 0
    while batch := store.read(after, types={EventType.DETECTION.value}, limit=5000):
        named.update(str(se.event.payload.get("rule")) for se in batch)
        after = batch[-1].position
    if lacking := sorted(named - have):
        shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more" if len(lacking) > 5 else "")
        return (
            f"note: the store's alerts name rules that {replayed} do not have ({shown}): this replay cannot raise "
            f"them. {hint}"
        )
    seen = store.load_checkpoint(RULES_IN_USE).state or {}
    theirs = seen.get("fingerprint")
    if not isinstance(theirs, str):
        return None
    ours, legacy = rules_fingerprint(engine), legacy_fingerprint(engine)
    if theirs == ours or other_release(theirs, ours, legacy) is not None:  # the same rules (this engine replays)
        return None
    return (
        f"note: the rules `run` last started with on this store are not {replayed}: rules fingerprint {theirs} "
        f"({difference(theirs, ours, legacy)}), these are {ours}. {hint}"
    )


def run_backtest(
    documents: Iterable[Replayable],
    rules: CompiledRules,
    *,
    order: str = "event-time",
    on_documents: Callable[[int], None] | None = None,
    on_outputs: Callable[[list[Any]], None] | None = None,
    received_at: datetime | None = None,
    engine: Engine | None = None,
) -> EngineTally:
    """Replay documents through the rules. `order`: event-time (in memory; the CLI orders with
    OrderedInputs and passes "log"), or log (streamed). `received_at`: when documents read from files were
    received (a document dated more than the skew after it is processed at that time, as live); log events
    carry their own. `engine`: one with the config's event-time settings."""
    with bulk_load():
        return replay(
            documents,
            engine or Engine(rules),
            order=order,
            on_documents=on_documents,
            on_outputs=on_outputs,
            received_at=received_at,
            signalled_only=True,  # reports in one unit, whatever the input (replay.signalled_reports)
        )


# -- results ---------------------------------------------------------------------------------------


def alert_json(
    d: Detection,
    evidence_ids: Mapping[str, Sequence[str]] | None = None,
    repeats: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """One alert as the backtest JSON writes it: `detection_to_json` plus `evidence_total`, how many reports
    it rests on (the Detection field the live file channel writes; `evidence` shows at most ten), and, for an
    alert that shows fewer, `evidence_ids`: every one of them, when the replay recovered them (scoring.evidence),
    so a `--baseline RESULT.json` is scored and compared on all of them as a `--baseline-rules` run is (of a
    detection over detections, the reports its input alerts rest on); and
    `repeat_ids`, the documents whose signals its `realert` held back, and of a sequence the earlier reports of its
    steps it told without citing them (NearMissCollector.repeats), which scores count as covered by a true alert."""
    out = detection_to_json(d)
    out["evidence_total"] = d.reports
    every = evidence_ids.get(d.id) if evidence_ids else None
    shown = {e.event_id for e in d.evidence}
    # (a derived alert cites its input alerts: its reports are theirs, other ids than it shows)
    if every and (len(d.evidence) < d.reports or not shown.issuperset(every)) and set(every) != shown:
        out["evidence_ids"] = list(every)
    held = repeats.get(d.id) if repeats else None
    if held:
        out["repeat_ids"] = list(held)
    return out


def result_json(
    result: EngineTally,
    loaded: LoadedEvents | ReadReport | None = None,
    rules: list[str] | None = None,
    evidence_ids: Mapping[str, Sequence[str]] | None = None,
    repeats: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """`evidence_ids`: alert id -> every report it rests on, for alerts showing fewer (FullEvidence.all_ids);
    `repeats`: alert id -> the documents its realert held back (NearMissCollector.repeats)."""
    current = result.detections  # the alerts that stand (revised or retracted ones left out)
    alerts = [alert_json(d, evidence_ids, repeats) for d in current]
    by_rule: dict[str, int] = {}
    for d in current:
        by_rule[d.rule] = by_rule.get(d.rule, 0) + 1
    if isinstance(loaded, ReadReport):
        dead, dead_count = loaded.dead_letters, loaded.dead_count
    else:
        dead = loaded.dead_letters if loaded else []
        dead_count = len(dead)
    stats: dict[str, Any] = {
        "documents": result.documents,
        "signals": result.signals,
        "alerts": len(alerts),
        # Event-time reports apart: late ones (beyond the lateness), and ones dated in the future (counted at
        # their receive time), each as `watchfloor run` reports them. The unit is a document with a signal,
        # whatever the input (replay.signalled_reports): a file's lines no rule can match are read as their
        # event time only and can report nothing, so a log's documents are counted alike.
        "late_documents": sum(1 for dl in result.late if dl.reason.startswith("late")),
        # late documents no detection reads (a backfill's old items, mostly): passed over, counted and not reported,
        # as `watchfloor run` counts them (Engine.late_reports)
        "late_passed_over": result.late_passed_over,
        "future_dated": sum(1 for dl in result.late if not dl.reason.startswith(("late", EPOCH_DATED))),
        # dated at the Unix epoch (a date the source did not have): processed at it, as dated (trial 33, L2); one
        # also late has the late report alone and is counted in late_documents only (Engine._arrive)
        "epoch_dated": sum(1 for dl in result.late if dl.reason.startswith(EPOCH_DATED)),
        "revisions": result.revisions,  # in log order only: detections raised by a change of history
        "retractions": len(result.retractions),
        "dead_letters": dead_count,
        "sources_failed": len(loaded.failed_sources()) if isinstance(loaded, ReadReport) else 0,
        # Repeats of an id with the same content, skipped (`watchfloor run`: "already seen"); one with other
        # content is a dead letter, as live.
        "already_seen": loaded.already_seen if isinstance(loaded, ReadReport) else 0,
        # Edits of feed items that had --max-editions already, left out as the live poll leaves them out.
        "editions_left_out": loaded.editions_left_out if isinstance(loaded, ReadReport) else 0,
        # Documents read past the bound on ids kept for that (--sort-run): a repeat of one is replayed again.
        "ids_not_kept": loaded.ids_not_kept if isinstance(loaded, ReadReport) else 0,
        "alerts_by_rule": by_rule,
        # Alerts list the repeats their realert held back (`repeat_ids`, when any): a --baseline of this result
        # scores them as covered. A result without this key was written before, and counts them as missed.
        "repeats_recorded": repeats is not None,
        "signals_by_name": dict(result.signals_by_name),
    }
    if rules:
        stats["rules"] = ", ".join(rules)
    out: dict[str, Any] = {
        "alerts": alerts,
        "stats": stats,
        "dead_letters": [dl.model_dump(mode="json") for dl in dead][:KEEP_DEAD_LETTERS],
        # The inputs that could not be used, as the terminal names them (`error: …`; the exit status is 1).
        "sources_failed": [
            {"source": source, "problem": problem}
            for source, problem in (loaded.failed_sources() if isinstance(loaded, ReadReport) else [])
        ],
    }
    if isinstance(loaded, ReadReport) and loaded.merged_feeds:
        # Feed files counted as one source by their channel (outside trial 67, MED-1): `run` counts them apart.
        out["merged_sources"] = [m.as_json() for m in loaded.merged_feeds.values()]
    if result.retractions or result.revisions:
        # In log order: everything raised, in order, as the live run raised it (alerts then revised or
        # retracted included); `alerts` holds those that stand at the end.
        out["raised"] = [
            alert_json(o, evidence_ids, repeats)
            if isinstance(o, Detection)
            else {"retraction": o.model_dump(mode="json")}
            for o in result.history
        ]
    return out
