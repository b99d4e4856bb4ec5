"""Store implementations behind the ports, chosen by URL: memory://, sqlite:///path, postgresql://..."""

from __future__ import annotations

from ..ports import Store
from .errors import RecordRejected, StoreError


def open_store(url: str, *, create: bool = True, upgrade: bool = True) -> Store:
    """Open the store a URL names. `memory://` keeps everything in this process. With `create=False`
    (read commands) a SQLite file that does not exist is a StoreError, not a new empty store; with `upgrade=False`
    (commands that only read) so is a store of an older schema, which is not migrated.
    Raises StoreError, with a one-line reason and no password, when the store cannot be used."""
    if url.startswith("memory:"):
        from .memory import MemoryStore

        return MemoryStore()
    if url.startswith(("sqlite", "postgresql", "postgres")):
        from .sql import SqlStore

        return SqlStore(url, create=create, upgrade=upgrade)
    raise StoreError(url, "unknown kind of store URL: use memory://, sqlite:///FILE or postgresql://...")


__all__ = ["RecordRejected", "StoreError", "open_store"]
