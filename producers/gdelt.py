"""GDELT event exports (1.0 and 2.0; plain or the .zip archives GDELT publishes) -> one input document per event.

GDELT codes news into events: who did what to whom (CAMEO actor and event codes), where, and how widely it was
reported. A row becomes a `news.article` in English whose title is a sentence the rule engine can read
("Russia: Cooperate militarily with North Korea.") and whose body states the coded facts; the row's fields are
kept under `metadata.gdelt`. docs/gdelt.md says what authors of rules should expect of that text.

* Versions are told apart per row by the number of tab-separated columns: 61 is GDELT 2.0; 58 is GDELT 1.0 as
  its daily files have it (since April 2013, with SOURCEURL); 57 is GDELT 1.0's historical backfiles (no URL).
* `published_at`: DATEADDED (2.0: YYYYMMDDHHMMSS UTC; 1.0 daily files: YYYYMMDD, 00:00 UTC), when the event was
  seen in the news. In the backfiles DATEADDED is the day the archive was built (2013), so SQLDATE, the day of the
  event, is used there. SQLDATE is always in the metadata.
* The id is `gdelt:<GLOBALEVENTID>` (the number, leading zeros aside), so reading a file again publishes nothing
  twice.
* The source is the host of SOURCEURL (outlets count as independent for corroboration), the text of SOURCEURL
  when it is a name rather than a URL (1.0 has "BBC Monitoring"), else "GDELT".
* A bad row (another column count, an empty or non-numeric id, a date that cannot be read or is out of the
  accepted years, a negative count, a number that is not a finite one) is a dead letter naming its line and GDELT
  column; the rows around it are read. A file none of whose first rows has GDELT's shape is one dead letter
  (SHAPE_ROWS). Files are read a line at a time, and a .zip member is streamed out of the archive, never loaded whole.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from watchfloor.schemas.events import ACCEPTED_YEARS, EARLIEST, LATEST, DeadLetter, Document
from watchfloor.schemas.gdelt_codes import QUAD_CLASSES, UNKNOWN_COUNTRY, actor_name, event_text
from watchfloor.schemas.inputs import DEFAULT_MAX_BODY_CHARS, InputError, check_document

V1_BACKFILE_COLUMNS = 57
V1_COLUMNS = 58
V2_COLUMNS = 61
COLUMN_COUNTS = (V1_BACKFILE_COLUMNS, V1_COLUMNS, V2_COLUMNS)

SUFFIXES = (".csv", ".tsv", ".txt", ".zip")
"""Names (lower-cased) of the files a folder source reads: GDELT's `*.export.CSV(.zip)`, `*.CSV(.zip)`, `.tsv`."""

RAW_LIMIT = 500
"""How much of an offending row a dead letter keeps."""

SNIFF_BYTES = 1 << 16
"""How much of a file `looks_like_gdelt` reads."""

SHAPE_ROWS = 10
"""A file none of whose first SHAPE_ROWS rows (a header aside) has a GDELT row's column count is no GDELT export
(a labels .csv left in an export folder): it is refused whole with one dead letter, not one per line. A real
export with a broken row or two among the first still has the others, so it is read."""

MAX_ROW_BYTES = 64 * 1024
"""The longest row read (newline included): a GDELT event row is well under 2 KB (61 short fields and a URL). A
longer one is dead-lettered with its line and skipped in pieces of this size, never held whole (trial 16, M1)."""

DEFAULT_MAX_UNZIPPED_BYTES = 16 * 20 * 1024 * 1024
"""How many bytes one export file may expand to (all its members), unless its source says (`max_unzipped_bytes`):
16 × the default download cap of 20 MiB. A real 15-minute GDELT 2.0 export expands about 8 times to a few MB, a
1.0 daily export to a few hundred MB at most; a zip bomb of 150 KB expanded to 150 MiB in one row (trial 16, M1)."""

MAX_ID_DIGITS = 19
"""GLOBALEVENTID is a 64-bit integer: at most 19 digits, leading zeros aside."""

# Column positions (0-based) shared by both versions; the geography blocks differ (2.0 adds ADM2Code to each).
_ID, _SQLDATE = 0, 1
_ACTOR1, _ACTOR2 = 5, 15  # each: Code, Name, CountryCode, KnownGroupCode, Ethnic, Religion1, Religion2, Type1..3
_IS_ROOT, _CODE, _BASE, _ROOT, _QUAD, _GOLDSTEIN = 25, 26, 27, 28, 29, 30
_MENTIONS, _SOURCES, _ARTICLES, _TONE = 31, 32, 33, 34
_GEO = 35


