"""Making a file's creation durable: the fsync of its directory, shared by the file notifier and the Kafka spool."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Fsync directory `path`, so a file created in it survives a power loss (the file's own fsync does not
    write its directory entry). Best effort: a file system that cannot open or fsync a directory is let be."""
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
