"""JSON Lines producer: one input object per line (the input contract of schemas/inputs.py).

Every non-blank line yields either an accepted `Document` or a `DeadLetter` saying which line, which
field and why. A bad line never stops the file: the lines around it are still read. The file is read
as bytes and each line is decoded on its own, so one line of Latin-1 costs that line only.
Files ending in `.gz` (or starting with the gzip magic bytes) are decompressed transparently.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal, cast, overload

import orjson

from schemas.events import DeadLetter, Document
from schemas.inputs import DEFAULT_MAX_BODY_CHARS, CheckedInput, InputError, check_document

RAW_LIMIT = 500
"""How much of an offending line a dead letter keeps."""

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


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


def parse_line(
    raw: bytes, *, origin: str, line: int, max_body_chars: int = DEFAULT_MAX_BODY_CHARS, checked: bool = False
) -> Document | CheckedInput | DeadLetter | None:
    """One line of bytes (without its newline) -> a Document (or, with `checked`, a CheckedInput not yet
    built), a DeadLetter, or None for a blank line."""
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
    path: str | Path, *, max_body_chars: int = ..., checked: Literal[False] = ...
) -> Iterator[Document | DeadLetter]: ...


@overload
def read_jsonl(
    path: str | Path, *, max_body_chars: int = ..., checked: Literal[True]
) -> Iterator[CheckedInput | DeadLetter]: ...


def read_jsonl(
    path: str | Path, *, max_body_chars: int = DEFAULT_MAX_BODY_CHARS, checked: bool = False
) -> Iterator[Document | CheckedInput | DeadLetter]:
    """Documents and dead letters of a JSON Lines file, in line order; blank lines are skipped.

    Raises JsonlSourceError (naming the path) right away when the file cannot be opened, and while
    iterating if it cannot be read to the end (e.g. a truncated .gz); lines already yielded stand.
    """
    p = Path(path)
    f = _open(p)  # eager: a missing file fails at the call, not at the first next()
    return _read(f, p, origin=str(path), max_body_chars=max_body_chars, checked=checked)


def _read(
    f: IO[bytes], path: Path, *, origin: str, max_body_chars: int, checked: bool = False
) -> Iterator[Document | CheckedInput | DeadLetter]:
    inner = getattr(f, "fileobj", None)  # the raw file under a GzipFile
    try:
        for number, raw in enumerate(f, start=1):
            if raw.endswith(b"\n"):
                raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            item = parse_line(raw, origin=origin, line=number, max_body_chars=max_body_chars, checked=checked)
            if item is not None:
                yield item
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError; a truncated .gz raises EOFError
        raise JsonlSourceError(f"cannot read JSON Lines file {path}: {e}") from e
    finally:
        f.close()
        if inner is not None:
            inner.close()
