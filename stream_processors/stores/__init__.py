"""Store implementations behind the ports, chosen by URL: memory://, sqlite:///path, postgresql://..."""

from __future__ import annotations

from ..ports import Store


def open_store(url: str) -> Store:
    """Open the store a URL names. `memory://` keeps everything in this process."""
    if url.startswith("memory:"):
        from .memory import MemoryStore

        return MemoryStore()
    if url.startswith(("sqlite", "postgresql", "postgres")):
        from .sql import SqlStore

        return SqlStore(url)
    raise ValueError(f"unknown store URL {url!r}: use memory://, sqlite:///FILE or postgresql://...")
