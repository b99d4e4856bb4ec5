"""What opening a store did that its caller may want to say (a schema migration): events, never printed here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from watchfloor.schemas.redact import redact_url


@dataclass(frozen=True)
class SchemaMigrated:
    """Opening the store at `url` brought its schema from version `found` to `to` (`steps`: what each migration
    added). Said by the process that did it, not by those that found it done."""

    url: str
    found: int
    to: int
    steps: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"store {redact_url(self.url)}: schema migrated {self.found} → {self.to} ({'; '.join(self.steps)}); "
            f"a watchfloor that knows only version {self.found} refuses it from its next start (one still running on "
            "it goes on: restart it with this release)"
        )


Listener = Callable[[SchemaMigrated], None]
_listeners: list[Listener] = []


def on_schema_migrated(listener: Listener) -> Callable[[], None]:
    """Call `listener` for every migration a store opened in this process does; returns what removes it. The
    command line registers one that prints the line (the stores print nothing)."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def announce(migrated: SchemaMigrated) -> None:
    for listener in list(_listeners):
        listener(migrated)


__all__ = ["SchemaMigrated", "announce", "on_schema_migrated"]
