"""What a prune keeps of a document event: every field but its text (retention, `watchfloor store prune`)."""

from __future__ import annotations

from typing import Any

PRUNED_FIELDS = ("title", "body")
"""The document payload's fields a prune removes: the text, ~80 % of an article's bytes (README "Store size").
What stays (id, type, event time, source, url, language, metadata with `edition_of`) keeps dedup by id, the
editions' bookkeeping and every reference to the document (alerts' evidence names it by id) working. Removing
the keys, rather than emptying them, is what makes a re-ingested pruned document a duplicate, not a conflict:
errors.payload_differs compares only the keys both payloads have."""


def stripped(payload: Any) -> dict[str, Any] | None:
    """The payload without its text, or None when there is nothing to remove (pruned already: a re-run is a no-op)."""
    if not isinstance(payload, dict) or not any(k in payload for k in PRUNED_FIELDS):
        return None
    return {k: v for k, v in payload.items() if k not in PRUNED_FIELDS}


__all__ = ["PRUNED_FIELDS", "stripped"]
