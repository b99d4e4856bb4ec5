"""Feed entries: one entry of an RSS/Atom feed (as feedparser reads it) or of a JSON Feed -> a Document, or a
DeadLetter saying which entry and why.

* Entry ids: the entry's guid/id when it looks global (it contains ':', as URLs, urn: and tag: ids
  do), a short guid such as "42" prefixed with the configured feed URL (two feeds both numbering
  from 1 must not collide), else the link, else a hash of feed URL + title + body. All are stable
  across polls.
* Dates: published, else updated, else created, as UTC. Before giving up, an RFC 822 date with
  non-English day and month names (Portuguese, Spanish, French, German, e.g. "Seg, 24 Set 2018
  19:42:40 -0300") is tried; it must carry a zone. An entry with no usable date is dated when it was
  first seen (`seen_at`: the poll that read it; the log keeps that date, and a later poll's is only
  another date, so the same document: publish.ingest with editions) and marked `metadata.date: "first
  seen"` (with the unreadable text as `metadata.date_text`), never given the feed's date: news without a
  date is still news, and the poll that found it is the best bound of when it appeared. So is a date outside the
  accepted years (a typo such as "3021": its text kept in `date_text`, with why). Without `seen_at` it is
  dead-lettered ("entry '<id>' has no valid date").
  Dead-letter reasons name the entry by guid, link or title rather than by its position, so the
  same bad entry gives the same dead-letter id on every poll even as new entries push it down.
* Size: a title, summary or content longer than `RAW_TEXT_FACTOR` times the body limit is not read
  at all (no HTML parsing): the entry is dead-lettered with a reason naming the field, e.g.
  "'content_html' is 1200000 characters, over 1000000 (5 x the body limit): not read". Shorter ones
  are read, and the body limit then applies to the text, as for any input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from watchfloor.schemas.events import ACCEPTED_YEARS, EARLIEST, FIRST_SEEN, LATEST, DeadLetter, Document, stable_id
from watchfloor.schemas.inputs import MAX_ID_CHARS, InputError, has_control, parse_document, parse_timestamp
from watchfloor.schemas.redact import redact_url

from .feed_text import html_to_text, normalize_space

RAW_LIMIT = 500
RAW_TEXT_FACTOR = 5
"""A field's raw text (HTML or not) longer than this many times the body limit is refused unread: its
text is far over the limit anyway, and reading it would only cost time in the poller's threads."""
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


# --------------------------------------------------------------------------- dates

_MONTHS = {
    # Portuguese, Spanish, French, German (and Italian where they coincide) -> English
    "fev": "Feb", "abr": "Apr", "mai": "May", "ago": "Aug", "set": "Sep", "out": "Oct", "dez": "Dec",
    "ene": "Jan", "dic": "Dec", "janv": "Jan", "févr": "Feb", "fevr": "Feb", "mars": "Mar", "avr": "Apr",
    "juin": "Jun", "juil": "Jul", "août": "Aug", "aout": "Aug", "sept": "Sep", "déc": "Dec", "okt": "Oct",
    "mär": "Mar", "mrz": "Mar", "gen": "Jan", "mag": "May", "giu": "Jun", "lug": "Jul", "ott": "Oct",
}  # fmt: skip
_LOCAL_RFC822 = re.compile(r"^\s*(?:[^\W\d]+\.?,?\s+)?(\d{1,2})\s+([^\W\d]+)\.?\s+(\d{2,4})\s+(.+)$")


