"""Store implementations behind the ports, chosen by URL: memory://, sqlite:///path, postgresql://..."""

from __future__ import annotations

from collections.abc import Callable

from ..ports import Store
from .errors import RecordRejected, StoreError

StoreOpener = Callable[[str, bool, bool], Store]  # (url, create, upgrade) -> store


def _memory(_url: str, _create: bool, _upgrade: bool) -> Store:
    from .memory import MemoryStore

    return MemoryStore()


def _sql(url: str, create: bool, upgrade: bool) -> Store:
    from .sql import SqlStore  # SQLAlchemy is imported only for a SQL store

    return SqlStore(url, create=create, upgrade=upgrade)


# The implementations by URL scheme (before any "+driver": postgresql+psycopg://). A new kind of store is one entry.
STORES: dict[str, StoreOpener] = {"memory": _memory, "sqlite": _sql, "postgresql": _sql, "postgres": _sql}


def open_store(url: str, *, create: bool = True, upgrade: bool = True) -> Store:
    """Open the store a URL names. `memory://` keeps everything in this process. With `create=False`
    (read commands) a SQLite file that does not exist is a StoreError, not a new empty store; with `upgrade=False`
    (commands that only read) so is a store of an older schema, which is not migrated.
    Raises StoreError, with a one-line reason and no password, when the store cannot be used."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if ":" in url else ""
    opener = STORES.get(scheme)
    if opener is None:
        raise StoreError(url, "unknown kind of store URL: use memory://, sqlite:///FILE or postgresql://...")
    return opener(url, create, upgrade)


__all__ = ["STORES", "RecordRejected", "StoreError", "open_store"]
