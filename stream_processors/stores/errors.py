"""What stores raise: StoreError when the store as a whole cannot serve, RecordRejected for one event it cannot take.

The two are kept apart because callers treat them oppositely. A `StoreError` (unreachable, read-only, corrupt,
full, locked, missing, made by a newer watchfloor; "replaced": its SQLite file deleted or replaced under the
process, which a live `run` stops for) stops the caller's batch; nothing of it was written, so the next attempt
loses nothing. A `RecordRejected` names one event; the caller dead-letters that event and writes
the rest of its batch. Messages are safe to print: a store URL in them has its password replaced by ``***``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import orjson

from watchfloor.schemas.events import Event
from watchfloor.schemas.redact import redact_url

StoreProblem = Literal[
    "missing", "unreachable", "read-only", "corrupt", "full", "locked", "newer", "older", "replaced", "other"
]

MAX_EVENT_ID_BYTES = 2048
"""The longest event id (UTF-8) any store takes: PostgreSQL cannot index a key much over 2,700 bytes, and
every store refuses the same ids (the input contract keeps document ids to 512 characters, within this)."""


class StoreError(RuntimeError):
    """The store cannot be used: `problem` says what, in one line, without secrets."""

    def __init__(self, url: str, problem: str, kind: StoreProblem = "other") -> None:
        self.url = redact_url(url)
        self.problem = problem
        self.kind: StoreProblem = kind
        super().__init__(f"store {self.url}: {problem}")


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def store_problem(e: BaseException) -> str:
    """Why the store could not be read, in one line and without secrets: a StoreError's own text (its URL is
    redacted already), else the exception's class and first line with any URL in it redacted."""
    text = str(e) if isinstance(e, StoreError) else f"{type(e).__name__}: {e}"
    line = (text.splitlines() or [type(e).__name__])[0]
    return _URL.sub(lambda m: redact_url(m.group()), line)[:300]


def store_state(e: BaseException) -> str:
    """How a store that failed is said to be, from its StoreError's kind: "unreachable" only when it could not be
    reached (a local file that is read-only, full or gives a disk I/O error is there: trial 50, LOW-2)."""
    kind = e.kind if isinstance(e, StoreError) else "unreachable"
    if kind in ("unreachable", "missing"):
        return "unreachable"
    if kind in ("read-only", "full", "locked"):
        return "cannot be written"
    return "cannot be used"


class RecordRejected(ValueError):
    """One event the store cannot take (`index` in the batch given); nothing of that batch was written."""

    def __init__(self, event_id: str, reason: str, *, index: int = 0, field: str | None = None) -> None:
        self.event_id = event_id
        self.reason = reason
        self.index = index
        self.field = field
        super().__init__(f"event {event_id[:200]!r}: {reason}")


def payload_differs(old: Any, new: Any) -> bool:
    """Whether a payload held under an id says something else than a new one: a value of a key both have
    differs (objects compared key by key). A key only one of them has does not count, so a field that a
    later release adds to a payload does not turn every re-read document into a conflict."""
    if isinstance(old, dict) and isinstance(new, dict):
        return any(k in old and payload_differs(old[k], v) for k, v in new.items())
    return bool(old != new)


def check_event(ev: Event, index: int = 0) -> str:
    """The event's payload as the JSON text a store keeps, or RecordRejected if no store could keep it.

    Every store applies this before writing anything, so an event refused by one (a NUL in its id, which
    PostgreSQL text cannot hold; a payload nested too deep to serialise) is refused by all of them."""
    for name in ("id", "type", "key", "origin"):
        value = getattr(ev, name)
        if value is not None and "\x00" in value:
            raise RecordRejected(ev.id, f"{name} contains a NUL character (U+0000)", index=index, field=name)
    if len(ev.id.encode("utf-8", "surrogatepass")) > MAX_EVENT_ID_BYTES:
        raise RecordRejected(ev.id, f"id is longer than {MAX_EVENT_ID_BYTES} bytes", index=index, field="id")
    try:
        return orjson.dumps(ev.payload).decode()
    except TypeError as e:  # orjson.JSONEncodeError: nested past its limit, a non-string key, a lone surrogate
        raise RecordRejected(ev.id, f"payload cannot be stored as JSON: {e}", index=index, field="payload") from None


__all__ = [
    "MAX_EVENT_ID_BYTES",
    "RecordRejected",
    "StoreError",
    "StoreProblem",
    "check_event",
    "payload_differs",
    "redact_url",
]