class GdeltSourceError(OSError):
    """A GDELT file or folder that cannot be read at all (missing, unreadable, a broken archive)."""


@dataclass(frozen=True)
class GdeltOptions:
    """Which rows become documents (schemas.config.GdeltSource has the same fields)."""

    root_only: bool = True  # only IsRootEvent = 1: the event of an article's lead paragraph
    min_mentions: int = 1  # NumMentions at least this
    event_codes: tuple[str, ...] = ()  # CAMEO EventCode prefixes to keep ("19", "057"); empty: all
    countries: tuple[str, ...] = ()  # keep a row whose Actor1 or Actor2 CountryCode is one of these; empty: all
    # How far one export file is read, unzipped (all its members): past it the file is given up on, with a dead letter.
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES


@dataclass(frozen=True)
class Lookups:
    """CAMEO names (producers/gdelt_lookups.json, made by scripts/gdelt-lookups from MIT and Apache-2.0 tables)."""

    events: dict[str, str]
    countries: dict[str, str]  # CAMEO country codes (PRK, RUS) -> names
    types: dict[str, str]  # CAMEO actor types (GOV, MIL) -> names
    groups: dict[str, str]  # CAMEO known groups (NAT, UNO) -> names
    fips: dict[str, str]  # FIPS 10-4 country codes of the geography fields (RS, KN) -> names


@lru_cache(maxsize=1)
def lookups() -> Lookups:
    data = json.loads(resources.files("watchfloor.producers").joinpath("gdelt_lookups.json").read_text("utf-8"))
    return Lookups(data["events"], data["countries"], data["types"], data["groups"], data["fips"])


def event_description(code: str, table: Lookups | None = None) -> str:
    """The CAMEO description of an event code as the title says it: "Threaten to use military force" (event_text:
    the codebook's "not specified below" left out, its "not" would read as a negation); an unknown code is itself."""
    text = (table or lookups()).events.get(code)
    if text is None:
        return f"CAMEO event {code}" if code else "Unknown event"
    return event_text(text)


def actor_label(fields: Sequence[str], at: int, table: Lookups) -> str:
    """An actor as the text names it: "Kim Jong Un (North Korea)", "North Korea", "Government", or ""."""
    name = " ".join(fields[at + 1].split())
    country = table.countries.get(fields[at + 2], "")
    if name:
        shown = actor_name(name)  # (GDELT writes names in capitals)
        if country and country.casefold() != shown.casefold():
            return f"{shown} ({country})"
        return shown
    if country:
        return country
    group = table.groups.get(fields[at + 3], "")
    if group:
        return group
    return table.types.get(fields[at + 7], "")


def _geo(fields: Sequence[str], at: int, v2: bool) -> dict[str, str]:
    lat, lon = (at + 5, at + 6) if v2 else (at + 4, at + 5)
    return {
        "type": fields[at],
        "name": fields[at + 1],
        "country": fields[at + 2],
        "adm1": fields[at + 3],
        "lat": fields[lat],
        "long": fields[lon],
    }


def _action_place(geo: dict[str, str], table: Lookups) -> str:
    if geo["name"]:
        return geo["name"]
    return table.fips.get(geo["country"], geo["country"])


def _date(text: str, field: str) -> datetime:
    """YYYYMMDDHHMMSS or YYYYMMDD (GDELT's dates, always UTC) -> an aware datetime, else InputError naming the
    column (also for a year a document may not have: said here, the dead letter names DATEADDED or SQLDATE, not
    the `published_at` it would have become)."""
    t = text.strip()
    if len(t) not in (8, 14) or not (t.isascii() and t.isdigit()):
        raise InputError(f"{t[:40]!r} is not a date (YYYYMMDD or YYYYMMDDHHMMSS)", field)
    try:
        if len(t) == 14:
            at = datetime(int(t[:4]), int(t[4:6]), int(t[6:8]), int(t[8:10]), int(t[10:12]), int(t[12:]), tzinfo=UTC)
        else:
            at = datetime(int(t[:4]), int(t[4:6]), int(t[6:8]), tzinfo=UTC)
    except ValueError as e:
        raise InputError(f"{t!r} is not a date: {e}", field) from None
    if not EARLIEST <= at < LATEST:
        raise InputError(f"{t!r} is outside {ACCEPTED_YEARS}", field)
    return at


