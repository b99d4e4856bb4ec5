"""Backtest: stream events from files, a store or Kafka, order them in bounded memory, replay them through
rules (and a baseline's), compare with expectations and labels, and assemble the JSON result."""

from __future__ import annotations

import gc
import gzip
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, compress, islice, repeat
from operator import is_, is_not
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

import msgspec
import orjson
from pydantic import ValidationError

from watchfloor.producers.jsonl import JsonlSourceError, parse_line, read_blocks, truncate
from watchfloor.producers.publish import DEFAULT_BATCH_SIZE, arrival_order, conflict_reason
from watchfloor.producers.rss import fetch_feed
from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    CaughtUp,
    DeadLetter,
    Detection,
    Document,
    Event,
    caught_up_event,
)
from watchfloor.schemas.inputs import CheckedInput, EventTime, LineGate, derive_id
from watchfloor.stream_processors.engine import CompiledRules, Engine
from watchfloor.stream_processors.engine.compiler import JsonLineGate
from watchfloor.stream_processors.external_sort import Input, event_time, input_id
from watchfloor.stream_processors.ports import EventLog
from watchfloor.stream_processors.processing import EngineTally
from watchfloor.stream_processors.replay import Logged, Replayable, detection_to_json, replay
from watchfloor.stream_processors.runner import ENGINE_INPUT_TYPES, engine_failure_letter

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")
ORDERS = ("event-time", "log", "random")
KEEP_DEAD_LETTERS = 1000
"""Dead letters kept for the report (all are counted): a file of bad lines must not fill memory."""


JSON_FEED_SNIFF = 1 << 16
"""How much of a `.json` file is looked at for a JSON Feed's version (jsonfeed.org), which leads it."""


_JSON_FEED_VERSION = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')


def source_kind(path: str, kind: str = "auto") -> str:
    """rss (a feed: RSS, Atom or JSON Feed) or jsonl, for every command that reads sources (`run`, `ingest`,
    `backtest`). A feed is known by its name (FEED_SUFFIXES, a URL) or, for a `.json` file, by its content: a
    JSON object whose first bytes give a jsonfeed.org `version`, which no input record has."""
    if kind != "auto":
        return kind
    lower = path.lower()
    if lower.endswith(FEED_SUFFIXES) or lower.startswith(("http://", "https://")):
        return "rss"
    if lower.endswith(".json") and _is_json_feed(path):
        return "rss"
    return "jsonl"


