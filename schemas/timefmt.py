"""Times as text for people (notifiers, reports), never raising: a time that cannot be shown in UTC is
shown as written.

The input contract keeps published_at within the years 1800-2999, but notifiers also format what older
stores, Kafka topics or other producers hand them; `datetime.astimezone` raises OverflowError for a time
near year 1 or 9999 (a year-9999 date once stopped the console and Slack notifiers and the HTML report).
"""

from __future__ import annotations

from datetime import UTC, datetime

MINUTE_UTC = "%Y-%m-%d %H:%M UTC"


def utc_text(when: datetime, fmt: str = MINUTE_UTC) -> str:
    """`when` in UTC as `fmt` (default '2024-11-12 08:00 UTC'); if that is impossible, its ISO form as given."""
    try:
        return (when.astimezone(UTC) if when.tzinfo is not None else when).strftime(fmt)
    except (OverflowError, ValueError):
        return when.isoformat()


def utc_iso(when: datetime) -> str:
    """ISO 8601 in UTC when possible (for JSON), else as given: never raises."""
    try:
        return when.astimezone(UTC).isoformat() if when.tzinfo is not None else when.isoformat()
    except (OverflowError, ValueError):
        return when.isoformat()


__all__ = ["MINUTE_UTC", "utc_iso", "utc_text"]
