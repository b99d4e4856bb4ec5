"""The publisher's local spool: events the broker could not take yet, as fsync'd JSON lines, under a file lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from watchfloor.infra.durable_files import fsync_dir
from watchfloor.schemas.events import Event

from .codec import encode_event

RESENT_LINE = b'{"wf-resent":1,'
"""How the line of a re-sent document starts: its envelope with one more key (`unspool` takes it off)."""


def spool_line(ev: Event, resent: bool = False) -> bytes:
    """The spool's line of an event: its encoded envelope, marked when it is re-sent."""
    raw = encode_event(ev)
    return RESENT_LINE + raw[1:] if resent else raw


def unspool(line: bytes) -> tuple[bytes, bool]:
    """(the record value, whether it is re-sent) of a spool line."""
    if line.startswith(RESENT_LINE):
        return b"{" + line[len(RESENT_LINE) :], True
    return line, False


class Spool:
    """An append-only file of encoded events. Every write is fsync'd (the file and, when new, its directory)
    before it returns, so an event a caller was told is spooled survives a crash. A torn last line (a crash
    mid-append) was never acknowledged to anyone and is ignored."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Cross-process lock: two publishers sharing a spool must not both drain it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def read(self) -> list[bytes]:
        """The complete lines (encoded events) in order."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        complete = lines[:-1] if not data.endswith(b"\n") else lines
        return [ln for ln in complete if ln.strip()]

    def append(self, events: Sequence[Event], resent: Collection[str] = ()) -> None:
        """Spool `events`; those whose id is in `resent` (documents `produce --resend` sends again) keep that mark
        (RESENT_LINE), so the drain sends them with their wf-resent header."""
        if events:
            self._write(b"".join(spool_line(ev, ev.id in resent) + b"\n" for ev in events), append=True)

    def replace(self, lines: Sequence[bytes]) -> None:
        """Atomically keep only `lines` (what is left after a drain)."""
        self._write(b"".join(r + b"\n" for r in lines), append=False)

    def _write(self, payload: bytes, *, append: bool) -> None:
        path = self.path
        if append:
            existed = path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                whole = _end_of_last_line(fd, size)
                if whole < size:
                    # A torn last line (a crash mid-append): never acknowledged. Cut it, or the first event
                    # appended now would join it on one unreadable line, and be dropped at the next drain.
                    os.ftruncate(fd, whole)
                    size = whole
                try:
                    _write_all(fd, payload)
                    os.fsync(fd)
                except OSError:
                    # A full disk mid-write: take back the part written, for the same reason (the caller
                    # gets the error, so these events were not acknowledged either).
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size)
                        os.fsync(fd)
                    raise
            finally:
                os.close(fd)
            if not existed:
                fsync_dir(path.parent)
            return
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        try:
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)


def _end_of_last_line(fd: int, size: int) -> int:
    """The offset just after the file's last newline (0 if it has none): where its complete lines end."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        chunk = os.pread(fd, end - start, start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        end = start
    return 0


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]