def _is_json_feed(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(JSON_FEED_SNIFF)
    except OSError:
        return False  # the JSON Lines reader says why it cannot read it
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # An object with a jsonfeed.org `version` member: no field of an input record (schemas/inputs.py).
    return head[:1] == b"{" and _JSON_FEED_VERSION.search(head) is not None


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

    def problem(self) -> str | None:
        """Why this input cannot be what the user meant, or None: a file with no valid event in it."""
        if self.accepted:
            return None
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
        unit = "line(s)" if self.kind == "jsonl" else "entr(ies)"
        return f"{self.path}: no valid event in {self.dead} {unit} (first: {self.first_problem}){hint}"


@dataclass
class ReadReport:
    """What reading found besides documents: dead letters (counted, the first KEEP_DEAD_LETTERS kept),
    sources that failed, and per-file counts."""

    dead_letters: list[DeadLetter] = field(default_factory=list)
    dead_count: int = 0
    errors: list[str] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    already_seen: int = 0  # repeated documents skipped, as the live ingest skips them ("already seen")

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
        return [*self.errors, *(p for f in self.files if (p := f.problem()) is not None)]


GATE_WORD_CHARS = 32
_JSON_SPLIT = re.compile(r'[/\\"]+')


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
    if parts is not None and parts.scheme.lower() in ("http", "https") and parts.netloc:
        path = [p for p in _JSON_SPLIT.split(parts.path) if p]
        if path:
            return (path[-1] if len(path[-1]) >= 16 else max(path, key=len))[-GATE_WORD_CHARS:]
    pieces = [p for p in _JSON_SPLIT.split(key) if p]
    return max(pieces, key=len)[-GATE_WORD_CHARS:] if pieces else key


class LabelTap:
    """Notes, as documents stream past, the labelled ones: label key (a document id or URL) -> (document
    id, published_at). Gated-out lines are only event times, so a word of every key joins the JSON line
    gate (`gate_words`) and the lines that carry one come through as documents."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = frozenset(keys)
        self.gate_words = frozenset(gate_word(k) for k in self.keys)
        self.seen: dict[str, tuple[str, datetime]] = {}

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


class _Keys(msgspec.Struct):
    """What of an input line names its document: the id, else the URL (else a hash of its content)."""

    id: str | int | None = None
    url: str | None = None


_decode_key = msgspec.json.Decoder(_Keys).decode


class SeenIds:
    """The document ids a backtest has read, across its files, each with a fingerprint of its first
    version: the live ingest's log, which keeps the first version of an id. A repeat with the same content
    is skipped and counted (`watchfloor run`: "already seen"); another content under a seen id is a dead
    letter with the live ingest's reason (publish.conflict_reason). A JSON line's fingerprint is a hash of
    its bytes (without a CRLF file's CR), so an exact repeat is one of the same line (one written again with
    other spacing or key order is a dead letter here where the live ingest, comparing documents, skips it:
    either way the first version alone is replayed); a feed entry's, of its document.

    Cheap on the fast path: the lines of a block are keyed by msgspec (ids and URLs only; a line without
    either is hashed as live), and a block with no repeat is checked and added by dict operations in C. A
    document named by its URL is kept under the URL until an explicit id of the form derived from a URL
    (`doc-…`, a SHA-256) is read: from then on under the derived id, as the log has it."""

    def __init__(self, *, holes: bool = False) -> None:
        self.holes = holes  # leave None where a repeat was (valid inputs keep their places)
        self.ids: dict[str, int] = {}
        self.urls: dict[str, int] = {}  # documents named by their URL, until `derived`
        self.derived = False

    def _derive_all(self) -> None:
        self.derived = True
        self.ids.update((self._url_id(u), fp) for u, fp in self.urls.items())
        self.urls = {}

    @staticmethod
    def _url_id(url: str) -> str:
        return derive_id({"url": url}, "", "", "")

    def jsonl_block(
        self, items: list[Any], dead: int, lines: list[bytes], base: int, report: ReadReport, fr: FileReport
    ) -> list[Any]:
        """A block's items (dead letters included, as read_blocks gives them, with the block's raw lines)
        -> its valid items without the repeats of a seen id (which are counted or dead-lettered)."""
        if dead == 0 and len(items) == len(lines):
            at: list[int] | range = range(len(lines))
            valid, valid_lines = items, lines
        else:
            at = [i for i, line in enumerate(lines) if not _blank(line)]
            if len(at) != len(items):  # cannot happen (read_blocks drops blank lines only): keep all
                return [x for x in items if x.__class__ is not DeadLetter]
            keep = [k for k, x in enumerate(items) if x.__class__ is not DeadLetter]
            valid, valid_lines, at = [items[k] for k in keep], [lines[at[k]] for k in keep], [at[k] for k in keep]
        if not valid:
            return valid
        crlf = valid_lines[0].endswith(b"\r") or valid_lines[-1].endswith(b"\r")  # a CRLF file: as its LF copy
        prints = list(map(hash, map(bytes.rstrip, valid_lines) if crlf else valid_lines))

        def where(k: int) -> tuple[int | None, bytes | str]:
            return base + at[k] + 1, valid_lines[k]

        try:
            recs = list(map(_decode_key, valid_lines))
        except (msgspec.DecodeError, RecursionError):
            recs = None
        if recs is not None:
            ids = [r.id for r in recs]
            if None not in ids:  # every line names its id: the usual case
                try:
                    keys = list(map(str.strip, cast(list[str], ids)))
                except TypeError:  # an integer id
                    keys = None
                if keys is not None and (self.derived or not any(map(_derived_form, keys))):
                    return self._filter(valid, keys, prints, self.ids, report, fr, where)
            elif ids.count(None) == len(ids):  # every line is named by its URL (feeds mapped to lines)
                urls = cast(list[str], [r.url for r in recs])
                if None not in urls and "" not in urls:
                    if self.derived:
                        return self._filter(valid, list(map(self._url_id, urls)), prints, self.ids, report, fr, where)
                    return self._filter(valid, urls, prints, self.urls, report, fr, where)
        # Lines of every kind (ids, URLs, neither, integer ids): one at a time.
        some = recs if recs is not None else [_one_key(line) for line in valid_lines]
        if not self.derived and any(r is not None and r.id is not None and _derived_form(str(r.id)) for r in some):
            self._derive_all()
        keyed = [self._line_key(line, rec) for line, rec in zip(valid_lines, some, strict=True)]
        kept = self._filter_each(keyed, prints, report, fr, where)
        return self._without(valid, set(range(len(valid))).difference(kept))

    def _line_key(self, line: bytes, rec: _Keys | None) -> tuple[dict[str, int], str]:
        if rec is not None and rec.id is not None:
            return self.ids, str(rec.id).strip()
        if rec is not None and rec.url:
            return (self.ids, self._url_id(rec.url)) if self.derived else (self.urls, rec.url)
        got = parse_line(line, origin="", line=0, checked=True)  # named by a hash of its content
        return self.ids, (got.build().id if isinstance(got, CheckedInput) else "")

    def documents(self, docs: list[Document], report: ReadReport, fr: FileReport) -> list[Any]:
        """A feed's documents without the repeats of an id seen before (in this feed or another file)."""
        if not docs:
            return docs
        keys = [d.id for d in docs]
        if not self.derived and any(map(_derived_form, keys)):
            self._derive_all()
        prints = [hash(orjson.dumps(d.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)) for d in docs]
        return self._filter(docs, keys, prints, self.ids, report, fr, lambda k: (None, docs[k].title))

    def _filter(
        self,
        items: list[Any],
        keys: list[str],
        prints: list[int],
        table: dict[str, int],
        report: ReadReport,
        fr: FileReport,
        where: Callable[[int], tuple[int | None, bytes | str]],
    ) -> list[Any]:
        new = dict(zip(keys, prints, strict=True))
        if len(new) == len(keys) and table.keys().isdisjoint(new):  # no repeat: the usual block
            table.update(new)
            return items
        # Some repeats: look at the lines of those ids only, in order; add the others at once.
        again = table.keys() & new.keys()
        if len(new) != len(keys):
            again.update(k for k, n in Counter(keys).items() if n > 1)
        at = [k for k, key in enumerate(keys) if key in again]
        for key in again:
            del new[key]
        table.update(new)
        kept = self._filter_each(
            [(table, keys[k]) for k in at], [prints[k] for k in at], report, fr, lambda j: where(at[j])
        )
        if len(kept) == len(at):
            return items
        return self._without(items, set(at).difference(at[j] for j in kept))

    def _without(self, items: list[Any], dropped: set[int]) -> list[Any]:
        """The items but those at `dropped`; with `holes`, None in their place (the live ingest's batches
        count them)."""
        if self.holes:
            return [None if k in dropped else x for k, x in enumerate(items)]
        return [x for k, x in enumerate(items) if k not in dropped]

    def _filter_each(
        self,
        keyed: list[tuple[dict[str, int], str]],
        prints: list[int],
        report: ReadReport,
        fr: FileReport,
        where: Callable[[int], tuple[int | None, bytes | str]],
    ) -> list[int]:
        """The positions kept: the first of each id; a repeat is counted, another content dead-lettered."""
        kept: list[int] = []
        for k, ((table, key), fp) in enumerate(zip(keyed, prints, strict=True)):
            held = table.get(key)
            if held is None:
                table[key] = fp
                kept.append(k)
            elif held == fp:
                report.already_seen += 1
                fr.already_seen += 1
            else:
                line, raw = where(k)
                doc_id = key if table is self.ids else self._url_id(key)
                text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
                letter = DeadLetter(
                    origin=fr.path, line=line, field="id", reason=conflict_reason(doc_id), raw=truncate(text)
                )
                report.add_dead([letter], fr)
        return kept


