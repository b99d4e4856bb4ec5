"""Times as text for people (notifiers, reports), never raising: a time that cannot be shown in UTC is
shown as written.

The input contract keeps published_at within the years 1800-2999, but notifiers also format what older
stores, Kafka topics or other producers hand them; `datetime.astimezone` raises OverflowError for a time
near year 1 or 9999 (a year-9999 date once stopped the console and Slack notifiers and the HTML report).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

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


def zone_label(local: datetime) -> str:
    """The zone of an aware `local` time as a reader knows it: its abbreviation ("MSK", "CET", "KST"), or, where the
    zone has none (IANA writes "+04" for Asia/Dubai), its offset from UTC ("UTC+4", "UTC+5:30")."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = local.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def zone_text(zone: tzinfo | None) -> Callable[[datetime], str]:
    """How a channel shows a time: `utc_text` without a zone; with one, the minute in that zone and the zone's
    label ('2024-11-12 11:00 MSK'), and, where that is impossible, the ISO form as given (never raises)."""
    if zone is None:
        return utc_text

    def text(when: datetime) -> str:
        try:
            local = (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone(zone)
            return local.strftime("%Y-%m-%d %H:%M ") + zone_label(local)
        except (OverflowError, ValueError):
            return when.isoformat()

    return text


__all__ = ["MINUTE_UTC", "utc_iso", "utc_text", "zone_label", "zone_text"]