def _to_utc(t: Any) -> datetime | None:
    """feedparser's *_parsed (a UTC struct_time) -> an aware datetime."""
    try:
        return datetime(t[0], t[1], t[2], t[3], t[4], t[5], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def parse_localized_rfc822(text: str) -> datetime | None:
    """'Seg, 24 Set 2018 19:42:40 -0300' and the like -> aware UTC datetime; None if not that, or no zone."""
    m = _LOCAL_RFC822.match(text)
    if not m:
        return None
    day, month, year, rest = m.groups()
    month = _MONTHS.get(month.lower(), month)
    try:
        dt = parsedate_to_datetime(f"{day} {month} {year} {rest}")
    except (TypeError, ValueError, IndexError):
        return None
    if dt.tzinfo is None:  # "-0000" or no zone at all: the offset is unknown
        return None
    return dt.astimezone(UTC)


# --------------------------------------------------------------------------- entries


@dataclass
class FeedEntry:
    """A feed entry, whatever the format, before the input contract is applied."""

    guid: str | None
    link: str | None
    title: str
    body: str
    published: datetime | None
    date_text: str | None  # the date as written, for the dead-letter reason
    author: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    refused: tuple[str, str] | None = None  # (contract field, why): a field's raw text was too long to read


class _Reader:
    """Reads an entry's text fields, refusing unread (and noting why) any far over the body limit."""

    def __init__(self, max_raw_chars: int) -> None:
        self.max_raw_chars = max_raw_chars
        self.refused: tuple[str, str] | None = None

    def fits(self, value: str, field: str, place: str) -> bool:
        if len(value) <= self.max_raw_chars:
            return True
        if self.refused is None:
            why = (
                f"{place!r} is {len(value)} characters, over {self.max_raw_chars} "
                f"({RAW_TEXT_FACTOR} x the body limit): not read"
            )
            self.refused = (field, why)
        return False

    def html(self, value: str, field: str, place: str) -> str:
        return html_to_text(value) if self.fits(value, field, place) else ""

    def plain(self, value: str, field: str, place: str) -> str:
        return normalize_space(value) if self.fits(value, field, place) else ""

    def detail(self, value: Any, detail: Any, field: str, place: str) -> str:
        if not isinstance(value, str) or not self.fits(value, field, place):
            return ""
        return detail_text(value, detail)


def text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def detail_text(value: Any, detail: Any) -> str:
    """A feedparser text construct to plain text, stripping markup only when it is (X)HTML."""
    if not isinstance(value, str) or not value:
        return ""
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    return html_to_text(value) if kind in _HTML_TYPES or kind is None else normalize_space(value)


def from_feedparser(e: dict[str, Any], feed_language: str | None, max_raw_chars: int) -> FeedEntry:
    read = _Reader(max_raw_chars)
    title = read.detail(e.get("title"), e.get("title_detail"), "title", "title")
    body = ""
    for c in e.get("content") or ():  # the full text, when the feed carries it
        text = read.detail(c.get("value"), c, "body", "content")
        if len(text) > len(body):
            body = text
    if not body:
        body = read.detail(e.get("summary"), e.get("summary_detail"), "body", "summary")
    # dict.get, not FeedParserDict.get: the latter quietly maps "updated" to "published" (with a warning)
    published = None
    for key in ("published", "updated", "created"):
        published = _to_utc(dict.get(e, f"{key}_parsed"))
        if published is not None:
            break
    date_text = next(
        (t for t in (text_or_none(dict.get(e, k)) for k in ("published", "updated", "created")) if t), None
    )
    if published is None and date_text:
        published = parse_localized_rfc822(date_text)
    tags = [t for t in (text_or_none(tag.get("term")) for tag in e.get("tags") or () if isinstance(tag, Mapping)) if t]
    detail = e.get("title_detail")
    lang = detail.get("language") if isinstance(detail, Mapping) else None
    return FeedEntry(
        guid=text_or_none(e.get("id")),
        link=text_or_none(e.get("link")),
        title=title,
        body=body,
        published=published,
        date_text=date_text,
        author=text_or_none(e.get("author")),
        tags=tags,
        language=text_or_none(lang) or feed_language,
        refused=read.refused,
    )


def from_json_feed(item: Mapping[str, Any], feed_language: str | None, max_raw_chars: int) -> FeedEntry:
    read = _Reader(max_raw_chars)
    title = read.html(item["title"], "title", "title") if isinstance(item.get("title"), str) else ""
    if isinstance(item.get("content_html"), str):
        body = read.html(item["content_html"], "body", "content_html")
    elif isinstance(item.get("content_text"), str):
        body = read.plain(item["content_text"], "body", "content_text")
    elif isinstance(item.get("summary"), str):
        body = read.plain(item["summary"], "body", "summary")
    else:
        body = ""
    published = None
    date_text = None
    for key in ("date_published", "date_modified"):
        raw = item.get(key)
        if raw is None:
            continue
        date_text = date_text or str(raw)
        try:
            published = parse_timestamp(raw, key).astimezone(UTC)
            break
        except InputError:
            continue
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), Mapping) else [])
    names = [a["name"] for a in authors if isinstance(a, Mapping) and isinstance(a.get("name"), str)]
    tags = [t for t in item.get("tags") or () if isinstance(t, str)]
    guid = item.get("id")
    return FeedEntry(
        guid=text_or_none(guid) if isinstance(guid, (str, int)) else None,
        link=text_or_none(item.get("url")) or text_or_none(item.get("external_url")),
        title=title,
        body=body,
        published=published,
        date_text=date_text,
        author=", ".join(names) or None,
        tags=tags,
        language=text_or_none(item.get("language")) or feed_language,
        refused=read.refused,
    )


