"""English word forms, computed from lemminflect's dictionaries once per machine and kept in the user's cache.

`watchfloor rules check` (and every command that compiles a `version: 2` pack) expands each English phrase
word into its inflected forms (engine.morphology). Reading lemminflect's tables for that, with its import
(which brings numpy), cost ~0.5 s of every process; the forms of all 70,000 words of its dictionary, as
one marshal file, load in a few hundredths. The file is written the first time (~1 s), next to nothing
of the user's, and built again (under another name) whenever lemminflect's data files or the forms rules
(morphology.EN_FORMS_VERSION) change; a file that cannot be read or written is never an error (the
forms are then computed, as without it). Where: $WATCHFLOOR_CACHE_DIR, else $XDG_CACHE_HOME/watchfloor,
else ~/.cache/watchfloor.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
from pathlib import Path
from typing import Any

from .engine import morphology

FORMAT = 1


def cache_dir() -> Path:
    given = os.environ.get("WATCHFLOOR_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "watchfloor"


def fingerprint() -> tuple[Any, ...]:
    """What the table is computed from: lemminflect's data files (name, size, modification time) and the
    version of our forms rules."""
    spec = importlib.util.find_spec("lemminflect")
    files: list[tuple[str, int, int]] = []
    if spec is not None and spec.origin is not None:
        resources = Path(spec.origin).parent / "resources"
        for p in sorted(resources.glob("*")):
            st = p.stat()
            files.append((p.name, st.st_size, st.st_mtime_ns))
    return (FORMAT, morphology.EN_FORMS_VERSION, tuple(files))


def file_name(stamp: tuple[Any, ...]) -> str:
    """One file per fingerprint: two installs of lemminflect on one machine (two virtualenvs) each keep
    their own instead of overwriting each other's at every run."""
    digest = hashlib.blake2b(repr(stamp).encode(), digest_size=8).hexdigest()
    return f"en-forms-{digest}.marshal"


def read_table(path: Path, expected: tuple[Any, ...]) -> morphology.EnTable | None:
    """The table kept at `path`, or None if absent, unreadable, damaged or built from other data."""
    try:
        stamp, sets, index = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if stamp != expected or not isinstance(sets, list) or not isinstance(index, dict):
        return None
    return sets, index


def write_table(path: Path, stamp: tuple[Any, ...], table: morphology.EnTable) -> bool:
    """Write atomically (a reader never sees half a file; two writers at once are both whole)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps((stamp, *table)))
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # its directory is not there (or not a directory) either
            pass
        return False
    return True


def cached_table(directory: Path | None = None) -> morphology.EnTable:
    """The table from the cache, built and kept there first if it is not (or no longer) valid."""
    stamp = fingerprint()
    path = (directory or cache_dir()) / file_name(stamp)
    table = read_table(path, stamp)
    if table is None:
        table = morphology.en_table()
        write_table(path, stamp, table)
    return table


def install() -> None:
    """Let the engine's morphology read English forms from the cache (loaded when a pack first needs one)."""
    morphology.use_en_table(cached_table)
