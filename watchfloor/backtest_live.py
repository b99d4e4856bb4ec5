"""Reading files as the live ingest reads them, for a backtest: a document id keeps its first version
(SeenIds: a repeat is already seen, other content a dead letter), and in log order the inputs come in the
order `watchfloor run` appends them (LiveBatches: the ingest's batches, each oldest first)."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, KeysView, Sequence
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any, cast

import msgspec

from watchfloor.producers.jsonl import parse_line, truncate
from watchfloor.producers.publish import DEFAULT_BATCH_SIZE, arrival_order, as_edition, conflict_reason, own_copy
from watchfloor.schemas.events import DEFAULT_MAX_EDITIONS, DeadLetter, Document
from watchfloor.schemas.inputs import CheckedInput, derive_id
from watchfloor.stream_processors.engine.eventtime import DEFAULT_SKEW, effective_time
from watchfloor.stream_processors.external_sort import event_time, input_id
from watchfloor.stream_processors.replay import Logged

if TYPE_CHECKING:
    import numpy as np

    from .backtest import FileReport, ReadReport

__all__ = ["LiveBatches", "SeenIds"]

EDITION_STEP = timedelta(microseconds=1)  # an edition follows the newest entry read before it (SeenIds)

Place = tuple[str | None, int | None, bytes | str]
"""Where an input was read, for its dead letter: its file (None: the file being read), its line, its text."""


class _Keys(msgspec.Struct):
    """What of an input line names its document: the id, else the URL (else a hash of its content)."""

    id: str | int | None = None
    url: str | None = None


_decode_key = msgspec.json.Decoder(_Keys).decode


class SeenIds:
    """The document ids a backtest has read, across its files, each with a fingerprint of its first version: the live
    ingest's log, which keeps the first version of an id. A repeat with the same content is skipped and counted
    (`watchfloor run`: "already seen"); another content under a seen id is a dead letter with the live ingest's reason
    (publish.conflict_reason). A JSON line's fingerprint is a hash of its bytes (without a CRLF file's CR), so an exact
    repeat is one of the same line (one written again with other spacing or key order is a dead letter here where the
    live ingest, comparing documents, skips it: either way the first version alone is replayed). A feed entry's is of
    its type, title and body, and as the live ingest reads feeds, an entry whose text changed under a seen id is its
    edition (publish.as_edition), read unless that edition was read before; one that changed elsewhere only is a repeat.
    An item edited before is compared with its latest version (`latest`), not its first: edited back to its first text,
    it is an edition again. A backtest has no clock to date an edition by, as the live poll does (when it was seen): it
    is dated one microsecond after the newest feed entry read before it (`newest`), so it follows what was read before
    it, as a live edit does. An entry dated in the future (more than the event-time `skew` after `received`, the
    backtest's received time: eventtime.effective_time's rule) dates no edition: live dates an edition at its poll, so
    a typo dated 2099 must not put every later edition in 2099 (trial 52, MED-2/HIGH-1). An item keeps at most
    `max_editions` editions, as its source does live (publish.ingest): a
    later edit is left out and counted (`editions_left_out`), once per text. (Live, an item's left-out text is forgotten
    when a poll does not list the item; here, never: an item that leaves a feed and comes back with the same text is
    counted once, not twice.)

    Cheap on the fast path: the lines of a block are keyed by msgspec (ids and URLs only; a line without
    either is hashed as live), and a block with no repeat is checked and added by dict operations in C. A
    document named by its URL is kept under the URL until an explicit id of the form derived from a URL
    (`doc-…`, a SHA-256) is read: from then on under the derived id, as the log has it.

    Memory stays bounded and the check exact: at most `limit` ids are held in memory (the backtest passes
    --sort-run, what the external sort holds; ~150-250 bytes an id), and a block more. Once they reach it,
    they spill to disk before the next block (_SpilledIds: a run, a file in a temporary directory in
    `spill_dir` or TMPDIR, removed by close()), and a block's ids not in memory are looked up in the runs: a
    Bloom filter of each run in memory (~2 bytes an id spilled) spares the disk nearly every new id, so a
    block costs a few numpy operations a run (items / limit runs: a tiny limit makes many, and slow). URL-named
    documents spill under their URL (runs of their own), re-keyed by the derived id if `derived` comes later.
    `not_kept` stays 0: every id is kept (the field remains for the summary)."""

    def __init__(
        self,
        *,
        holes: bool = False,
        limit: int | None = None,
        spill_dir: str | None = None,
        max_editions: int | None = DEFAULT_MAX_EDITIONS,
        received: datetime | None = None,
        skew: float = DEFAULT_SKEW.total_seconds(),
    ) -> None:
        self.received = received  # when the files are read (the backtest's received time): entries past it + skew
        self.skew = skew  # are dated in the future and date no edition
        self.holes = holes  # leave None where a repeat was (valid inputs keep their places)
        self.ids: dict[str, int] = {}
        self.urls: dict[str, int] = {}  # documents named by their URL, until `derived`
        self.derived = False
        self.limit = limit
        self.spill_dir = spill_dir
        self.spilled: _SpilledIds | None = None  # the ids past the bound, on disk (once it is reached)
        self.not_kept = 0  # always 0 since ids spill to disk (was: ids past the bound, not checked)
        self.newest: datetime | None = None  # the newest date of the feed entries read so far (dates editions)
        self.max_editions = max_editions
        self.editions: dict[str, int] = {}  # item id -> its editions read (items edited only: few)
        self.held: dict[str, str] = {}  # item id -> the edition id last left out past max_editions
        # Item id -> (its latest edition's id, fingerprint): an edited item's text is compared with its latest version,
        # not its first, as the live poll compares it (publish.ingest's `latest`), so one edited back is an edition.
        # Kept for the run, one entry per item edited: live, the poller forgets an item its feed stops listing and
        # asks the log for its last edition if it comes back, which is the entry this map still holds.
        self.latest: dict[str, tuple[str, int]] = {}
        # Feed item id -> the outlet of the feed that listed it first (documents(outlet=)): another outlet's feed
        # listing the same guid reports it under its own copy's id, not as an edition. One entry per feed item read
        # (feed captures are read whole into memory anyway; JSON lines keep none).
        self.outlets: dict[str, frozenset[str]] = {}
        # A feed channel's link or title -> the source the first capture of that feed counted as (backtest's
        # _file_blocks): captures of one feed count as one source, as the one url the live poller reads does.
        self.outlet_feeds: dict[str, str] = {}
        self.outlet_files: dict[str, str] = {}  # a source in outlet_feeds -> the feed file that gave it

    def close(self) -> None:
        """Remove the spilled ids (if any) from disk."""
        if self.spilled is not None:
            self.spilled.close()
            self.spilled = None

    def _kind(self, table: dict[str, int]) -> str:
        return "ids" if table is self.ids else "urls"

    def _recall(self, table: dict[str, int], keys: KeysView[str]) -> tuple[list[str], int]:
        """Past the bound: the keys of a block found spilled, put back in `table` for the block (so the
        checks below see them as any seen id), to be taken out again by _settle; and how many of the keys
        were not in memory (all of them, none spilled: no repeat)."""
        if self.spilled is None or not self.spilled.runs[self._kind(table)]:
            return [], -1
        missing = set(keys).difference(table)  # (a dict: each key looked up, the dict not read)
        found = self.spilled.find(self._kind(table), list(missing))
        table.update(found)
        return list(found), len(missing)

    def _settle(self, recalled: Iterable[tuple[dict[str, int], list[str]]] = ()) -> None:
        """After a block: the recalled keys out of memory again (they are on disk)."""
        for table, keys in recalled:
            for key in keys:
                del table[key]

    def _make_room(self) -> None:
        """Before a block: the ids in memory spilled if they reached the bound (not after the block that
        reaches it: the last one read would be spilled for nothing). So a block past the bound is held too."""
        if self.limit is not None and len(self.ids) + len(self.urls) >= self.limit:
            if self.spilled is None:
                self.spilled = _SpilledIds(self.spill_dir)
            for kind, table in (("ids", self.ids), ("urls", self.urls)):
                if table:
                    self.spilled.write(kind, table)
                    table.clear()

    def _derive_all(self) -> None:
        self.derived = True
        self.ids.update((self._url_id(u), fp) for u, fp in self.urls.items())
        self.urls = {}
        if self.spilled is not None:
            self.spilled.derive(self._url_id)

    @staticmethod
    def _url_id(url: str) -> str:
        return derive_id({"url": url}, "", "", "")

    def jsonl_block(
        self, items: list[Any], dead: int, lines: list[bytes], base: int, report: ReadReport, fr: FileReport
    ) -> list[Any]:
        """A block's items (dead letters included, as read_blocks gives them, with the block's raw lines)
        -> its valid items without the repeats of a seen id (which are counted or dead-lettered)."""
        self._make_room()
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

        def where(k: int) -> Place:
            return None, base + at[k] + 1, valid_lines[k]

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
        recalled = []
        if self.spilled is not None:
            for table in (self.ids, self.urls):
                recalled.append((table, self._recall(table, {key: 0 for t, key in keyed if t is table}.keys())[0]))
        kept = self._filter_each(keyed, prints, report, fr, where)
        self._settle(recalled)
        return self._without(valid, set(range(len(valid))).difference(kept))

    def _line_key(self, line: bytes, rec: _Keys | None) -> tuple[dict[str, int], str]:
        if rec is not None and rec.id is not None:
            return self.ids, str(rec.id).strip()
        if rec is not None and rec.url:
            return (self.ids, self._url_id(rec.url)) if self.derived else (self.urls, rec.url)
        got = parse_line(line, origin="", line=0, checked=True)  # named by a hash of its content
        return self.ids, (got.build().id if isinstance(got, CheckedInput) else "")

    def documents(
        self,
        docs: list[Document],
        report: ReadReport,
        fr: FileReport,
        *,
        editions: bool = True,
        outlet: frozenset[str] | None = None,
        own: str | None = None,
        places: Sequence[tuple[str, int]] | None = None,
    ) -> list[Any]:
        """A feed's documents without the repeats of an id seen before (in this feed or another file). With
        `editions` (feeds), a changed text under a seen id is its edition; without (GDELT's rows, which the live
        poller ingests as a file's: docs/gdelt.md), it is a dead letter and the first version stands, and a
        repeat with another date is one too, as the live store compares the whole payload. `outlet` (the names
        that tell this feed from another outlet's: two feeds sharing one are one outlet; None: unknown) and `own`
        (its identity, as own_copy_id takes it): an item another outlet's feed listed first is this feed's own copy
        (publish.own_copy), as live. `places` (GDELT's rows): each document's file (`archive.zip:member`) and line,
        which its dead letter names, as live (trial 59, MED-1: it named the folder only)."""
        if not docs:
            return docs
        if outlet is not None and own is not None:
            docs = self._own_copies(docs, outlet, own)
        self._make_room()
        keys = [d.id for d in docs]
        if not self.derived and any(map(_derived_form, keys)):
            self._derive_all()
        dates = [d.published_at for d in docs]
        if self.received is not None:  # an entry dated in the future (as event time calls it) dates no edition
            rx = self.received.timestamp()
            dates = [t for t in dates if not effective_time(t.timestamp(), rx, self.skew)[1]]
        if dates:
            newest = max(dates)
            self.newest = newest if self.newest is None else max(self.newest, newest)
        if editions:
            prints = [hash((d.type, d.title, d.body)) for d in docs]
        else:
            prints = [hash((d.type, d.title, d.body, d.published_at)) for d in docs]

        def where(k: int) -> Place:
            return (*places[k], docs[k].title) if places is not None else (None, None, docs[k].title)

        # Without editions (GDELT's rows), another content under a seen id is an event GDELT listed again.
        return self._filter(docs, keys, prints, self.ids, report, fr, where, editions=editions, relisted=not editions)

    def _own_copies(self, docs: list[Document], outlet: frozenset[str], own: str) -> list[Document]:
        """`docs` with each item whose id another outlet's feed listed first under this feed's own copy's id: a
        document of its own that corroborates, never an edition of the other's (live: publish.ingest's
        `own`). The first outlet to list an id keeps the plain id, as the log keeps its first document's."""
        first = self.outlets
        renamed: list[Document] | None = None
        for k, d in enumerate(docs):
            was = first.setdefault(d.id, outlet)
            if was is not outlet and was.isdisjoint(outlet):  # no name in common: another outlet
                if renamed is None:
                    renamed = list(docs)
                renamed[k] = own_copy(d, own)
        return docs if renamed is None else renamed

    def _filter(
        self,
        items: list[Any],
        keys: list[str],
        prints: list[int],
        table: dict[str, int],
        report: ReadReport,
        fr: FileReport,
        where: Callable[[int], Place],
        *,
        editions: bool = False,
        relisted: bool = False,
    ) -> list[Any]:
        new = dict(zip(keys, prints, strict=True))
        recalled, missing = self._recall(table, new.keys()) if self.spilled is not None else ([], -1)
        if len(new) == len(keys) and (  # no repeat: the usual block (past the bound, _recall looked them up)
            missing == len(new) and not recalled if missing >= 0 else table.keys().isdisjoint(new)
        ):
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
        editioned: dict[int, Any] = {}

        def edition(j: int) -> bool | None:
            return self._edition(table, items[at[j]], prints[at[j]], recalled, editioned, at[j], report, fr)

        kept = self._filter_each(
            [(table, keys[k]) for k in at],
            [prints[k] for k in at],
            report,
            fr,
            lambda j: where(at[j]),
            edition if editions else None,
            relisted,
        )
        self._settle([(table, recalled)])
        if editioned:
            items = [editioned.get(k, x) for k, x in enumerate(items)]
        if len(kept) == len(at):
            return items
        return self._without(items, set(at).difference(at[j] for j in kept))

    def _edition(
        self,
        table: dict[str, int],
        doc: Document,
        fp: int,
        recalled: list[str],
        out: dict[int, Any],
        k: int,
        report: ReadReport,
        fr: FileReport,
    ) -> bool | None:
        """A feed document whose text changed under a seen id: its edition, kept at `k` (in `out`: True) unless that
        edition was read before (a repeat: False), or its item has its max_editions (left out, None; a repeat if
        the text is the one left out last)."""
        # Every entry read so far dated in the future: the edition is dated when the files are read (live: its poll).
        base = self.newest if self.newest is not None else self.received
        assert base is not None  # documents() set newest before, or every date was past `received`
        now = self.latest.get(doc.id)
        ed = as_edition(doc, base + EDITION_STEP, now[0] if now is not None else None)
        if self.spilled is not None and ed.id not in table:
            got, _missing = self._recall(table, {ed.id: fp}.keys())
            recalled.extend(got)
        if ed.id in table:
            self.latest[doc.id] = (ed.id, fp)
            return False
        made = self.editions.get(doc.id, 0)
        if self.max_editions is not None and made >= self.max_editions:
            if self.held.get(doc.id) == ed.id:
                return False
            self.held[doc.id] = ed.id
            report.editions_left_out += 1
            fr.editions_left_out += 1
            return None
        self.editions[doc.id] = made + 1
        self.latest[doc.id] = (ed.id, fp)
        table[ed.id] = fp
        out[k] = ed
        self.newest = ed.published_at if self.newest is None else max(self.newest, ed.published_at)
        return True

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
        where: Callable[[int], Place],
        edition: Callable[[int], bool | None] | None = None,
        relisted: bool = False,
    ) -> list[int]:
        """The positions kept: the first of each id; a repeat is counted, another content dead-lettered (with
        `edition`, a feed's: read as its edition if that is new, else a repeat; or left out past max_editions, which
        `edition` counts). `where(k)`: the k-th one's file (None: the file read), line and text; `relisted`: GDELT's
        rows (the dead letter says GDELT listed the event again)."""
        kept: list[int] = []
        for k, ((table, key), fp) in enumerate(zip(keyed, prints, strict=True)):
            held = table.get(key)
            if edition is not None and key in self.latest:  # an item edited before: as it reads now
                held = self.latest[key][1]
            if held is None:
                table[key] = fp
                kept.append(k)
            elif held == fp:
                report.already_seen += 1
                fr.already_seen += 1
            elif edition is not None:
                got = edition(k)
                if got:
                    kept.append(k)
                elif got is False:
                    report.already_seen += 1
                    fr.already_seen += 1
            else:
                origin, line, raw = where(k)
                doc_id = key if table is self.ids else self._url_id(key)
                text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
                letter = DeadLetter(
                    origin=origin or fr.path,
                    line=line,
                    field="id",
                    reason=conflict_reason(doc_id, relisted=relisted),
                    raw=truncate(text),
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


_PROBES = 5  # a Bloom filter's bits per key; with 10-20 bits a key, 1% to 0.1% false positives
_FENCE = 128  # every _FENCE-th hash of a run held in memory: a lookup reads one stretch of the run's hashes


class _Run:
    """One spill: n keys with their fingerprints in a file. The keys' hashes (hash()) sorted (8n bytes) and
    where each is in the records (8n), then the records in the order read: fingerprints (8n), the offsets of
    the keys' UTF-8 (8(n+1)) and the keys. In memory: a Bloom filter of the hashes and every _FENCE-th one."""

    def __init__(self, path: str, table: dict[str, int]) -> None:
        import numpy as np

        self.path = path
        n = self.n = len(table)
        hashes = np.fromiter(map(hash, table), dtype=np.int64, count=n)  # str caches its hash: cheap
        bits = 1 << max(6, (10 * n - 1).bit_length())  # >= 10 bits a key
        self.mask = np.uint64(bits - 1)
        self.bloom = np.zeros(bits >> 3, dtype=np.uint8)
        step = 1 << 16
        for lo in range(0, n, step):  # (a chunk at a time: the probes of all keys at once are 40 bytes a key)
            at = _probes(hashes[lo : lo + step], self.mask).ravel()
            np.bitwise_or.at(
                self.bloom, at >> np.uint64(3), np.left_shift(np.uint8(1), (at & np.uint64(7)).astype(np.uint8))
            )
        with open(path, "wb") as f:  # (arrays written as they are, one at a time: few copies at once)
            order = np.argsort(hashes)
            hashes = hashes[order]
            hashes.tofile(f)
            self.fences = hashes[::_FENCE].copy()
            del hashes
            order.astype(np.int64, copy=False).tofile(f)
            del order
            np.fromiter(table.values(), dtype=np.int64, count=n).tofile(f)
            offsets = np.zeros(n + 1, dtype=np.int64)
            f.seek(32 * n + 8)
            keys = iter(table)
            for lo in range(0, n, step):
                chunk = list(islice(keys, step))
                text = "".join(chunk)
                if text.isascii():  # the usual case: a character a byte
                    lengths = map(len, chunk)
                    data = text.encode("ascii")
                else:
                    encoded = [k.encode("utf-8", "surrogatepass") for k in chunk]
                    lengths, data = map(len, encoded), b"".join(encoded)
                offsets[lo + 1 : lo + 1 + len(chunk)] = np.fromiter(lengths, dtype=np.int64, count=len(chunk))
                f.write(data)
            np.cumsum(offsets, out=offsets)
            f.seek(24 * n)
            offsets.tofile(f)

    def maybe(self, at: np.ndarray) -> np.ndarray:
        """Which of the keys (their _probes) may be in the run (a Bloom filter: no false negatives)."""
        import numpy as np

        bit = (self.bloom[at >> np.uint64(3)] >> (at & np.uint64(7)).astype(np.uint8)) & np.uint8(1)
        return cast("np.ndarray", bit.all(axis=0))

    def get(self, fd: int, key: str, h: int) -> int | None:
        """The fingerprint of `key` (of hash h) if the run holds it."""
        import numpy as np

        left = int(np.searchsorted(self.fences, h, side="left"))
        right = int(np.searchsorted(self.fences, h, side="right"))
        lo, hi = max(left - 1, 0) * _FENCE, min(right * _FENCE, self.n)
        if lo >= hi:
            return None
        stretch = np.frombuffer(os.pread(fd, 8 * (hi - lo), 8 * lo), dtype=np.int64)
        n = self.n
        for j in np.flatnonzero(stretch == h).tolist():  # more than one only for keys of the same hash
            (i,) = np.frombuffer(os.pread(fd, 8, 8 * n + 8 * (lo + j)), dtype=np.int64).tolist()
            start, end = np.frombuffer(os.pread(fd, 16, 24 * n + 8 * i), dtype=np.int64).tolist()
            if os.pread(fd, end - start, 32 * n + 8 + start).decode("utf-8", "surrogatepass") == key:
                return int.from_bytes(os.pread(fd, 8, 16 * n + 8 * i), "little", signed=True)
        return None

    def items(self) -> Iterator[tuple[str, int]]:
        """All the run's keys with their fingerprints (in the order read)."""
        import numpy as np

        n = self.n
        with open(self.path, "rb") as f:
            data = f.read()
        prints = np.frombuffer(data, dtype=np.int64, count=n, offset=16 * n).tolist()
        offsets = np.frombuffer(data, dtype=np.int64, count=n + 1, offset=24 * n).tolist()
        base = 32 * n + 8
        for i in range(n):
            yield data[base + offsets[i] : base + offsets[i + 1]].decode("utf-8", "surrogatepass"), prints[i]


def _probes(hashes: np.ndarray, mask: np.uint64) -> np.ndarray:
    """The Bloom filter's bit positions of each hash (_PROBES rows): double hashing of Python's hash()."""
    import numpy as np

    u = hashes.view(np.uint64)
    step = ((u * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) | np.uint64(1)
    return (u + np.arange(_PROBES, dtype=np.uint64)[:, None] * step) & mask


class _SpilledIds:
    """The ids SeenIds spilled to disk, each kind (`ids`, `urls`) a list of runs, in a temporary directory
    removed by close() (or when collected). Fingerprints and run order rest on Python's hash(), stable
    within the process: all that is needed, the runs living only as long as the backtest."""

    def __init__(self, directory: str | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="wf-seen-ids-", dir=directory)
        self.runs: dict[str, list[_Run]] = {"ids": [], "urls": []}
        self.written = 0
        self._remove = weakref.finalize(self, shutil.rmtree, self.dir, ignore_errors=True)

    def close(self) -> None:
        self._remove()

    def write(self, kind: str, table: dict[str, int]) -> None:
        """A run of the table's ids (and fingerprints)."""
        self.written += 1
        self.runs[kind].append(_Run(os.path.join(self.dir, f"run-{self.written}"), table))

    def find(self, kind: str, keys: list[str]) -> dict[str, int]:
        """Those of the keys spilled, with their fingerprints."""
        runs = self.runs[kind]
        if not runs or not keys:
            return {}
        import numpy as np

        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys))
        found: dict[str, int] = {}
        probes: dict[int, np.ndarray] = {}  # runs of one size have filters of one size: the same probes
        for run in runs:
            at = probes.get(int(run.mask))
            if at is None:
                at = probes[int(run.mask)] = _probes(hashes, run.mask)
            maybe = np.flatnonzero(run.maybe(at)).tolist()
            if not maybe:
                continue
            fd = os.open(run.path, os.O_RDONLY)
            try:
                for i in maybe:
                    key = keys[i]
                    if key not in found:
                        fp = run.get(fd, key, int(hashes[i]))
                        if fp is not None:
                            found[key] = fp
            finally:
                os.close(fd)
        return found

    def derive(self, url_id: Callable[[str], str]) -> None:
        """The documents spilled under their URL, from now on under the id derived from it (as in memory)."""
        for run in self.runs["urls"]:
            self.write("ids", {url_id(url): fp for url, fp in run.items()})
            os.unlink(run.path)
        self.runs["urls"] = []


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
