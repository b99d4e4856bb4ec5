"""The input contract (DESIGN §4): turn one user-supplied JSON object into a Document, or say why not."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol, overload

import msgspec
import orjson
from pydantic import ValidationError

from .events import ACCEPTED_YEARS, DOCUMENT_TYPES, EARLIEST, LATEST, Document, Issuer, SourceRef, joined_text
from .fast import trusted_maker

DEFAULT_MAX_BODY_CHARS = 200_000

# -- what the contract accepts (README "Input": keep the two in step) ------------------------------------------
# Bounds keep one record from stopping the others: a record nested 300 deep could not be stored, one nested
# 1,000 deep could not be read back, a year-9999 date could not be formatted. Each is a dead letter instead.
MAX_RECORD_BYTES = 4 * 1024 * 1024
"""One JSON line, in bytes (raised to 8 bytes per body character when max_body_chars is set above 524,288)."""
MAX_TITLE_CHARS = 2_000
MAX_ID_CHARS = 512  # at most 2,048 bytes of UTF-8: within what every store can index (stores/errors.py)
MAX_URL_CHARS = 8_192  # `url` and `source.url`
MAX_NAME_CHARS = 512  # `source.name`, `issuer.name`
MAX_SHORT_CHARS = 64  # `language`, `source.kind`, `issuer.country`
MAX_METADATA_BYTES = 65_536  # `metadata` written as compact JSON
MAX_METADATA_DEPTH = 16  # objects and arrays inside `metadata` (metadata itself is depth 1)
# EARLIEST, LATEST (exclusive; far from datetime's year-9999 edge, so windows fit): schemas/events.py
_EARLIEST_TS = EARLIEST.timestamp()
_LATEST_TS = LATEST.timestamp()


def max_record_bytes(max_body_chars: int = DEFAULT_MAX_BODY_CHARS) -> int:
    """The byte limit of one JSON line for a given body limit."""
    return max(MAX_RECORD_BYTES, 8 * max_body_chars)


class InputError(ValueError):
    """A record that breaks the input contract. `field` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"field '{self.field}': {self.message}" if self.field else self.message


def parse_timestamp(value: Any, field: str = "published_at") -> datetime:
    """An ISO-8601 timestamp that must carry a UTC offset (naive times are ambiguous across desks)."""
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be an ISO-8601 string with a UTC offset", field)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        # RFC 3339 as msgspec reads it (so the JSON fast path, which decodes with msgspec, gives the same
        # time: digits past the microsecond are rounded), other ISO-8601 forms as Python does.
        ts = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        try:
            ts = datetime.fromisoformat(text)
        except ValueError:
            # A timestamp in the right form whose date or time cannot be (2024-02-30) is said as such, not as a form
            # that is wrong (trial 35, L2); the fault comes before the first ':' so a dead letter's /metrics class
            # (web/activity.reason_class) is the same for every such date.
            raise InputError(f"{_out_of_range(text) or 'not an ISO-8601 timestamp'}: {value!r}", field) from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        # A date alone (`2024-06-19`, also `2024-06-19+00:00`, whose offset Python reads past) is said as one.
        if _has_time_of_day(text):
            what = "has no UTC offset"
        elif _DATE_WITH_OFFSET.match(text):
            what = "is a date and an offset, with no time of day"
        else:
            what = "is a date only, with no time of day or UTC offset"
        raise InputError(f"timestamp {what}: {value!r} (write e.g. {_with_offset(text, ts)})", field)
    if not _EARLIEST_TS <= ts.timestamp() < _LATEST_TS:
        raise InputError(f"{value!r} is outside {ACCEPTED_YEARS}", field)
    return ts


# The ISO-8601 forms parse_timestamp reads (extended or basic), each part as digits, to say which is out of range.
_ISO_PARTS = re.compile(
    r"^(?P<y>\d{4})(-?)(?P<m>\d{2})\2(?P<d>\d{2})"
    r"(?:[Tt _](?P<H>\d{2})(?::?(?P<M>\d{2})(?::?(?P<S>\d{2})(?:[.,]\d+)?)?)?)?"
    r"(?P<off>[+-](?P<oh>\d{2})(?::?(?P<om>\d{2}))?(?::?\d{2}(?:[.,]\d+)?)?)?$"
)
_MONTHS = ("January February March April May June July August September October November December").split()