def _derived_form(doc_id: str) -> bool:
    """Whether an explicit id has the form of one derived from a URL or content (as the log holds them)."""
    return doc_id.lstrip().startswith("doc-")


def _one_key(line: bytes) -> _Keys | None:
    try:
        return _decode_key(line)
    except (msgspec.DecodeError, RecursionError):
        return None


def _blank(line: bytes) -> bool:
    """Whether read_blocks drops the line as blank (parse_line's None): nothing but whitespace."""
    try:
        return not line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


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
) -> Iterator[Input]:
    """Documents of JSONL (.jsonl, .jsonl.gz) and feed files, streamed; bad records go to `report`. With
    `gate` (the rules' JSON line gate) the lines no rule can match come as their event time only.
    `on_bytes(n)`: n more bytes of the files were read."""
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
) -> Iterator[list[Any]]:
    """iter_events a block (a list) at a time: what bulk consumers take (list.extend runs in C). A document
    whose id an earlier one had (in any of the files) is left out as the live ingest leaves it out
    (SeenIds): the first version stands.

    With `arrival` (a backtest in log order), the inputs come in the order `watchfloor run` reads them
    (LiveBatches: a file's inputs a batch at a time, each oldest first, with the file as their origin), and
    the read ends with the CaughtUp mark the poller writes after its poll (at `received_at`, naming the
    files read to their end): event time moves there, as live, not with each line."""
    seen = SeenIds(holes=arrival)
    drained: list[str] = []  # the files read to their end (with `arrival`)
    for p in paths:
        files, errors = len(report.files), len(report.errors)
        batches = LiveBatches(p) if arrival else None
        for block in _file_blocks(p, seen, report, kind, max_body_chars, gate, on_bytes, on_items, tap):
            yield block if batches is None else batches.add(block)
        if batches is not None and len(report.files) > files:  # (a file that cannot be opened is no source)
            yield batches.add([], end=True)
            if len(report.errors) == errors:
                drained.append(p)
    if arrival and drained:
        at = received_at or datetime.now(UTC)
        yield [caught_up_event(CaughtUp(at=at, origins=tuple(dict.fromkeys(drained))))]


