"""File notifier: one JSON line per alert appended to a file, fsynced before send() returns."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import orjson

from watchfloor.schemas.events import Alert

from .base import PermanentError, TransientError


class FileNotifier:
    """Appends `alert.model_dump(mode="json")` as one line to `path` (parent directories are created)."""

    def __init__(self, name: str, path: str | os.PathLike[str]) -> None:
        self.name = name
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, alert: Alert) -> str:
        line = orjson.dumps(alert.model_dump(mode="json")) + b"\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                created = not self.path.exists()
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    offset = os.lseek(fd, 0, os.SEEK_END)
                    view = memoryview(line)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fsync(fd)
                finally:
                    os.close(fd)
                if created:
                    _fsync_dir(self.path.parent)
        except (PermissionError, IsADirectoryError, NotADirectoryError) as e:
            raise PermanentError(f"file {self.name}: cannot write {self.path}: {type(e).__name__}") from None
        except OSError as e:  # disk full, I/O error, ...: may clear up
            raise TransientError(f"file {self.name}: cannot write {self.path}: {type(e).__name__}: {e}") from None
        return f"{self.path}@{offset}"

    def __repr__(self) -> str:
        return f"FileNotifier(name={self.name!r}, path={str(self.path)!r})"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