def _out_of_range(text: str) -> str | None:
    """What is wrong with a timestamp written in an ISO-8601 form whose date, time of day or offset is out of range
    ("not a date: 2024-02-30 has no such day (February 2024 has 29 days)"); None when it is not in such a form."""
    import calendar

    m = _ISO_PARTS.match(text)
    if m is None:
        return None
    year, month, day = int(m["y"]), int(m["m"]), int(m["d"])
    date = f"{m['y']}-{m['m']}-{m['d']}"
    if not 1 <= month <= 12:
        return f"not a date: {date} has no month {m['m']} (months are 01 to 12)"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return f"not a date: {date} has no such day ({_MONTHS[month - 1]} {year} has {days} days)"
    for part, name, top in (("H", "hour", 23), ("M", "minute", 59), ("S", "second", 59)):
        if m[part] is not None and int(m[part]) > top:
            return f"not a time of day: {name} {m[part]} is not 00 to {top}"
    if m["off"] is not None and (int(m["oh"]) > 23 or int(m["om"] or 0) > 59):
        return f"not a UTC offset: {m['off']} is not within -23:59 to +23:59"
    return None


def _has_time_of_day(text: str) -> bool:
    return "T" in text.upper() or " " in text


def _with_offset(text: str, naive: datetime) -> str:
    """What to write instead of a naive timestamp, a value parse_timestamp accepts: the text with `+00:00` added
    when that is one, else the time it was read as, in full. A date takes no offset after it (`2024-06-19+00:00`
    is read as naive): `2024-06-19T00:00:00+00:00`."""
    if _has_time_of_day(text):
        try:
            if datetime.fromisoformat(text + "+00:00").utcoffset() is not None:
                return text + "+00:00"
        except ValueError:
            pass
    dated = _DATE_WITH_OFFSET.match(text)
    if dated:  # `2024-06-19+03:00`: Python reads the offset as a time of day (03:00); midnight at that offset
        return f"{dated.group(1)}T00:00:00{dated.group(2)}"
    return naive.replace(tzinfo=UTC).isoformat()


_DATE_WITH_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})([+-]\d{2}:\d{2})$")


def _check_text(value: Any, field: str, limit: int) -> None:
    if value is not None:
        if not isinstance(value, str):
            raise InputError("must be a string", field)
        if len(value) > limit:
            raise InputError(f"is {len(value)} characters, over the limit of {limit}", field)


def metadata_too_deep(value: Any, limit: int = MAX_METADATA_DEPTH) -> bool:
    """Whether objects and arrays nest deeper than `limit` in `value` (an object is depth 1). Iterative:
    a hostile record must not exhaust the interpreter's stack while being checked."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _check_metadata(metadata: Any) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise InputError("must be an object", "metadata")
    if metadata_too_deep(metadata):
        raise InputError(f"nests objects and arrays deeper than {MAX_METADATA_DEPTH} levels", "metadata")
    try:
        size = len(orjson.dumps(metadata))
    except TypeError as e:  # orjson.JSONEncodeError, e.g. a lone surrogate in a key
        raise InputError(f"cannot be stored as JSON: {e}", "metadata") from None
    if size > MAX_METADATA_BYTES:
        raise InputError(f"is {size} bytes as JSON, over the limit of {MAX_METADATA_BYTES}", "metadata")


# `feed` (events.SourceRef) is what the producer stamps from the configuration: a record's own is accepted, so a
# document dumped from a store reads back as input, and ignored (_source_ref), so no record chooses what it counts as.
_SOURCE_KEYS = frozenset({"name", "url", "kind", "feed"})


def _check_source(value: Any) -> str:
    """Check `source` (a name, or an object {name, url, kind}; a `feed` is ignored) and return the name."""
    if isinstance(value, str):
        name = value.strip()
        if not name:
            raise InputError("must not be empty", "source")
        _check_text(name, "source", MAX_NAME_CHARS)
        return name
    if isinstance(value, dict):
        extra = set(value) - _SOURCE_KEYS
        if extra:
            raise InputError(f"unknown field(s) {', '.join(sorted(extra))} (allowed: name, url, kind)", "source")
        given = value.get("name")
        if not isinstance(given, str) or not given.strip():
            raise InputError("is required: a non-empty string", "source.name")
        _check_text(given, "source.name", MAX_NAME_CHARS)
        _check_text(value.get("url"), "source.url", MAX_URL_CHARS)
        _check_text(value.get("kind"), "source.kind", MAX_SHORT_CHARS)
        return given
    raise InputError("must be a string or an object {name, url, kind}", "source")


def _source_ref(value: Any, feed: str | None = None) -> SourceRef:
    if isinstance(value, str):
        return _make_source({"name": visible_text(value.strip()), "url": None, "kind": None, "feed": feed})
    return _make_source(
        {"name": visible_text(value["name"]), "url": value.get("url"), "kind": value.get("kind"), "feed": feed}
    )


# Control characters other than tab and line breaks: none belongs in news text, and ESC sequences from a feed
# would reach an operator's terminal (clear the screen, forge lines, plant links: security review, finding 6)
# through the console notifier, `backtest`, `rules explain`. NUL is left to the stores, which refuse it. The bidi
# overrides (U+202D, U+202E) go too: they make "Wire B\u202egnp.exe" read "Wire Bexe.png" in a terminal, in Slack
# and in HTML; right-to-left text needs only the marks and embeddings, which stay.
_CONTROLS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202d\u202e]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    if 0x80 <= code <= 0x9F:
        # C1 controls in news text are nearly always Windows-1252 read as Latin-1 (U+0092 for ’, U+0085 for
        # …): give the character meant, where there is one.
        try:
            meant = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            return "\ufffd"
        return meant
    return "\ufffd"


def has_control(text: str) -> bool:
    """Whether `text` holds a control character visible_text would replace."""
    return _CONTROLS.search(text) is not None


def visible_text(text: str) -> str:
    """`text` with every control character but tab, CR and LF replaced (U+FFFD, or the Windows-1252 character a
    C1 control stands for): what a document's title, body and source name hold."""
    return text if _CONTROLS.search(text) is None else _CONTROLS.sub(_visible, text)


