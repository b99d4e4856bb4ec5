"""JSON Lines producer: one input object per line (the input contract of schemas/inputs.py).

Every non-blank line yields either an accepted `Document` or a `DeadLetter` saying which line, which
field and why. A bad line never stops the file: the lines around it are still read. The file is read
as bytes and each line is decoded on its own, so one line of Latin-1 costs that line only.
Files ending in `.gz` (or starting with the gzip magic bytes) are decompressed transparently.

Speed (a backtest reads millions of lines): the file is read in blocks, each line is first decoded by
the msgspec fast path of schemas.inputs (check_json_line), and a rule set's LineGate can scan a whole
block at once, so that the lines it cannot match are marked and never looked at as text again.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate, repeat
from pathlib import Path
from typing import IO, Any, Literal, cast, overload

import orjson

from watchfloor.schemas.events import DeadLetter, Document
from watchfloor.schemas.inputs import (
    DEFAULT_MAX_BODY_CHARS,
    CheckedInput,
    EventTime,
    InputError,
    LineGate,
    check_document,
    check_json_line,
    max_record_bytes,
)

log = logging.getLogger(__name__)

GROWING_S = 60.0
"""A file changed within this many seconds may have a last line still being written (read_jsonl_numbered)."""

RAW_LIMIT = 500
"""How much of an offending line a dead letter keeps."""

BLOCK_BYTES = 1 << 22
"""How much is read at a time (whole lines are cut from it)."""

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


Item = Document | CheckedInput | EventTime | DeadLetter
"""What reading a line gives (blank lines give nothing)."""


class JsonlSourceError(OSError):
    """The JSON Lines file itself cannot be read (missing, a directory, unreadable)."""


def truncate(text: str, limit: int = RAW_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _open(path: Path) -> IO[bytes]:
    if not path.exists():
        raise JsonlSourceError(f"JSON Lines file not found: {path}")
    if not path.is_file():
        raise JsonlSourceError(f"JSON Lines source is not a file: {path}")
    try:
        f: IO[bytes] = open(path, "rb")
    except OSError as e:
        raise JsonlSourceError(f"cannot read JSON Lines file {path}: {e.strerror or e}") from e
    try:
        gzipped = path.suffix == ".gz" or f.read(2) == _GZIP_MAGIC
        f.seek(0)
    except OSError as e:
        f.close()
        raise JsonlSourceError(f"cannot read JSON Lines file {path}: {e.strerror or e}") from e
    # A GzipFile given a fileobj does not close it; _read closes both.
    return cast(IO[bytes], gzip.GzipFile(fileobj=f, mode="rb")) if gzipped else f


def _open_polled(path: Path, growing: bool) -> tuple[IO[bytes], bool]:
    """_open, for a reader of a file writers may be appending to (`growing`): with whether its last line may still be
    being written (the file changed within GROWING_S seconds; read_jsonl_numbered, read_jsonl_slice)."""
    f = _open(path)
    if growing:
        try:
            growing = time.time() - os.stat(path).st_mtime < GROWING_S
        except OSError:
            growing = False
    return f, growing


def _close(f: IO[bytes]) -> None:
    """Close `f` and, under a GzipFile, the raw file it reads (a GzipFile given a fileobj does not close it)."""
    inner = getattr(f, "fileobj", None)
    f.close()
    if inner is not None:
        inner.close()


def _whole_lines(block: bytes, base: int, origin: str, growing: bool) -> tuple[list[bytes], bool]:
    """A block's lines (without their newlines) and whether the last one ended with its newline. With `growing` (a
    plain file changed within GROWING_S), a last line without its newline that is not whole JSON is being written:
    left out, for the next poll (and the block counted as whole)."""
    lines = block.split(b"\n")
    if block.endswith(b"\n"):
        lines.pop()  # the empty piece after the last newline
        return lines, True
    if growing and lines and _being_written(lines[-1]):
        log.info(
            "%s: line %d has no newline yet and is not whole JSON: read at the next poll", origin, base + len(lines)
        )
        lines.pop()
        return lines, True
    return lines, False


def parse_line(
    raw: bytes, *, origin: str, line: int, max_body_chars: int = DEFAULT_MAX_BODY_CHARS, checked: bool = False
) -> Document | CheckedInput | DeadLetter | None:
    """One line of bytes (without its newline) -> a Document (or, with `checked`, a CheckedInput not yet
    built), a DeadLetter, or None for a blank line."""
    fast = check_json_line(raw, max_body_chars)
    if fast is not None:
        return fast if checked else fast.build()
    limit = max_record_bytes(max_body_chars)
    if len(raw) > limit:  # never parsed: a hostile line must not cost its size again in memory
        return DeadLetter(
            origin=origin,
            line=line,
            reason=f"line is {len(raw)} bytes, over the limit of {limit} for one record",
            raw=truncate(raw[: RAW_LIMIT * 4].decode("utf-8", errors="replace")),
        )
    if raw.endswith(b"\r"):  # the fast path takes it as JSON whitespace; a dead letter should not keep it
        raw = raw[:-1]
    try:
        obj = orjson.loads(raw)  # orjson validates UTF-8 itself; decode only to explain a failure
    except orjson.JSONDecodeError as e:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as ue:
            bad = raw[ue.start : ue.start + 1]
            return DeadLetter(
                origin=origin,
                line=line,
                reason=f"line is not valid UTF-8 at byte {ue.start} (0x{bad.hex()}, counting from 0); save it as UTF-8",
                raw=truncate(raw.decode("utf-8", errors="replace")),
            )
        if not text.strip():
            return None
        return DeadLetter(
            origin=origin,
            line=line,
            reason=f"malformed JSON: {e.msg} at column {e.colno} (char {e.pos})",
            raw=truncate(text),
        )
    try:
        item = check_document(obj, max_body_chars=max_body_chars)
        return item if checked else item.build()
    except InputError as e:
        reason = f"field '{e.field}': {e.message}" if e.field else e.message
        return DeadLetter(
            origin=origin, line=line, field=e.field, reason=reason, raw=truncate(raw.decode("utf-8", errors="replace"))
        )


@overload
def read_jsonl(
    path: str | Path,
    *,
    max_body_chars: int = ...,
    checked: Literal[False] = ...,
    gate: None = ...,
    block_bytes: int = ...,
) -> Iterator[Document | DeadLetter]: ...


@overload
def read_jsonl(
    path: str | Path, *, max_body_chars: int = ..., checked: Literal[True], gate: None = ..., block_bytes: int = ...
) -> Iterator[CheckedInput | DeadLetter]: ...


@overload
def read_jsonl(
    path: str | Path, *, max_body_chars: int = ..., checked: Literal[True], gate: LineGate, block_bytes: int = ...
) -> Iterator[CheckedInput | EventTime | DeadLetter]: ...


def read_jsonl(
    path: str | Path,
    *,
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    checked: bool = False,
    gate: LineGate | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[Document | CheckedInput | EventTime | DeadLetter]:
    """Documents and dead letters of a JSON Lines file, in line order; blank lines are skipped.

    With `checked`, accepted lines come as CheckedInputs (not yet built); with a `gate` too, accepted
    lines in whose raw bytes the gate found nothing come as their event time only (EventTime): the
    gate's rules cannot match them. Every line is checked against the contract either way.

    Raises JsonlSourceError (naming the path) right away when the file cannot be opened, and while
    iterating if it cannot be read to the end (e.g. a truncated .gz); lines already yielded stand.
    """
    blocks = read_jsonl_blocks(  # opens eagerly: a missing file fails at the call, not at the first next()
        path, max_body_chars=max_body_chars, checked=checked, gate=gate, block_bytes=block_bytes
    )
    return (item for items, _dead in blocks for item in items)


def read_jsonl_numbered(
    path: str | Path, *, max_body_chars: int = DEFAULT_MAX_BODY_CHARS, growing: bool = False
) -> Iterator[tuple[int, Document | DeadLetter]]:
    """read_jsonl with each item's line number, for writers that must name the line of a record the
    store refuses. Raises JsonlSourceError as read_jsonl does (lines already yielded stand).

    `growing` (the live poller's files, which writers append to): a last line without its newline that is
    not yet whole JSON, in a file changed within the last GROWING_S seconds, is being written; it is left for
    the next poll instead of dead-lettered. In a file left alone longer it is a record cut short (a writer
    that died mid-line): dead-lettered, as a backtest of the file has it."""
    p = Path(path)
    f, growing = _open_polled(p, growing)
    blocks = read_blocks(f, p, origin=str(path), max_body_chars=max_body_chars, numbered=True, growing=growing)
    return (cast(tuple[int, Document | DeadLetter], pair) for pairs, _dead in blocks for pair in pairs)


def read_jsonl_blocks(
    path: str | Path,
    *,
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    checked: bool = False,
    gate: LineGate | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[tuple[list[Item], int]]:
    """read_jsonl for bulk readers: the same items, a block at a time, each block with its count of
    dead letters. Opening fails at the call, as for read_jsonl."""
    p = Path(path)
    f = _open(p)
    return read_blocks(
        f, p, origin=str(path), max_body_chars=max_body_chars, checked=checked, gate=gate, block_bytes=block_bytes
    )


def _blocks(
    f: IO[bytes],
    size: int = BLOCK_BYTES,
    line_limit: int | None = None,
    *,
    start: bytes = b"",
    unread: list[bytes] | None = None,
) -> Iterator[bytes | int]:
    """The file as blocks of whole lines (the last may lack its newline). If reading fails midway (a
    truncated .gz), the whole lines read so far still come out before the error: read1 hands over
    what it decompressed call by call, where one big read() would drop it all with the error.

    A line that grows past `line_limit` bytes without a newline is not kept: it is read through to its
    end and given as an int (its length), so a 300 MB line (a gzip bomb, say) costs no more memory
    than a block.

    `start`: bytes that come before what `f` has left (read from it by an earlier slice: OpenDecompressors).
    `unread`, when given, holds at each block given out the bytes read from `f` after it, not given out yet, so a
    reader that stops there can keep `f` open at that point."""
    read = getattr(f, "read1", None) or f.read
    parts: list[bytes] = []
    got = 0
    skipped = 0  # > 0: inside an over-long line, this many of its bytes dropped so far
    if unread is None:
        unread = [b""]
    # The whole lines `start` holds come first, before anything is read: else each slice would read a block more
    # than it takes, and what is carried from slice to slice would grow by a block each time.
    cut = start.rfind(b"\n")
    rest = start[cut + 1 :]
    if cut >= 0:
        unread[:] = [rest]
        yield start[: cut + 1]
    try:
        while True:
            chunk = read(size)
            if not chunk:
                break
            if skipped:
                nl = chunk.find(b"\n")
                if nl < 0:
                    skipped += len(chunk)
                    continue
                unread[:] = [chunk[nl + 1 :]]
                yield skipped + nl
                skipped = 0
                chunk = chunk[nl + 1 :]
                if not chunk:
                    continue
            parts.append(chunk)
            got += len(chunk)
            if got < size:
                continue
            buf = rest + b"".join(parts)
            parts, got = [], 0
            cut = buf.rfind(b"\n")
            if cut < 0:
                if line_limit is not None and len(buf) > line_limit:
                    skipped, rest = len(buf), b""
                else:
                    rest = buf
                continue
            rest = buf[cut + 1 :]
            unread[:] = [rest]
            yield buf[: cut + 1]
    except (OSError, EOFError):
        buf = rest + b"".join(parts)
        cut = buf.rfind(b"\n")
        if cut >= 0:
            yield buf[: cut + 1]
        raise
    unread[:] = [b""]
    if skipped:
        yield skipped + sum(map(len, parts))
        return
    buf = rest + b"".join(parts)
    if buf:
        yield buf


def read_blocks(
    f: IO[bytes],
    path: Path,
    *,
    origin: str,
    max_body_chars: int,
    checked: bool = False,
    gate: LineGate | None = None,
    block_bytes: int = BLOCK_BYTES,
    numbered: bool = False,
    on_lines: Callable[[list[bytes], int], None] | None = None,
    growing: bool = False,
) -> Iterator[tuple[list[Item], int]]:
    """read_jsonl a block at a time: each block's items in line order, and how many are dead letters
    (a bulk reader can take a block without one as it is). With `numbered`, each item comes as
    (line number, item) instead (read_jsonl_numbered). `on_lines(lines, base)` is told each block's raw
    lines (blank ones too) before its items come out, `base` the number of lines before them (a backtest
    keys them by document id, which an event time no longer carries). Closes `f`."""
    inner = getattr(f, "fileobj", None)  # the raw file under a GzipFile
    gate = gate if checked else None
    base = 0  # lines before this block
    first = True
    limit = max_record_bytes(max_body_chars)
    try:
        for block in _blocks(f, block_bytes, limit):
            if isinstance(block, int):  # one over-long line, skipped unread
                first = False
                base += 1
                reason = f"line is over {limit} bytes (at least {block}), the limit for one record; skipped unread"
                skipped = DeadLetter(origin=origin, line=base, reason=reason)
                one: list[Any] = [(base, skipped) if numbered else skipped]
                yield one, 1
                continue
            if first:
                first = False
                if block.startswith(_BOM):
                    block = block[len(_BOM) :]
            lines, whole = _whole_lines(block, base, origin, growing and inner is None)
            if whole and not block.endswith(b"\n"):  # an unfinished last line left for the next poll
                block = block[: len(block) - len(block.rsplit(b"\n", 1)[-1])]
                if not lines:
                    continue
            # A trailing "\r" (CRLF files) is left on: it is JSON whitespace to both decoders.
            if on_lines is not None:
                on_lines(lines, base)
            yield _block_items(block, lines, base, origin, max_body_chars, checked, gate, numbered)
            base += len(lines)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError; a truncated .gz raises EOFError
        raise JsonlSourceError(f"cannot read JSON Lines file {path}: {e}") from e
    finally:
        _close(f)


def _being_written(line: bytes) -> bool:
    """Whether a last line without its newline looks unfinished: not blank, and not whole JSON."""
    if not line.strip():
        return False
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return True
    return False


def _plus_newline(total: int, length: int) -> int:
    return total + length + 1


def _block_items(
    block: bytes,
    lines: list[bytes],
    base: int,
    origin: str,
    max_body_chars: int,
    checked: bool,
    gate: LineGate | None,
    numbered: bool = False,
) -> tuple[list[Any], int]:
    # Every line through the fast check at C speed (map, no Python loop); then only the lines it
    # declined (blank, bad, unusual) and the gate's hits are looked at one by one.
    n = len(lines)
    if gate is not None:
        check: Any = check_json_line  # the time_only overload, which map's typing cannot pick
        items: list[Any] = list(map(check, lines, repeat(max_body_chars, n), repeat(True, n)))
        hits = gate.hits(block)
        if hits:
            # starts[i]: where line i + 1 starts, so a hit at `off` is in line bisect_right(starts, off).
            starts = list(accumulate(map(len, lines), _plus_newline))
            hit_set = {bisect_right(starts, off) for off in hits}
        else:
            hit_set = set()
        redo = hit_set.union(i for i, t in enumerate(items) if t is None) if None in items else hit_set
    else:
        items = list(map(check_json_line, lines, repeat(max_body_chars, n)))
        hit_set = set(range(n))
        redo = {i for i, t in enumerate(items) if t is None} if None in items else set()
        if not checked:
            items = [None if x is None else x.build() for x in items]
    dead = 0
    blanks = 0
    for i in sorted(redo):
        got: Item | None = parse_line(
            lines[i], origin=origin, line=base + i + 1, max_body_chars=max_body_chars, checked=checked
        )
        if got is None:
            blanks += 1
        elif isinstance(got, DeadLetter):
            dead += 1
        elif i not in hit_set and isinstance(got, CheckedInput):
            got = got.ts  # accepted by the full check, ruled out by the gate
        items[i] = got
    if numbered:
        return [(base + i + 1, x) for i, x in enumerate(items) if x is not None], dead
    if blanks:
        items = [x for x in items if x is not None]
    return items, dead


TAIL_BYTES = 64
# Dead-lettered lines a position watches for a fix made in place (JsonlPosition.dead): the newest ones. A fix in a file
# that also grew since is told from an append only by the line's own bytes (outside trial 20, M4).
WATCHED_DEAD_LINES = 32
"""How many bytes before a saved offset are kept (as a hash) to tell a file appended to from one rewritten."""


def tail_print(data: bytes) -> str:
    """The print of the bytes just before a saved offset (JsonlPosition.tail)."""
    return hashlib.blake2b(data, digest_size=12).hexdigest()


@dataclass(frozen=True)
class JsonlPosition:
    """Where a live poll of a JSON Lines file stopped: `offset` bytes (of the decompressed stream) of whole lines
    read, `line` lines before it, and the print of the TAIL_BYTES before it, which must still be there for the
    next poll to start at `offset` (else the file was rewritten or truncated and is read from its start). `size` and
    `mtime_ns`: the file's when it was read (-1: not known, a position saved before they were kept): a file of the
    same size since, modified since, was edited in place (a line fixed to the same length: the bytes before the
    offset may be those read) and is read from its start too. `dead`: (offset, length, print) of the newest
    WATCHED_DEAD_LINES lines of a plain file that were dead-lettered (not the over-long ones, skipped unread): one
    whose bytes are no longer those makes the next poll read the file from its start, so a bad line fixed in place
    is read even when the file has grown since (a fix is not told from an append otherwise)."""

    offset: int = 0
    line: int = 0
    tail: str = ""
    size: int = -1
    mtime_ns: int = 0
    dead: tuple[tuple[int, int, str], ...] = ()

    def as_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "offset": self.offset,
            "line": self.line,
            "tail": self.tail,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
        }
        if self.dead:  # (only then: a position without dead lines is saved as before)
            state["dead"] = [list(d) for d in self.dead]
        return state

    @classmethod
    def from_state(cls, state: Any) -> JsonlPosition:
        if not isinstance(state, dict):
            return cls()
        try:
            return cls(
                int(state.get("offset", 0)),
                int(state.get("line", 0)),
                str(state.get("tail", "")),
                int(state.get("size", -1)),
                int(state.get("mtime_ns", 0)),
                tuple((int(o), int(n), str(h)) for o, n, h in state.get("dead") or ()),
            )
        except (TypeError, ValueError):
            return cls()

    def edited(self, st: os.stat_result | None) -> bool:
        """Whether the file, as `st` has it now, was changed in place since this position was read: same size, other
        modification time. (An edit in a file that has also grown since is not told from an append.)"""
        return st is not None and self.size >= 0 and st.st_size == self.size and st.st_mtime_ns != self.mtime_ns

    def dead_line_fixed(self, f: IO[bytes]) -> bool:
        """Whether a dead-lettered line this position watches (`dead`) is no longer the bytes that were refused, in
        the plain file `f` (a seekable one; its position is left anywhere): a line fixed in place, or the bytes
        before it changed."""
        for offset, length, print_ in self.dead:
            f.seek(offset)
            if tail_print(f.read(length)) != print_:
                return True
        return False


@dataclass
class JsonlSlice:
    """What one bounded read of a JSON Lines file gave (read_jsonl_slice)."""

    items: list[tuple[int, Document | DeadLetter]]
    start: JsonlPosition  # where it began (the saved position, or the start when the file was rewritten)
    end: JsonlPosition  # where the next read starts
    more: bool  # stopped at `max_lines`: there is more to read now
    rewound: bool = False  # the saved position no longer fits the file: read from its start
    error: JsonlSourceError | None = None  # the file could not be read to the end (a truncated .gz)


def _bytes_before(f: IO[bytes], offset: int) -> bytes | None:
    """The TAIL_BYTES before `offset` (fewer near the start), or None when the file is shorter than `offset`."""
    start = max(0, offset - TAIL_BYTES)
    f.seek(start)
    data = f.read(offset - start)
    return data if len(data) == offset - start else None


@dataclass
class _Held:
    """A decompressor left open by a slice that stopped at `at` (OpenDecompressors)."""

    f: IO[bytes]  # the GzipFile, read up to `at.offset` + len(pending)
    raw: IO[bytes]  # the file it reads
    at: JsonlPosition
    pending: bytes  # decompressed bytes after `at.offset`, read from `f` and not used yet
    before: bytes  # the TAIL_BYTES before `at.offset`
    identity: tuple[int, int]  # the raw file's (st_dev, st_ino)
    raw_at: int  # how far into the raw file `f` has read
    raw_tail: bytes  # the raw bytes just before `raw_at`


class OpenDecompressors:
    """The decompressors of a long-running poller's .gz sources, kept open between polls: a slice goes on where the
    last stopped, where opening the file again would decompress it from its start up to the saved offset (a gzip
    stream cannot be entered in the middle) at every poll; a backlog read a slice per poll cost the square of its
    length. Kept only while the file is the one read (same device and inode, at least as long, the compressed bytes
    before where it stopped the same) and the slice starts at the position it stopped at; else the slice opens the
    file as usual. A process's first poll after a start still decompresses up to the saved offset, once. Plain files
    are not kept: they seek."""

    def __init__(self) -> None:
        self._held: dict[Path, _Held] = {}

    def take(self, path: Path, since: JsonlPosition) -> _Held | None:
        held = self._held.pop(path, None)
        if held is None:
            return None
        try:
            st = os.stat(path)
            fits = (
                held.at == since
                and not since.edited(st)
                and held.before.endswith(b"\n")  # (else the newline written since ends its last line: opened anew)
                and (st.st_dev, st.st_ino) == held.identity
                and st.st_size >= held.raw_at
                and os.pread(held.raw.fileno(), len(held.raw_tail), held.raw_at - len(held.raw_tail)) == held.raw_tail
            )
        except OSError:
            fits = False
        if fits:
            return held
        _close(held.f)
        return None

    def keep(self, path: Path, f: IO[bytes], at: JsonlPosition, pending: bytes, before: bytes) -> bool:
        """Keep `f` (a GzipFile) for the slice that starts at `at`; False (nothing kept) for a plain file."""
        inner = getattr(f, "fileobj", None)
        if inner is None:
            return False
        try:
            st = os.fstat(inner.fileno())
            raw_at = inner.tell()
            raw_tail = os.pread(inner.fileno(), min(raw_at, TAIL_BYTES), max(0, raw_at - TAIL_BYTES))
        except OSError:
            return False
        self._held[path] = _Held(f, inner, at, pending, before, (st.st_dev, st.st_ino), raw_at, raw_tail)
        return True

    def close(self) -> None:
        for held in self._held.values():
            _close(held.f)
        self._held.clear()


def read_jsonl_slice(
    path: str | Path,
    since: JsonlPosition,
    *,
    max_lines: int | None = None,
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    growing: bool = False,
    block_bytes: int = BLOCK_BYTES,
    decompressors: OpenDecompressors | None = None,
    opener: Callable[[Path], IO[bytes]] = _open,
) -> JsonlSlice:
    """The lines of a JSON Lines file after `since`, at most `max_lines` of them (None: to the end), numbered, with
    the position after the last one read: the live poller reads a file a slice per poll, so that a backlog of
    100,000 lines does not hold up the other sources (outside trial 18, M1), and saves the position with the
    slice's documents, so a restart neither reads a line twice nor skips one. When the TAIL_BYTES before
    `since.offset` are no longer those it read (the file was truncated, replaced or rewritten), the file is read from
    its start again: document ids are deterministic, so what was read already adds nothing. `growing` as for
    read_jsonl_numbered: an unfinished last line is left where it is, for the next poll. With `decompressors`, a .gz
    file's decompressor is kept open for the next slice (OpenDecompressors). Raises JsonlSourceError when the file
    cannot be opened; one that cannot be read to the end gives what it read with `error` set."""
    p = Path(path)
    origin = str(path)
    held = decompressors.take(p, since) if decompressors is not None else None
    if held is not None:
        f, pending, before = held.f, held.pending, held.before
    else:
        f = opener(p)  # (_open; a test's renames another file into place once it is open)
        pending, before = b"", b""
    limit = max_record_bytes(max_body_chars)
    inner = getattr(f, "fileobj", None)
    try:  # the file opened (the path may be another file by now), before the read: a change during it is seen next
        st: os.stat_result | None = os.fstat((inner or f).fileno())
    except (OSError, ValueError):
        st = None
    # (a .gz has no unfinished last line to wait for)
    growing = growing and held is None and st is not None and time.time() - st.st_mtime < GROWING_S
    start = since
    rewound = False
    items: list[tuple[int, Document | DeadLetter]] = []
    offset, base = since.offset, since.line
    more = False
    error: JsonlSourceError | None = None
    unread = [b""]
    last: bytes | None = before  # the TAIL_BYTES before `offset` (None: not known, after an over-long line)
    kept = False
    watched: list[tuple[int, int, str]] = []  # dead-lettered lines read in this slice (JsonlPosition.dead)
    try:
        if offset > 0 and held is None:
            found = _bytes_before(f, offset)
            if found is None or tail_print(found) != since.tail or since.edited(st) or since.dead_line_fixed(f):
                start, rewound, offset, base, last = JsonlPosition(), True, 0, 0, b""
                f.seek(0)
            else:
                last = found
                f.seek(offset)  # (a GzipFile is there already)
                if not found.endswith(b"\n"):
                    # The last poll read a whole last line that had no newline yet: the newline written since ends
                    # that line (counted then), it does not start a blank one, which would shift every later line.
                    ahead = f.read(2)
                    eol = 2 if ahead == b"\r\n" else 1 if ahead[:1] == b"\n" else 0
                    offset += eol
                    last = (last + ahead[:eol])[-TAIL_BYTES:]
                    f.seek(offset)
        first = offset == 0
        blocks = _blocks(f, block_bytes, limit, start=pending, unread=unread)
        for block in blocks:
            if max_lines is not None and len(items) >= max_lines:
                more = True
                if isinstance(block, int):  # an over-long line, read through: not to be kept as pending bytes
                    last = None
                else:
                    unread[:] = [block + unread[0]]
                break
            if isinstance(block, int):  # one over-long line, skipped unread
                first = False
                base += 1
                offset += block + 1
                last = None
                reason = f"line is over {limit} bytes (at least {block}), the limit for one record; skipped unread"
                items.append((base, DeadLetter(origin=origin, line=base, reason=reason)))
                continue
            skip = len(_BOM) if first and block.startswith(_BOM) else 0
            first = False
            if max_lines is not None and (cut := _after_lines(block, skip, max_lines - len(items))) < len(block):
                # Only the lines the slice takes are split (a block holds thousands more): the rest is the next
                # slice's, kept with the decompressor or read again.
                unread[:] = [block[cut:] + unread[0]]
                block, more = block[:cut], True
            lines, whole = _whole_lines(block[skip:], base, origin, growing and inner is None)
            used = skip + sum(len(line) + 1 for line in lines) - (0 if whole else 1)
            got, dead = _block_items(block, lines, base, origin, max_body_chars, False, None, numbered=True)
            items.extend(got)
            if dead and inner is None:  # a plain file's refused lines, watched for a fix in place (.gz: not edited)
                watched.extend(_dead_spans(got, lines, base, offset + skip))
            offset += used
            base += len(lines)
            if last is not None:
                last = (last + block[max(0, used - TAIL_BYTES) : used])[-TAIL_BYTES:]
            if used < len(block):  # what is left of the block comes first at the next slice
                unread[:] = [block[used:] + unread[0]]
            if more or not lines:
                break
        else:
            # Read to the end: an over-long last line skipped unread counted a newline it does not have (a position
            # past the end, which no append would fit). The stream's position is where it ends.
            offset = min(offset, f.tell())
        if decompressors is not None and last is not None:
            kept = decompressors.keep(
                p, f, _position(offset, base, tail_print(last), start, st, watched), unread[0], last
            )
    except (OSError, EOFError) as e:
        error = JsonlSourceError(f"cannot read JSON Lines file {p}: {e}")
    finally:
        if not kept:
            _close(f)
    if last is not None:
        tail = tail_print(last)
    else:  # after a line over the limit, skipped unread: read back (a .gz decompressed up to it again)
        tail = _tail_of(p, offset)
    return JsonlSlice(items, start, _position(offset, base, tail, start, st, watched), more, rewound, error)


def _position(
    offset: int,
    line: int,
    tail: str,
    start: JsonlPosition,
    st: os.stat_result | None,
    watched: list[tuple[int, int, str]],
) -> JsonlPosition:
    """Where a slice stopped, with the size and modification time of the file it read (JsonlPosition.edited) and the
    newest dead-lettered lines read up to there (JsonlPosition.dead)."""
    return JsonlPosition(
        offset,
        line,
        start.tail if offset == start.offset else tail,
        st.st_size if st is not None else -1,
        st.st_mtime_ns if st is not None else 0,
        (*start.dead, *watched)[-WATCHED_DEAD_LINES:] if watched else start.dead,
    )


def _dead_spans(
    got: list[tuple[int, Document | DeadLetter]], lines: list[bytes], base: int, at: int
) -> list[tuple[int, int, str]]:
    """(offset, length, print) of the dead-lettered lines among `got` (numbered from `base` + 1), `lines` starting at
    file offset `at`: where a fix in place would show (JsonlPosition.dead)."""
    starts = list(accumulate((len(line) + 1 for line in lines), initial=at))  # starts[i]: where line i starts
    return [
        (starts[n - base - 1], len(lines[n - base - 1]), tail_print(lines[n - base - 1]))
        for n, x in got
        if isinstance(x, DeadLetter)
    ]


def _after_lines(block: bytes, start: int, n: int) -> int:
    """Where the n-th line of `block` from `start` ends (just past its newline); len(block) when it has fewer."""
    pos = start
    for _ in range(n):
        nl = block.find(b"\n", pos)
        if nl < 0:
            return len(block)
        pos = nl + 1
    return pos


def _tail_of(path: Path, offset: int) -> str:
    """The print of the TAIL_BYTES before `offset` in the file at `path`."""
    f = _open(path)
    try:
        data = _bytes_before(f, offset)
        return tail_print(data) if data is not None else ""
    finally:
        _close(f)