_WHOLE = re.compile(r"[+-]?[0-9]+")
# A decimal number as GDELT writes one; Python's float() would also take "nan", "inf", "1_0" and other digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _count(fields: Sequence[str], at: int, field: str) -> int | None:
    """A count (NumMentions, NumSources, NumArticles): 0 or more, None when empty; a negative one is a broken row,
    not a row that min_mentions leaves out unseen."""
    text = fields[at].strip()
    if not text:
        # Not coded, as an empty AvgTone is (outside trial 82): not 0, which the metadata and `rules explain` would
        # state as a fact of the event ("0 sources"). The conditions on it leave it out as they left out the 0.
        return None
    if not _WHOLE.fullmatch(text):
        raise InputError(f"{text[:40]!r} is not a whole number", field)
    try:
        value = int(text)
    except ValueError:  # more digits than int() converts
        raise InputError(f"{text[:40]!r}… is not a whole number GDELT writes", field) from None
    if value < 0:
        raise InputError(f"{text[:40]!r} is negative (a count is 0 or more)", field)
    return value


_CAMEO_CODE = re.compile(r"[0-9]{2,4}")
_COUNTRY_CODE = re.compile(r"[A-Z]{3}")


def _coded(fields: Sequence[str], at: int, field: str) -> str:
    """An event code (EventCode, EventBaseCode, EventRootCode: 2 to 4 digits, as CAMEO writes them) or empty. A row
    with another was kept and matched (an EventCode 'ABC' raised an alert: outside trial 82, M1); it is a broken
    row, dead-lettered with its column, as a bad GoldsteinScale is."""
    text = fields[at].strip()
    if text and not _CAMEO_CODE.fullmatch(text):
        raise InputError(f"{text[:40]!r} is not a CAMEO event code (2 to 4 digits)", field)
    return text


def _checked_countries(fields: Sequence[str]) -> None:
    """The actors' CountryCode: 3 capital letters or empty, else a broken row, as a QuadClass out of 1 to 4 is (one of
    7 raised an alert: outside trial 82, M1). A well-formed code the CAMEO table lacks is kept: GDELT writes some the
    published table lacks (SSD, South Sudan, in the 2016 daily sample), and the row is no less an event for it."""
    for at, field in ((_ACTOR1 + 2, "Actor1CountryCode"), (_ACTOR2 + 2, "Actor2CountryCode")):
        text = fields[at].strip()
        if text and not _COUNTRY_CODE.fullmatch(text):
            raise InputError(f"{text[:40]!r} is not a CAMEO country code (3 capital letters)", field)


def _number(fields: Sequence[str], at: int, field: str) -> float | None:
    """A score (GoldsteinScale, AvgTone), None when empty. "nan" and "inf" are no score: the text would say one
    the metadata (JSON: null) does not."""
    text = fields[at].strip()
    if not text:
        return None
    value = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not math.isfinite(value):  # not a number, or one too large for a float ("1e999")
        raise InputError(f"{text[:40]!r} is not a number", field)
    return value


# A URL scheme leading the text ("javascript:", "data:", "mailto:"), then no space: an address, not a name
# (1.0's names, such as "BBC Monitoring", have no such prefix).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")


def _source(url_field: str) -> tuple[str | None, str]:
    """(url, source name) from SOURCEURL: an http(s) URL's host; the text when it is a name rather than a URL
    (1.0 names some sources: "BBC Monitoring"); else "GDELT", with no url: an address of another scheme
    (`javascript:`, `file:`) is neither kept nor shown as the name of an outlet."""
    text = url_field.strip()
    if not text:
        return None, "GDELT"
    if _SCHEME.match(text) is None:
        return None, " ".join(text.split())[:200]
    parts = urlsplit(text)
    if parts.scheme.lower() in ("http", "https") and "://" in text and parts.hostname:
        host = parts.hostname.lower()
        return text, host.removeprefix("www.")
    return None, "GDELT"