def derive_id(obj: dict[str, Any], title: str, body: str, source: str) -> str:
    """Use `id`, else the URL, else a hash of the content: re-ingesting the same item is a no-op."""
    given = obj.get("id")
    if given is not None:
        _check_id(given)
        return str(given).strip()
    url = obj.get("url")
    basis = f"url\x1f{url}" if isinstance(url, str) and url else f"text\x1f{source}\x1f{title}\x1f{body}"
    return "doc-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]


def _check_id(given: Any) -> None:
    if not isinstance(given, (str, int)) or str(given).strip() == "":
        raise InputError("must be a non-empty string", "id")
    text = str(given)
    if len(text) > MAX_ID_CHARS:
        raise InputError(f"is {len(text)} characters, over the limit of {MAX_ID_CHARS}", "id")
    if "\x00" in text:  # PostgreSQL text cannot hold it, so no store takes it (stores/errors.py)
        raise InputError("contains a NUL character (U+0000)", "id")
    bad = _CONTROLS.search(text)
    if bad is not None:  # an id is shown as it is (alerts list, rules explain): no terminal escape in it
        raise InputError(f"contains a control character (U+{ord(bad.group()):04X})", "id")


_KNOWN = frozenset({"type", "id", "published_at", "source", "url", "title", "body", "language", "issuer", "metadata"})
_make_source = trusted_maker(SourceRef, {"name": "n", "url": None, "kind": None, "feed": None})
_make_document = trusted_maker(
    Document,
    {
        "id": "i",
        "type": "news.article",
        "published_at": datetime(2000, 1, 1).astimezone(),
        "source": None,
        "url": None,
        "title": "",
        "body": "",
        "language": None,
        "issuer": None,
        "metadata": {},
    },
)


class LineGate(Protocol):
    """A rule set's cheap test on raw JSON lines (watchfloor.stream_processors.engine.compiler.JsonLineGate)."""

    def hits(self, block: bytes) -> list[int]:
        """Offsets in `block` (whole lines) at which a document could start to match; at most one per
        line. A line without one holds no document that any of the rule set's signals can match."""
        ...


EventTime = float
"""An accepted document that a rule set's LineGate ruled out, reduced to what an engine still needs of
it: its publication time, as a POSIX timestamp (readers given a gate yield these)."""