class LiveBatches:
    """A file's inputs (None where a repeat of an id was left out) -> the order the live ingest appends them
    in: DEFAULT_BATCH_SIZE inputs at a time (repeats counted, as publish.ingest counts them), each batch
    oldest first (publish.arrival_order: published_at, then id), as Logged inputs of the file. An event time
    needs no id (ties with it change nothing); a document's is worked out only for a tie."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.pending: list[Any] = []

    def add(self, items: list[Any], *, end: bool = False) -> list[Logged]:
        self.pending.extend(items)
        out: list[Logged] = []
        n = DEFAULT_BATCH_SIZE
        while len(self.pending) >= n or (end and self.pending):
            batch, self.pending = self.pending[:n], self.pending[n:]
            out.extend(self._in_order([x for x in batch if x is not None]))
        return out

    def _in_order(self, batch: list[Any]) -> list[Logged]:
        times = [event_time(x) for x in batch]
        docs_at = Counter(t for t, x in zip(times, batch, strict=True) if x.__class__ is not float)
        keys = [
            (t, input_id(x) if x.__class__ is not float and docs_at[t] > 1 else "")
            for t, x in zip(times, batch, strict=True)
        ]
        origin = self.origin
        return [Logged(batch[i], origin) for i in arrival_order(keys)]


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
) -> Iterator[list[Any]]:
    """One file's inputs, a block at a time (iter_event_blocks)."""
    k = source_kind(p, kind)
    fr = FileReport(p, k)
    report.files.append(fr)
    if k == "rss":
        res = fetch_feed(p, max_body_chars=max_body_chars)
        if res.error is not None:
            report.errors.append(f"{p}: {res.error.reason}")
            report.files.pop()
            return
        feed_docs = [x for x in res.items if isinstance(x, Document)]
        report.add_dead((x for x in res.items if isinstance(x, DeadLetter)), fr)
        fr.accepted += len(feed_docs)
        docs: list[Any] = seen.documents(feed_docs, report, fr)
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
        report.errors.append(str(e) if isinstance(e, JsonlSourceError) else f"{p}: {e}")
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
        report.errors.append(f"{p}: {e}")


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


def result_json(
    result: EngineTally,
    loaded: LoadedEvents | ReadReport | None = None,
    rules: list[str] | None = None,
) -> dict[str, Any]:
    current = result.detections  # the alerts that stand (revised or retracted ones left out)
    alerts = [detection_to_json(d) for d in current]
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
        "future_dated": sum(1 for dl in result.late if not dl.reason.startswith("late")),
        "revisions": result.revisions,  # in log order only: detections raised by a change of history
        "retractions": len(result.retractions),
        "dead_letters": dead_count,
        # Repeats of an id with the same content, skipped (`watchfloor run`: "already seen"); one with other
        # content is a dead letter, as live.
        "already_seen": loaded.already_seen if isinstance(loaded, ReadReport) else 0,
        "alerts_by_rule": by_rule,
        "signals_by_name": dict(result.signals_by_name),
    }
    if rules:
        stats["rules"] = ", ".join(rules)
    out: dict[str, Any] = {
        "alerts": alerts,
        "stats": stats,
        "dead_letters": [dl.model_dump(mode="json") for dl in dead][:KEEP_DEAD_LETTERS],
    }
    if result.retractions or result.revisions:
        # In log order: everything raised, in order, as the live run raised it (alerts then revised or
        # retracted included); `alerts` holds those that stand at the end.
        out["raised"] = [
            detection_to_json(o) if isinstance(o, Detection) else {"retraction": o.model_dump(mode="json")}
            for o in result.history
        ]
    return out
