"""Turn what SQLAlchemy, sqlite3 and psycopg raise into one StoreError line a user can act on.

Only failures of the store as a whole are classified. A data error of one statement (PostgreSQL SQLSTATE
classes 22 data exception, 23 integrity, 54 program limit: a value too long to index, say) is left as it
is, so that a writer can find the one record at fault and keep the rest of its batch.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from .errors import StoreError

_RECORD_SQLSTATE_CLASSES = ("22", "23", "54")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0].strip() if text else type(e).__name__


def _scrub(text: str, url: URL) -> str:
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def _display(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    db = url.database
    return None if db in (None, "", ":memory:") else Path(db)


def _readonly_fs(path: Path) -> bool:
    probe = path if path.exists() else path.parent
    try:
        return bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _sqlite_open_problem(url: URL) -> tuple[str, str]:
    """Why SQLite said "unable to open database file": work it out from the filesystem."""
    path = sqlite_path(url)
    if path is None:
        return "other", "cannot open the database"
    if not path.parent.is_dir():
        return "missing", f"directory {path.parent} does not exist"
    if path.is_dir():
        return "corrupt", f"{path} is a directory, not a SQLite database file"
    if _readonly_fs(path):
        return "read-only", f"{path} is on a read-only filesystem (SQLite needs to write its -wal and -shm files)"
    if not os.access(path.parent, os.W_OK):
        return "read-only", f"no permission to write in {path.parent}"
    return "other", f"cannot open {path}"


def classify(e: BaseException, url: URL) -> StoreError | None:
    """The StoreError that `e` means for the store at `url`, or None when `e` is about one statement's data."""
    if isinstance(e, StoreError):
        return e
    shown = _display(url)
    if isinstance(e, ImportError | sa_exc.NoSuchModuleError):
        return StoreError(shown, f"the database driver is not installed ({_first_line(e)}); "
                          "for PostgreSQL: pip install 'watchfloor[postgres]'")  # fmt: skip
    if not isinstance(e, sa_exc.DBAPIError):
        return None
    orig = e.orig if e.orig is not None else e
    text = _scrub(_first_line(orig), url)
    if url.get_backend_name() == "sqlite":
        return _classify_sqlite(text, url)
    sqlstate = str(getattr(orig, "sqlstate", None) or "")
    if sqlstate[:2] in _RECORD_SQLSTATE_CLASSES or isinstance(e, sa_exc.DataError | sa_exc.IntegrityError):
        return None  # (a DataError without SQLSTATE: psycopg refused a value before sending it)
    if sqlstate == "25006":
        return StoreError(shown, f"the database is read-only ({text})", "read-only")
    if sqlstate == "53100":
        return StoreError(shown, f"the database's disk is full ({text})", "full")
    if sqlstate == "3D000":
        return StoreError(shown, f"no such database ({text})", "missing")
    connection_failed = not sqlstate and isinstance(e, sa_exc.OperationalError)  # psycopg gave up before a reply
    if sqlstate[:2] in ("08", "28") or connection_failed:
        return StoreError(shown, f"cannot connect: {text}", "unreachable")
    return StoreError(shown, text, "other")


def _classify_sqlite(text: str, url: URL) -> StoreError:
    shown = _display(url)
    low = text.lower()
    path = sqlite_path(url)
    if "file is not a database" in low or "malformed" in low or "not a database" in low:
        return StoreError(shown, f"{path} is not a SQLite database, or is corrupt ({text})", "corrupt")
    if "readonly" in low or "read-only" in low:
        kind, why = _sqlite_open_problem(url)
        if kind != "read-only":
            why = f"the database is read-only ({text})"
        return StoreError(shown, why, "read-only")
    if "unable to open database file" in low:
        kind, why = _sqlite_open_problem(url)
        return StoreError(shown, why, kind)  # type: ignore[arg-type]
    if "database is locked" in low or "database table is locked" in low:
        return StoreError(shown, f"the database stayed locked by another process ({text})", "locked")
    if "disk is full" in low:
        return StoreError(shown, f"the disk is full ({text})", "full")
    if path is not None and _readonly_fs(path):
        return StoreError(shown, f"{path} is on a read-only filesystem ({text})", "read-only")
    return StoreError(shown, text, "other")


__all__ = ["classify", "sqlite_path"]