def _event_id(text: str) -> str | None:
    """GLOBALEVENTID as a canonical number ("0017" -> "17", so one event has one document id), None when it is
    not one. GDELT's ids are 64-bit integers."""
    t = text.strip()
    if not (t.isascii() and t.isdigit()):
        return None
    canonical = t.lstrip("0") or "0"
    return canonical if len(canonical) <= MAX_ID_DIGITS else None


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _plural(n: int | None, word: str) -> str:
    if n is None:
        return f"an unknown number of {word}s"
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _left_out(fields: Sequence[str], options: GdeltOptions, mentions: int | None) -> str | None:
    """Which of the options leaves a row out, said as `rules explain` says a rule's condition (None: kept)."""
    if options.root_only and (root := fields[_IS_ROOT].strip()) != "1":
        return f"IsRootEvent {root or 'empty'} is left out by root_only: true (only the event of an article's lead)"
    # (an empty NumMentions is left out by any min_mentions above 0, as the 0 it was read as was)
    if (0 if mentions is None else mentions) < options.min_mentions:
        said = "empty" if mentions is None else str(mentions)
        return f"NumMentions {said} is below min_mentions: {options.min_mentions}"
    if options.event_codes and not (code := fields[_CODE].strip()).startswith(options.event_codes):
        return f"EventCode {code or 'empty'} starts with none of event_codes: {_listed(options.event_codes)}"
    if options.countries:
        wanted = options.countries
        a1, a2 = fields[_ACTOR1 + 2], fields[_ACTOR2 + 2]
        if a1 not in wanted and a2 not in wanted:
            return (
                f"actor countries {a1 or UNKNOWN_COUNTRY} and {a2 or UNKNOWN_COUNTRY} are none of countries: "
                f"{_listed(tuple(c or UNKNOWN_COUNTRY for c in wanted))}"
            )
    return None


def _listed(values: Sequence[str]) -> str:
    return "[" + ", ".join(values) + "]"


def left_out_by(fields: Sequence[str], options: GdeltOptions) -> str | None:
    """Why the options leave a row out (the filter, the row's value), or None when they keep it or it is a bad row
    (a dead letter, which says its own reason)."""
    try:
        return _left_out(fields, options, _count(fields, _MENTIONS, "NumMentions"))
    except (InputError, IndexError):
        return None


def row_to_document(
    fields: Sequence[str],
    *,
    origin: str,
    line: int,
    options: GdeltOptions = GdeltOptions(),
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    table: Lookups | None = None,
) -> Document | DeadLetter | None:
    """One row's fields -> its Document, a DeadLetter (line and field at fault), or None when the options leave
    it out."""
    n = len(fields)
    if n not in COLUMN_COUNTS:
        return _dead(
            origin,
            line,
            "columns",
            _columns_reason(n),
            fields,
        )
    given = fields[_ID].strip()
    if not given:
        return _dead(origin, line, "GLOBALEVENTID", "is empty", fields)
    event_id = _event_id(given)
    if event_id is None:
        return _dead(origin, line, "GLOBALEVENTID", f"{given[:40]!r} is not a GDELT event id (digits)", fields)
    t = table or lookups()
    try:
        mentions = _count(fields, _MENTIONS, "NumMentions")
        if _left_out(fields, options, mentions) is not None:
            return None
        return _document(fields, n, event_id, mentions, t, max_body_chars)
    except InputError as e:
        return _dead(origin, line, e.field, e.message, fields)


