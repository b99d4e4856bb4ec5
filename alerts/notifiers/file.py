"""File notifier: one JSON line per notice appended to a file, fsynced before send() returns.

A line is the alert (`id`, `detection`, `channels`) plus `kind` (alert, followup, revision, retraction), `key`
(the delivery key) and, for a notice of a thread, `updates` (the alert it follows up, revises or withdraws)
and `thread`: `first` (the reference of the thread's first message), `first_alert` (its alert id), `target` (the
alert id of the message this one updates: the thread's first alert, or the follow-up a revision or withdrawal
changes; alert ids are what `alerts list` shows, never delivery keys), `severity` and `confidence` (the thread's
state: its newest standing alert's, notice.ThreadView), `newest_alert` (that alert's id; null when none of the
thread's alerts stands), `sources` (independent, of the thread's standing alerts), `updates` (replies, this one
included), `withdrawn` (a withdrawal's reason), `first_withdrawn` (why the thread's first alert was withdrawn, by
this notice or before it; null while it stands) and `revised_by` (a revision's alert id). A new alert of a rule and
group the channel was told of before (an earlier story) has `earlier`: `alert` (the last earlier story's first
alert), `fired_at` and `count` (earlier stories), and `same_story: true` when that story began within the rule's open
period before it (the same story, posted apart: notice.EarlierStory.within). Another group's first alert of a story
of a rule with `thread_by` has `story`: `alert` (the story's first alert) and `group_label` (its group).
A write that fails half-way (a full disk) is cut back off, so the file
never holds half a line; an attempt that may have got through (the process died between writing and
recording) is looked up by its key before the line is written again.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from watchfloor.infra.durable_files import fsync_dir
from watchfloor.schemas.events import Alert
from watchfloor.schemas.timefmt import utc_iso

from ..notice import Digest, Notice, as_notice
from .base import Misconfigured, PermanentError, TransientError


def record(notice: Notice) -> dict[str, Any]:
    """The JSON object written for `notice`."""
    out: dict[str, Any] = {**notice.alert.model_dump(mode="json"), "kind": notice.kind, "key": notice.key}
    if notice.parent_id is not None:
        out["updates"] = notice.parent_id
    if notice.group_label:
        out["group_label"] = notice.group_label
    if notice.reason:
        out["reason"] = notice.reason
    if notice.superseded_by:
        out["superseded_by"] = notice.superseded_by
    if notice.escalated_from:
        out["escalated_from"] = notice.escalated_from
    if notice.earlier is not None:
        e = notice.earlier
        out["earlier"] = {"alert": e.alert_id, "fired_at": utc_iso(e.fired_at), "count": e.count}
        if e.within is not None:  # the same story by event time, posted apart (notice.EarlierStory.within)
            out["earlier"]["same_story"] = True
    if notice.story is not None:  # thread_by: another group's alert of a story (docs/rules.md)
        out["story"] = {"alert": notice.story.alert_id, "group_label": notice.story.group_label}
    if notice.later is not None:
        la = notice.later
        out["later"] = {
            "alert": la.alert_id,
            "severity": la.severity,
            "confidence": la.confidence,
            "fired_at": utc_iso(la.fired_at),
            "count": la.count,
        }
    t = notice.thread
    if t is not None:
        out["thread"] = {
            "first": t.thread_ref,
            "first_alert": t.first_id,
            "target": t.target_id,
            "severity": t.severity,
            "confidence": t.confidence,
            "sources": t.sources,
            "updates": t.updates,
            "withdrawn": t.withdrawn,
            "revised_by": t.revised_by,
            "first_withdrawn": t.first_withdrawn,
            "newest_alert": t.newest_id,
        }
    return out


class FileNotifier:
    """Appends `record(notice)` as one line to `path` (parent directories are created)."""

    def __init__(self, name: str, path: str | os.PathLike[str]) -> None:
        self.name = name
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, notice: Notice | Alert) -> str:
        return self._append(orjson.dumps(record(as_notice(notice))) + b"\n")

    def send_digest(self, digest: Digest) -> str:
        """Appends `{"digest": {...}, "kind": "digest", "key": ID}` like a notice's line."""
        return self._append(orjson.dumps({"digest": digest.to_json(), "kind": "digest", "key": digest.id}) + b"\n")

    def _append(self, line: bytes) -> str:
        where = f"file {self.name}: cannot write {self.path}"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                created = not self.path.exists()
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    offset = os.lseek(fd, 0, os.SEEK_END)
                    start = offset
                    if offset and os.pread(fd, 1, offset - 1) != b"\n":
                        line = b"\n" + line  # a line cut short by a crash before us: start on a new one
                        start += 1
                    try:
                        view = memoryview(line)
                        while view:
                            view = view[os.write(fd, view) :]
                        os.fsync(fd)
                    except OSError:
                        _cut_back(fd, offset)  # never leave half a line behind (a full disk)
                        raise
                finally:
                    os.close(fd)
                if created:
                    fsync_dir(self.path.parent)
        except (PermissionError, IsADirectoryError, NotADirectoryError) as e:
            raise PermanentError(f"{where}: {type(e).__name__}", channel_wide=True) from None
        except OSError as e:  # disk full, I/O error, ...: may clear up
            raise TransientError(f"{where}: {type(e).__name__}: {e.strerror or e}", channel_wide=True) from None
        return f"{self.path}@{start}"

    def find_delivered(self, notice: Notice | Digest) -> str | None:
        """`path@offset` of a line already written for `notice`'s key, or None (also when there is no file)."""
        needle = orjson.dumps(notice.key)
        for key, ref in self._lines(0, needle):
            if key == notice.key:
                return ref
        return None

    def posted_since(self, ref: str, limit: int) -> dict[str, str]:
        """Delivery key -> `path@offset` of the lines after the line `ref` (the newest the ledger records as sent
        here), the last `limit` of them: after a store restored from a backup, what was delivered since the backup.
        Nothing when `ref` names another file (the config moved the channel since)."""
        path, _, offset = ref.rpartition("@")
        if path != str(self.path) or not offset.isdigit():
            return {}
        # Past the line `ref` starts: a file cut shorter since (rotated) reads from its start. The first line read
        # may be a partial one (a file replaced since): not JSON, skipped.
        lines = list(self._lines(int(offset) + 1))
        return dict(lines[-limit:] if limit else [])

    def _lines(self, start: int, needle: bytes | None = None) -> Iterator[tuple[str, str]]:
        """(key, `path@offset`) of the lines from the line at or after byte `start` on (the one `start` falls in
        is skipped unless it begins there), only those containing `needle` when given; nothing when there is no
        file."""
        try:
            with self._lock, open(self.path, "rb") as f:
                if start > os.fstat(f.fileno()).st_size:
                    start = 0
                offset = start
                f.seek(start)
                if start and os.pread(f.fileno(), 1, start - 1) != b"\n":
                    offset += len(f.readline())  # the rest of a line that began before `start`
                for raw in f:
                    here, offset = offset, offset + len(raw)
                    if needle is not None and needle not in raw:
                        continue
                    try:
                        obj = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        continue
                    # Lines of the first version have no key: theirs was the alert id.
                    key = obj.get("key", obj.get("id")) if isinstance(obj, dict) else None
                    if isinstance(key, str):
                        yield key, f"{self.path}@{here}"
        except FileNotFoundError:
            return
        except OSError as e:
            raise TransientError(f"file {self.name}: cannot read {self.path}: {type(e).__name__}") from None

    def check(self) -> str:
        """The file's directory exists (or can be made) and is writable; says how much room is left. A path that
        is a directory is `Misconfigured`: no retry makes it a file."""
        if self.path.is_dir():
            raise Misconfigured(
                f"channel {self.name}: its path {self.path} is a directory, not a file: a file channel appends each "
                f"alert as a line to the file at `path`; name a file (e.g. {self.path / 'alerts.jsonl'}) in the "
                "config's `channels:`, or move the directory away"
            )
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PermanentError(f"file {self.name}: cannot create {parent}: {type(e).__name__}") from None
        if not os.access(parent, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise PermanentError(f"file {self.name}: {self.path} is not writable")
        free = shutil.disk_usage(parent).free
        return f"appends to {self.path} ({free / 2**20:.0f} MiB free)"

    def __repr__(self) -> str:
        return f"FileNotifier(name={self.name!r}, path={str(self.path)!r})"


def _cut_back(fd: int, offset: int) -> None:
    try:
        os.ftruncate(fd, offset)
        os.fsync(fd)
    except OSError:
        pass  # the line check at the next write starts a fresh line after whatever is left
