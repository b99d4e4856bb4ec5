"""Reading files as the live ingest reads them, for a backtest: a document id keeps its first version
(SeenIds: a repeat is already seen, other content a dead letter), and in log order the inputs come in the
order `watchfloor run` appends them (LiveBatches: the ingest's batches, each oldest first)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import msgspec
import orjson

from watchfloor.producers.jsonl import parse_line, truncate
from watchfloor.producers.publish import DEFAULT_BATCH_SIZE, arrival_order, conflict_reason
from watchfloor.schemas.events import DeadLetter, Document
from watchfloor.schemas.inputs import CheckedInput, derive_id
from watchfloor.stream_processors.external_sort import event_time, input_id
from watchfloor.stream_processors.replay import Logged

if TYPE_CHECKING:
    from .backtest import FileReport, ReadReport

__all__ = ["LiveBatches", "SeenIds"]


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

    def __init__(self, *, holes: bool = False, limit: int | None = None) -> None:
        self.holes = holes  # leave None where a repeat was (valid inputs keep their places)
        self.ids: dict[str, int] = {}
        self.urls: dict[str, int] = {}  # documents named by their URL, until `derived`
        self.derived = False
        # Memory stays bounded: at most `limit` ids are kept (the backtest passes --sort-run, what the external
        # sort holds). Past it, a repeat of a kept id is still found, but new ids are not kept (`not_kept`), so
        # a later repeat of one of them is replayed again. ~150-250 bytes an id.
        self.limit = limit
        self.not_kept = 0

    def _full(self) -> bool:
        return self.limit is not None and len(self.ids) + len(self.urls) >= self.limit

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
        if self.limit is not None and not self._full() and len(self.ids) + len(self.urls) + len(new) > self.limit:
            # The block that reaches the bound: one at a time, so the ids kept are the first ones read.
            kept = self._filter_each([(table, key) for key in keys], prints, report, fr, where)
            return items if len(kept) == len(items) else self._without(items, set(range(len(items))).difference(kept))
        if len(new) == len(keys) and table.keys().isdisjoint(new):  # no repeat: the usual block
            if self._full():
                self.not_kept += len(new)
                return items
            table.update(new)
            return items
        # Some repeats: look at the lines of those ids only, in order; add the others at once.
        again = table.keys() & new.keys()
        if len(new) != len(keys):
            again.update(k for k, n in Counter(keys).items() if n > 1)
        at = [k for k, key in enumerate(keys) if key in again]
        for key in again:
            del new[key]
        if self._full():
            self.not_kept += len(new)
        else:
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
                if self._full():
                    self.not_kept += 1
                else:
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