def _document(
    fields: Sequence[str], n: int, event_id: str, mentions: int | None, t: Lookups, max_body_chars: int
) -> Document:
    v2 = n == V2_COLUMNS
    width = 8 if v2 else 7
    action_at = _GEO + 2 * width
    event_day = _date(fields[_SQLDATE], "SQLDATE")
    if n == V1_BACKFILE_COLUMNS:
        published = event_day
        url: str | None
        url, source = None, "GDELT"
    else:
        published = _date(fields[action_at + width], "DATEADDED")
        url, source = _source(fields[action_at + width + 1])
    sources = _count(fields, _SOURCES, "NumSources")
    articles = _count(fields, _ARTICLES, "NumArticles")
    goldstein = _number(fields, _GOLDSTEIN, "GoldsteinScale")
    tone = _number(fields, _TONE, "AvgTone")
    code = _coded(fields, _CODE, "EventCode")
    _coded(fields, _BASE, "EventBaseCode")
    root = _coded(fields, _ROOT, "EventRootCode")
    quad = fields[_QUAD].strip()
    if quad not in ("", "1", "2", "3", "4"):
        raise InputError(f"{quad[:40]!r} is not a QuadClass (1 to 4)", "QuadClass")
    _checked_countries(fields)
    action = _geo(fields, action_at, v2)

    actor1 = actor_label(fields, _ACTOR1, t)
    actor2 = actor_label(fields, _ACTOR2, t)
    what = event_description(code, t)
    # "Russia: Cooperate militarily with North Korea." The codebook's descriptions are verb phrases without
    # a subject; the colon after the actor keeps them a statement of what was coded, which the modality reader
    # hears as asserted unless the description's own words say otherwise (docs/gdelt.md, "Modality").
    title = f"{actor1}: {what}" if actor1 else what
    if actor2:
        title += f" with {actor2}"
    if source != "GDELT":
        title += f" ({source})"
    # Facts that differ between two outlets' reports of one coded event (the outlet, the event id, the article's
    # tone and address) stand apart from each other: texts that are word for word the same but for a word or two
    # would be one wire story to corroboration (engine/stories.py), and independent outlets must count as such.
    facts = [
        f"GDELT event {event_id}",
        f"CAMEO code {code or 'unknown'} (root {root or 'unknown'}"
        + (f", {QUAD_CLASSES[quad]})" if quad in QUAD_CLASSES else ")"),
        f"Goldstein scale {_fmt(goldstein)}",
        f"average tone {_fmt(tone)}",
        f"{_plural(mentions, 'mention')} in {_plural(sources, 'source')} and {_plural(articles, 'article')}",
    ]
    place = _action_place(action, t)
    if place:
        facts.append(f"action in {place}")
    facts.append(f"event date {event_day.date().isoformat()}")
    body = "; ".join(facts) + "."
    if url is not None:
        body += f"\nSource article: {url}"

    def actor(at: int) -> dict[str, str]:
        return {
            "code": fields[at],
            "name": fields[at + 1],
            "country": fields[at + 2],
            "group": fields[at + 3],
            "type": fields[at + 7],
        }

    meta = {
        "gdelt": {
            "version": 2 if v2 else 1,
            "event_id": event_id,
            "sql_date": fields[_SQLDATE].strip(),
            "date_added": "" if n == V1_BACKFILE_COLUMNS else fields[action_at + width].strip(),
            "is_root": fields[_IS_ROOT].strip() == "1",
            "event_code": code,
            "base_code": fields[_BASE].strip(),
            "root_code": root,
            "quad_class": int(quad) if quad.isdigit() else None,
            "goldstein": goldstein,
            "mentions": mentions,
            "sources": sources,
            "articles": articles,
            "avg_tone": tone,
            "actor1": actor(_ACTOR1),
            "actor2": actor(_ACTOR2),
            "action_geo": action,
        }
    }
    obj: dict[str, Any] = {
        "id": f"gdelt:{event_id}",
        "type": "news.article",
        "published_at": published.isoformat(),
        "source": source,
        "title": title,
        "body": body,
        "language": "en",
        "metadata": meta,
    }
    if url is not None:
        obj["url"] = url
    return check_document(obj, max_body_chars=max_body_chars).build()


def _dead(origin: str, line: int, field: str | None, message: str, fields: Sequence[str]) -> DeadLetter:
    reason = f"field '{field}': {message}" if field else message
    raw = "\t".join(fields)  # the row as read, joined only for a dead letter
    text = raw if len(raw) <= RAW_LIMIT else raw[:RAW_LIMIT] + "…"
    return DeadLetter(origin=origin, line=line, field=field, reason=reason, raw=text)


# -- files -------------------------------------------------------------------------------------------------------


def export_files(path: str | Path) -> list[Path]:
    """The files a GDELT source reads: the file itself, or a folder's export files (SUFFIXES, not hidden), in
    name order (GDELT names its files by time). Raises GdeltSourceError when the path is neither."""
    p = Path(path)
    if p.is_file():
        return [p]
    if p.is_dir():
        try:
            names = sorted(os.listdir(p))
        except OSError as e:
            raise GdeltSourceError(f"cannot list GDELT folder {path}: {e.strerror or e}") from e
        return [p / n for n in names if not n.startswith(".") and n.lower().endswith(SUFFIXES) and (p / n).is_file()]
    if not p.exists():
        raise GdeltSourceError(f"GDELT file or folder not found: {path}")
    raise GdeltSourceError(f"GDELT source is neither a file nor a folder: {path}")


def _members(path: Path, check_limit: int | None = None) -> Generator[tuple[str, IO[bytes]]]:
    """(origin, binary stream) of a file: itself, or each file inside a .zip (streamed out of the archive; checked
    whole first with `check_limit`, _zip_members)."""
    try:
        # By name too: a .zip still being downloaded is no zip yet, and must fail (and be read again), not be text.
        is_zip = path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)
    except OSError as e:
        raise GdeltSourceError(f"cannot read GDELT file {path}: {e.strerror or e}") from e
    if not is_zip:
        try:
            f = open(path, "rb")
        except OSError as e:
            raise GdeltSourceError(f"cannot read GDELT file {path}: {e.strerror or e}") from e
        with f:
            yield str(path), f
        return
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise GdeltSourceError(f"cannot read GDELT archive {path}: {e}") from e
    yield from _zip_members(archive, str(path), check_limit)