def entry_id(entry: FeedEntry, feed_key: str) -> str:
    if entry.guid:
        ident = entry.guid if ":" in entry.guid else f"{feed_key}#{entry.guid}"
    elif entry.link:
        ident = entry.link
    else:
        return "rss-" + stable_id(feed_key, entry.title, entry.body)
    # An id over the contract's limit (a link with a long tracking query, say) is hashed, still stable.
    # (as the contract refuses them in ids: NUL, and control characters, which would reach terminals as they are)
    if len(ident) <= MAX_ID_CHARS and "\x00" not in ident and not has_control(ident):
        return ident
    return "rss-" + stable_id(feed_key, ident)


def repeat_id(doc_id: str, entry: FeedEntry, feed_key: str) -> str:
    """The id of an entry that repeats the id of an earlier entry of the same fetch under another title or link
    (a podcast feed that gave two episodes one guid): the id with a print of its title, link and body, so that it is
    a document of its own, the same on every poll that lists it unchanged (an edit of it is then another document)."""
    ident = f"{doc_id}#{stable_id(entry.title, entry.link or '', entry.body, length=12)}"
    return ident if len(ident) <= MAX_ID_CHARS else "rss-" + stable_id(feed_key, ident)


def entry_name(entry: FeedEntry, number: int) -> str:
    """How a reason names an entry: by what identifies it, not by its position, so that a dead letter's id is stable
    across polls (the position only when nothing else names it)."""
    name = entry.guid or entry.link or entry.title[:80]
    return repr(name) if name else f"#{number}"


def entry_raw(entry: FeedEntry) -> str:
    """What a dead letter keeps of an entry: its id, link, title and date as written."""
    snapshot = {"id": entry.guid, "link": entry.link, "title": entry.title[:200], "date": entry.date_text}
    return _truncate(orjson.dumps(snapshot).decode())


def _truncate(text: str, limit: int = RAW_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def to_item(
    entry: FeedEntry,
    number: int,
    doc_id: str,
    *,
    feed_url: str,
    source_name: str,
    max_body_chars: int,
    seen_at: datetime | None = None,
) -> Document | DeadLetter:
    ident = entry_name(entry, number)
    raw = entry_raw(entry)
    if entry.refused is not None:
        field_name, why = entry.refused
        return DeadLetter(
            origin=feed_url, field=field_name, reason=f"entry {ident}: field '{field_name}': {why}", raw=raw
        )
    claimed = entry.published
    date_text = entry.date_text
    if claimed is not None and seen_at is not None and not EARLIEST <= claimed < LATEST:
        # A feed's typo ("3021") is a date as unusable as one that cannot be read: the news is kept, dated when first
        # seen, as such an entry (outside trial 23, M2-4: dead-lettered, while "2099" or "31/12/2099" were kept).
        date_text = f"{entry.date_text or claimed.isoformat()} (outside {ACCEPTED_YEARS})"
        claimed = None
    published = claimed or seen_at
    if published is None:
        why = f"unparseable date {entry.date_text!r}" if entry.date_text else "no published or updated date"
        return DeadLetter(
            origin=redact_url(feed_url),
            field="published_at",
            reason=f"entry {ident} has no valid date ({why})",
            raw=raw,
        )
    metadata: dict[str, Any] = {}
    if entry.guid:
        metadata["guid"] = entry.guid
    if entry.author:
        metadata["author"] = entry.author
    if entry.tags:
        metadata["tags"] = entry.tags
    if claimed is None:
        metadata["date"] = FIRST_SEEN  # shown with its evidence's time: events.dated_text
        if date_text:
            metadata["date_text"] = date_text[:200]
    obj: dict[str, Any] = {
        "type": "news.article",
        "id": doc_id,
        "published_at": published.isoformat(),
        "source": {"name": source_name, "url": feed_url, "kind": "feed"},
        "title": entry.title,
        "body": entry.body,
        "metadata": metadata,
    }
    if entry.link and entry.link.startswith(("http://", "https://")):  # not a tag: or urn: id standing in
        obj["url"] = entry.link
    if entry.language:
        obj["language"] = entry.language
    try:
        return parse_document(obj, max_body_chars=max_body_chars)
    except InputError as e:
        reason = f"entry {ident}: " + (f"field '{e.field}': {e.message}" if e.field else e.message)
        return DeadLetter(origin=redact_url(feed_url), field=e.field, reason=reason, raw=raw)