class CheckedInput:
    """An input object that passed every check of the contract, not yet built into a Document.

    Building (id hashing, model objects) is deferred: a backtest builds only the documents that its
    rules can possibly match, and only moves event time forward for the rest. `ts` is published_at
    as a POSIX timestamp (what event time is kept in)."""

    __slots__ = ("body", "feed", "issuer", "obj", "published_at", "record", "source_name", "title", "ts", "type")

    def __init__(
        self,
        obj: dict[str, Any] | None,
        typ: str,
        published_at: datetime,
        source_name: str,
        title: str,
        body: str,
        issuer: Issuer | None,
        record: _InputRecord | None = None,
        ts: float | None = None,
    ) -> None:
        self.obj = obj
        self.record = record
        self.type = typ
        self.published_at = published_at
        self.ts = published_at.timestamp() if ts is None else ts
        self.source_name = source_name
        self.title = title
        self.body = body
        self.issuer = issuer
        # What it counts as for corroboration (SourceRef.feed) when its file is a configured source that is not an
        # aggregator (`backtest FILE --config`), as the live ingest sets it (publish.with_feed); None: by name.
        self.feed: str | None = None

    @property
    def text(self) -> str:
        """Title and body as one text, exactly as Document.text."""
        return joined_text(self.title, self.body)

    def _fields(self) -> dict[str, Any]:
        if self.obj is not None:
            return self.obj
        rec = self.record
        assert rec is not None
        src = rec.source
        source: str | dict[str, Any] = (
            src if isinstance(src, str) else {"name": src.name, "url": src.url, "kind": src.kind}
        )
        meta = bytes(rec.metadata)
        return {
            "id": rec.id,
            "url": rec.url,
            "language": rec.language,
            "source": source,
            "metadata": None if meta == b"null" else orjson.loads(meta),
        }

    def document_id(self) -> str:
        """The id `build()` gives its Document (derive_id), without building it: to order inputs that tie."""
        return derive_id(self._fields(), self.title, self.body, self.source_name)

    def build(self) -> Document:
        obj = self._fields()
        return _make_document(
            {
                "id": derive_id(obj, self.title, self.body, self.source_name),
                "type": self.type,
                "published_at": self.published_at,
                "source": _source_ref(obj["source"], self.feed),
                # The id above is of the text as given, so cleaning it never makes a document new again.
                "url": visible_text(url) if isinstance(url := obj.get("url"), str) else url,
                "title": visible_text(self.title),
                "body": visible_text(self.body),
                "language": obj.get("language"),
                "issuer": self.issuer,
                "metadata": obj.get("metadata") or {},
            }
        )


# -- the fast path for JSON lines ----------------------------------------------------------------------
# msgspec decodes a line straight into typed structs, checking types and unknown fields in C: about a
# fifth of orjson.loads + check_document. It only ever ACCEPTS: a line it rejects, or one with anything
# unusual (an issuer, an integer id, metadata that orjson would read differently), goes through
# orjson + check_document, so verdicts and error messages are those of the one full contract check.


# Length bounds are checked by msgspec in C (max_length counts code points, as len() does): a line over one
# is declined here and explained by the full check. The NUL in an id is looked for in Python (rare field).
_Name = Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)]
_Url = Annotated[str, msgspec.Meta(max_length=MAX_URL_CHARS)]
_Short = Annotated[str, msgspec.Meta(max_length=MAX_SHORT_CHARS)]


class _SourceRecord(msgspec.Struct, forbid_unknown_fields=True):
    name: _Name
    url: _Url | None = None
    kind: _Short | None = None


_NO_METADATA = msgspec.Raw(b"null")


class _InputRecord(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["news.article", "official.statement"]
    published_at: Annotated[datetime, msgspec.Meta(tz=True)]  # parsed as parse_timestamp does
    source: _Name | _SourceRecord  # a name over the limit before strip() is declined: the full check decides
    id: Annotated[str, msgspec.Meta(max_length=MAX_ID_CHARS)] | None = None
    url: _Url | None = None
    title: Annotated[str, msgspec.Meta(max_length=MAX_TITLE_CHARS)] | None = None
    body: str | None = None
    language: _Short | None = None
    issuer: None = None  # an issuer takes the full path (pydantic validates it)
    # Kept as raw JSON: decoded by orjson only when present, so values are orjson's (big integers).
    metadata: msgspec.Raw = _NO_METADATA  # a line without metadata gets this very object


_decode_record = msgspec.json.Decoder(_InputRecord).decode
# RecursionError: msgspec recurses on the interpreter's stack even to skip a value, so a record nested about
# 1,000 deep (less under a deep call stack) raised it from here and stopped the reader; the full check
# (orjson, with a depth limit of its own) decides such a line instead.
_MSGSPEC_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError)


@overload
def check_json_line(raw: bytes, max_body_chars: int = ..., time_only: Literal[False] = ...) -> CheckedInput | None: ...


@overload
def check_json_line(raw: bytes, max_body_chars: int, time_only: Literal[True]) -> EventTime | None: ...