def _zip_members(
    archive: zipfile.ZipFile, label: str, check_limit: int | None = None
) -> Generator[tuple[str, IO[bytes]]]:
    """(`label:member`, binary stream) of each file inside an open archive (closed at the end), streamed. With
    `check_limit`, every member is first read through (at most that many bytes in all) and its CRC checked: a damaged
    archive raises GdeltSourceError before any row of it is given, so none of its rows is used (trial 59, MED-4)."""
    with archive:
        if check_limit is not None:
            _check_archive(archive, label, check_limit)
        for info in archive.infolist():
            if info.is_dir():
                continue
            try:
                member = archive.open(info)
            except (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as e:
                raise GdeltSourceError(f"cannot read {info.filename} in GDELT archive {label}: {e}") from e
            with member:
                yield f"{label}:{info.filename}", member


def _check_archive(archive: zipfile.ZipFile, label: str, limit: int) -> None:
    """Read each member of `archive` through, at most `limit` bytes in all (past it, the reading budget says so):
    raises GdeltSourceError naming the file and the member when one is damaged (a bad CRC, a broken deflate stream)."""
    total = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        try:
            with archive.open(info) as member:  # a CRC that does not match raises at the member's end
                while piece := member.read(_CHECK_PIECE):
                    total += len(piece)
                    if total > limit:
                        return
        except zlib.error as e:  # GDELT's own copy can be broken so (trial 59, HIGH-2): not BadZipFile
            raise GdeltSourceError(f"cannot read GDELT archive {label}, member {info.filename}: zlib: {e}") from e
        except (OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as e:
            raise GdeltSourceError(f"cannot read GDELT archive {label}, member {info.filename}: {e}") from e


_CHECK_PIECE = 1 << 20


@dataclass
class LeftOut:
    """Rows a read passed over because the source's filters do not keep them (a backtest says "0 of N rows kept":
    a filter that kept nothing is no empty file; outside trial 65, MED-5)."""

    rows: int = 0
    # The first KEEP_LEFT_OUT of them, each (file, line, event id, which filter: left_out_by): `rules explain` says
    # why a row it was asked about is no document (outside trial 85, F17: "no documents in it").
    first: list[tuple[str, int, str, str]] = dataclass_field(default_factory=list)


KEEP_LEFT_OUT = 20


def read_gdelt(
    path: str | Path,
    *,
    options: GdeltOptions = GdeltOptions(),
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    places: dict[str, tuple[str, int]] | None = None,
    left_out: LeftOut | None = None,
) -> Iterator[tuple[int, Document | DeadLetter]]:
    """(line, document or dead letter) of every row of a GDELT export file (plain or .zip) or of every export file
    in a folder, in order; rows the options leave out and blank lines give nothing, and a header row (first field
    GLOBALEVENTID) is skipped. A dead letter's origin is the file (`archive.zip:member` inside an archive).

    Raises GdeltSourceError when a file cannot be opened or read to its end; rows already yielded stand. `places`:
    read_gdelt_archive's. `left_out`: counts the rows the options leave out."""
    files = export_files(path)  # at the call, not at the first next(): a missing path fails here
    return _read_files(files, options, max_body_chars, places, left_out)


def _read_files(
    files: list[Path],
    options: GdeltOptions,
    max_body_chars: int,
    places: dict[str, tuple[str, int]] | None = None,
    left_out: LeftOut | None = None,
) -> Iterator[tuple[int, Document | DeadLetter]]:
    table = lookups()
    for file in files:
        members = _members(file, options.max_unzipped_bytes)
        yield from _read_members(members, options, max_body_chars, table, places, left_out)


class _Budget:
    """The bytes one export file may still be read for, across its members (options.max_unzipped_bytes)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.read = 0

    def take(self, n: int) -> bool:
        """Count `n` more bytes read; False once the file is past its limit."""
        self.read += n
        return self.read <= self.limit


def _read_members(
    members: Iterator[tuple[str, IO[bytes]]],
    options: GdeltOptions,
    max_body_chars: int,
    table: Lookups,
    places: dict[str, tuple[str, int]] | None = None,
    left_out: LeftOut | None = None,
) -> Iterator[tuple[int, Document | DeadLetter]]:
    """The rows of each (origin, stream), as _read_stream gives them; a stream that fails part way (a truncated
    archive, a failing disk) raises GdeltSourceError, the rows before it standing. `places`: read_gdelt_archive's."""
    budget = _Budget(options.max_unzipped_bytes)
    for origin, stream in members:
        try:
            rows = _read_stream(stream, origin, options, max_body_chars, table, budget, left_out)
            if places is None:
                yield from rows
            else:
                for at, item in rows:
                    if isinstance(item, Document):
                        places[item.id] = (origin, at)
                    yield at, item
        except zlib.error as e:  # a broken deflate stream (checked archives fail before this)
            raise GdeltSourceError(f"cannot read GDELT file {origin}: zlib: {e}") from e
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise GdeltSourceError(f"cannot read GDELT file {origin}: {e}") from e
        if budget.read > budget.limit:
            return  # given up on: the file's later members are not read either


def _too_big(origin: str, line: int, budget: _Budget) -> DeadLetter:
    return DeadLetter(
        origin=origin,
        line=line,
        field="max_unzipped_bytes",
        reason=(
            f"the export expands past max_unzipped_bytes ({budget.limit:,} bytes unzipped; a real export is a few MB): "
            "the rest of the file is not read"
        ),
    )


def _read_stream(
    stream: IO[bytes],
    origin: str,
    options: GdeltOptions,
    max_body_chars: int,
    table: Lookups,
    budget: _Budget | None = None,
    left_out: LeftOut | None = None,
) -> Iterator[tuple[int, Document | DeadLetter]]:
    budget = budget or _Budget(options.max_unzipped_bytes)
    line = 0
    # The first rows are held until one has a GDELT row's shape (SHAPE_ROWS): if none has, the file is refused.
    held: list[tuple[int, list[str]]] | None = []
    while True:
        # A row at most MAX_ROW_BYTES long, never more: `for raw in stream` read a row with no newline whole (a zip
        # member of 150 MiB of one row took 470 MB; trial 16, M1).
        raw = stream.readline(MAX_ROW_BYTES)
        if not raw:
            break
        line += 1
        if not budget.take(len(raw)):
            yield line, _too_big(origin, line, budget)
            return
        # (A zip member's readline can return a few hundred bytes past its limit: ZipExtFile peeks ahead.)
        ended = raw.endswith(b"\n")
        if len(raw) > MAX_ROW_BYTES or (len(raw) == MAX_ROW_BYTES and not ended):
            size = len(raw)
            while not ended:  # the rest of the row, a piece at a time, counted against the file's budget
                piece = stream.readline(MAX_ROW_BYTES)
                size += len(piece)
                if not budget.take(len(piece)):
                    yield line, _too_big(origin, line, budget)
                    return
                ended = not piece or piece.endswith(b"\n")
            if size > MAX_ROW_BYTES:  # (else a last row of exactly MAX_ROW_BYTES with no newline: read below)
                yield line, _row_too_long(origin, line, size, raw)
                continue
        # GDELT writes UTF-8; a stray byte costs its character (U+FFFD), not the event.
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if line == 1:
            # A byte-order mark (a copy saved by a spreadsheet or an editor as "UTF-8 with BOM") is no part of the
            # first row: kept, it made the first event's id '\ufeff564111644', a dead letter (outside trial 85, F13).
            text = text.removeprefix("\ufeff")
        if not text.strip():
            continue
        fields = text.split("\t")
        if line == 1 and fields[0].strip().upper() == "GLOBALEVENTID":
            continue  # a header someone added (GDELT's own files have none)
        if held is not None:
            held.append((line, fields))
            if len(fields) not in COLUMN_COUNTS:
                if len(held) < SHAPE_ROWS:
                    continue
                yield held[0][0], _not_an_export(origin, held)
                return
            rows, held = held, None
        else:
            rows = [(line, fields)]
        for at, row in rows:
            item = row_to_document(
                row, origin=origin, line=at, options=options, max_body_chars=max_body_chars, table=table
            )
            if item is not None:
                yield at, item
            elif left_out is not None:
                left_out.rows += 1
                if len(left_out.first) < KEEP_LEFT_OUT and (why := left_out_by(row, options)) is not None:
                    left_out.first.append((origin, at, f"gdelt:{_event_id(row[_ID].strip())}", why))
    if held:
        yield held[0][0], _not_an_export(origin, held)


def _row_too_long(origin: str, line: int, size: int, start: bytes) -> DeadLetter:
    shown = start[:RAW_LIMIT].decode("utf-8", errors="replace")
    return DeadLetter(
        origin=origin,
        line=line,
        reason=f"row of {size:,} bytes, over the limit of {MAX_ROW_BYTES:,} (a GDELT event row is under 2 KB): skipped",
        raw=shown + "…",
    )


def _not_an_export(origin: str, held: list[tuple[int, list[str]]]) -> DeadLetter:
    """The one dead letter of a file whose first rows are none of them GDELT's (SHAPE_ROWS); a file of one row is
    that row's own dead letter (one either way)."""
    line, first = held[0]
    if len(held) == 1:
        return _dead(origin, line, "columns", _columns_reason(len(first)), first)
    counts = sorted({len(f) for _n, f in held})
    found = ", ".join(map(str, counts[:5])) + (", …" if len(counts) > 5 else "")
    return _dead(
        origin,
        line,
        "columns",
        f"not a GDELT event export: none of its first {len(held)} rows has the 61 (2.0), 58 or 57 (1.0) "
        f"tab-separated columns of a GDELT event row (they have {found}); the file is not read",
        first,
    )


def _columns_reason(n: int) -> str:
    return f"{n} tab-separated columns; a GDELT event row has 61 (2.0), 58 or 57 (1.0)"


def read_gdelt_archive(
    data: bytes,
    origin: str,
    *,
    options: GdeltOptions = GdeltOptions(),
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS,
    places: dict[str, tuple[str, int]] | None = None,
) -> Iterator[tuple[int, Document | DeadLetter]]:
    """(line, document or dead letter) of every row of a GDELT .zip held in memory (an export downloaded by
    gdelt_live.py), as read_gdelt reads one on disk; a dead letter's origin is `origin:member`. Raises
    GdeltSourceError when the archive cannot be read to its end; rows already yielded stand. `places`, when given,
    is filled with each document's place (id -> (`origin:member`, line)): where a dead letter the log makes of it
    later (a re-listed event with other counts) says it was read (publish.ingest's `places`)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (OSError, zipfile.BadZipFile) as e:
        raise GdeltSourceError(f"cannot read GDELT archive {origin}: {e}") from e
    yield from _read_members(
        _zip_members(archive, origin, options.max_unzipped_bytes), options, max_body_chars, lookups(), places
    )


def looks_like_gdelt(path: str) -> bool:
    """Whether a file (or a .zip, or a folder of them) holds GDELT event rows: tab-separated, 57, 58 or 61 columns,
    the first of them digits. What `--source-kind auto` asks of a .csv, .tsv or .txt file."""
    try:
        files = export_files(path)
    except OSError:
        return False
    return bool(files) and _not_gdelt(files[0]) is None


def not_gdelt(path: str | Path) -> str | None:
    """Why a file does not look like a GDELT export (its first row: "first row: 9 tab-separated column(s)"), None when
    it does."""
    return _not_gdelt(Path(path))


def _not_gdelt(file: Path) -> str | None:
    """Why a file does not look like a GDELT export (its first row), None when it does."""
    try:
        members = _members(file)
        try:
            _origin, stream = next(members)
            head = stream.read(SNIFF_BYTES)
        finally:
            members.close()
    except StopIteration:
        return "an empty archive"
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as e:
        return f"cannot be read: {e}"
    head = head.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is no part of the first row (_read_stream)
    lines = [x for x in head.split(b"\n")[:-1] if x.strip()] or [head]  # whole lines, else the one given
    first = lines[1] if lines[0].upper().startswith(b"GLOBALEVENTID") and len(lines) > 1 else lines[0]
    fields = first.rstrip(b"\r").split(b"\t")
    if len(fields) not in COLUMN_COUNTS:
        return f"first row: {len(fields)} tab-separated column(s)"
    if not fields[0].strip().isdigit():
        return "first row: no GLOBALEVENTID first"
    return None


AUTO_LISTED = 5
"""How many of a folder's files `auto_folder_problem` names."""


def auto_folder_problem(path: str) -> str | None:
    """Why `--source-kind auto` cannot read a folder as GDELT exports, None when it can: a folder is never JSON
    Lines nor a feed, so auto reads it as GDELT's when it holds a .zip (GDELT's own form, readable yet or not: a
    download cut short fails as a GDELT file, and is read again) or a file whose first row is a GDELT row. An empty
    folder, or one of other files, is said as such rather than read as nothing (or, formerly, as JSON Lines)."""
    try:
        files = export_files(path)
    except GdeltSourceError as e:
        return str(e)
    if not files:
        return (
            f"no GDELT export files in {path} (files ending {', '.join(SUFFIXES)}); --source-kind gdelt reads a "
            "folder with none as nothing new"
        )
    why: list[str] = []
    for file in files:
        if file.suffix.lower() == ".zip":
            return None
        reason = _not_gdelt(file)
        if reason is None:
            return None
        why.append(f"{file.name} ({reason})")
    more = f", and {len(why) - AUTO_LISTED} more" if len(why) > AUTO_LISTED else ""
    return (
        f"{path} holds no file auto can read: {', '.join(why[:AUTO_LISTED])}{more}; a GDELT export's rows have 61, "
        "58 or 57 tab-separated columns, GLOBALEVENTID first"
    )