def check_json_line(
    raw: bytes, max_body_chars: int = DEFAULT_MAX_BODY_CHARS, time_only: bool = False
) -> CheckedInput | EventTime | None:
    """One JSON line -> a CheckedInput when it certainly passes the contract, else None: then decide
    with check_document(orjson.loads(raw)), which also explains what is wrong. With `time_only`, for a
    line whose document no rule can match: every check, but only its event time is returned."""
    if len(raw) > MAX_RECORD_BYTES and len(raw) > 8 * max_body_chars:
        return None
    try:
        rec = _decode_record(raw)
    except _MSGSPEC_ERRORS:
        return None
    src = rec.source
    if isinstance(src, str):
        name = src.strip()
        if not name:
            return None
    else:
        name = src.name  # as _check_source: an object's name is kept as given
        if not name.strip():
            return None
    title = rec.title or ""
    body = rec.body or ""
    if (not title or title.isspace()) and (not body or body.isspace()):
        return None
    if len(body) > max_body_chars:
        return None
    rid = rec.id
    if rid is not None and (not rid.strip() or "\x00" in rid or _CONTROLS.search(rid) is not None):
        return None
    if rec.metadata is not _NO_METADATA and not _fast_metadata_ok(bytes(rec.metadata)):
        return None
    published_at = rec.published_at
    ts = published_at.timestamp()
    if not _EARLIEST_TS <= ts < _LATEST_TS:
        return None
    if time_only:
        return ts
    return CheckedInput(None, rec.type, published_at, name, title, body, None, rec, ts)


def _fast_metadata_ok(meta: bytes) -> bool:
    """Whether raw `metadata` certainly passes _check_metadata (False: let the full check decide)."""
    if meta == b"null":
        return True
    try:
        value = orjson.loads(meta)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(value, dict):
        return False
    # Brackets counted in the raw text bound the nesting from above: most metadata needs no walk.
    if meta.count(b"{") + meta.count(b"[") > MAX_METADATA_DEPTH and metadata_too_deep(value):
        return False
    if len(meta) * 5 <= MAX_METADATA_BYTES:
        # Written again compactly, JSON grows only where a float is spelt with an exponent (1e15 ->
        # 1000000000000000.0: 4.5x at most), so small raw metadata is within the limit without dumping it.
        return True
    try:
        return len(orjson.dumps(value)) <= MAX_METADATA_BYTES
    except TypeError:
        return False


def json_type(value: Any) -> str:
    """What JSON calls a decoded value's type (`null`, not Python's NoneType), for messages about input lines."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check_document(obj: Any, *, max_body_chars: int = DEFAULT_MAX_BODY_CHARS) -> CheckedInput:
    """Apply every rule of the input contract. Raises InputError naming the field at fault."""
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {json_type(obj)}")
    typ = obj.get("type")
    if typ is None:
        raise InputError("is required (news.article or official.statement)", "type")
    if typ not in DOCUMENT_TYPES:
        raise InputError(f"unknown type {typ!r} (expected news.article or official.statement)", "type")
    if not _KNOWN.issuperset(obj):
        unknown = sorted(set(obj) - _KNOWN)
        raise InputError(f"unknown field(s): {', '.join(unknown)} (put extra data under 'metadata')", unknown[0])
    if "published_at" not in obj:
        raise InputError("is required", "published_at")
    published_at = parse_timestamp(obj["published_at"])
    if "source" not in obj:
        raise InputError("is required", "source")
    source_name = _check_source(obj["source"])
    title = obj.get("title") or ""
    body = obj.get("body") or ""
    if not isinstance(title, str):
        raise InputError("must be a string", "title")
    if not isinstance(body, str):
        raise InputError("must be a string", "body")
    if (not title or title.isspace()) and (not body or body.isspace()):  # no copies, unlike strip()
        raise InputError("a document needs a title or a body", "body")
    if len(body) > max_body_chars:
        raise InputError(f"is {len(body)} characters, over the limit of {max_body_chars}", "body")
    if len(title) > MAX_TITLE_CHARS:
        raise InputError(f"is {len(title)} characters, over the limit of {MAX_TITLE_CHARS}", "title")
    issuer = obj.get("issuer")
    if issuer is not None:
        if not isinstance(issuer, dict):
            raise InputError("must be an object {name, country}", "issuer")
        try:
            issuer = Issuer.model_validate(issuer)
        except ValidationError as e:
            raise InputError(e.errors()[0]["msg"], "issuer") from None
        _check_text(issuer.name, "issuer.name", MAX_NAME_CHARS)
        _check_text(issuer.country, "issuer.country", MAX_SHORT_CHARS)
    _check_metadata(obj.get("metadata"))
    _check_text(obj.get("url"), "url", MAX_URL_CHARS)
    _check_text(obj.get("language"), "language", MAX_SHORT_CHARS)
    given = obj.get("id")
    if given is not None:
        _check_id(given)
    return CheckedInput(obj, typ, published_at, source_name, title, body, issuer)


def parse_document(obj: Any, *, max_body_chars: int = DEFAULT_MAX_BODY_CHARS) -> Document:
    """Validate one input object into a Document. Raises InputError naming the field at fault."""
    return check_document(obj, max_body_chars=max_body_chars).build()
