"""The Kafka wire format, written once: the Event envelope as JSON, the origin header, dead letters for bad records.

Every record value on a watchfloor topic is the :class:`watchfloor.schemas.events.Event` envelope as JSON
(orjson), ``schema_version`` included. Everything that reads one (the Faust agents, the archive sink, the
backtest reader, the publisher's spool) decodes it with :func:`decode_event`, which raises :class:`Rejected`
with a reason a human can act on; everything that writes one uses :func:`encode_event`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from watchfloor.schemas.events import (
    DOCUMENT_TYPES,
    SCHEMA_VERSION,
    Correction,
    DeadLetter,
    Detection,
    Document,
    Event,
    EventType,
    Retraction,
    Signal,
)

WATERMARK = EventType.WATERMARK.value  # watchfloor.schemas.events.Watermark: a partition's event-time progress
ORIGIN_HEADER = "wf-origin"  # "partition:offset:signal[:route]" of the documents record a routed signal came from
RAW_LIMIT = 2000  # characters of a bad record kept in its dead letter
# On a documents record `produce --resend` sends again, and on the signals the extract agent routes from it: the
# document was sent to this pipeline before (workers drop it where they hold it: see Extract and PartitionCorrelator)
RESENT_HEADER = "wf-resent"
RESENT = {RESENT_HEADER: b"1"}


class Rejected(ValueError):
    """A record that cannot be processed; the message is the dead-letter reason, `field` where it went wrong."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def encode_event(ev: Event) -> bytes:
    """The record value of an event. `line` only when set (a document read from a line of a file): an envelope
    without it is the one workers from before it read, which refuse a key they do not know."""
    return orjson.dumps(ev.model_dump(mode="json", exclude=None if ev.line is not None else _NO_LINE))


_NO_LINE = {"line"}


def decode_event(raw: bytes | str | None) -> Event:
    """The Event envelope of a record value, or Rejected with a reason a human can act on."""
    if raw is None:
        raise Rejected("empty record (no value)")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise Rejected(f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise Rejected(f"not an event envelope: a JSON {type(obj).__name__}")
    if "payload" not in obj and obj.get("type") in DOCUMENT_TYPES:
        # An article in the input format (a JSON Lines line), published straight to the topic: say what to do, not
        # "Field required" (outside trial 60, MED-1: the README's "Kafka is already where your news arrives" led a
        # desk to publish its articles there).
        raise Rejected(
            "an input document, not a watchfloor event envelope: only `watchfloor produce` writes the documents "
            "topic (give it these records as a JSON Lines source; docs/kafka.md, 'Who writes the documents topic')",
            "payload",
        )
    version = obj.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise Rejected(f"unknown schema_version {version!r} (this worker reads {SCHEMA_VERSION})", "schema_version")
    try:
        return Event.model_validate(obj)
    except ValidationError as e:
        raise Rejected(f"invalid event envelope: {_first_error(e)[0]}", _first_error(e)[1]) from None


def watermark_time(raw: bytes | str | None) -> float | None:
    """The event time a publisher's watermark record says its partition has seen; None for any other record (a
    document, one that does not decode, a watermark without a numeric time). For readers that look back through a
    documents partition for its last watermark (status, the extract agent at a takeover)."""
    try:
        ev = decode_event(raw)
    except Rejected:
        return None
    t = ev.payload.get("time") if ev.type == WATERMARK else None
    return float(t) if isinstance(t, int | float) else None


def decode_document(ev: Event) -> Document:
    """The document an event carries, or Rejected (not a document type, invalid payload)."""
    if ev.type not in DOCUMENT_TYPES:
        raise Rejected(f"event type {ev.type!r} is not a document ({', '.join(sorted(DOCUMENT_TYPES))})", "type")
    return _decode(Document, ev, "document")


def decode_signal(ev: Event) -> Signal:
    """The signal an event carries, or Rejected."""
    return _decode(Signal, ev, "signal")


def decode_correction(ev: Event) -> Correction:
    """The correction an event carries (an edited feed item, sent by the extract agent), or Rejected."""
    return _decode(Correction, ev, "correction")


def decode_alert_change(ev: Event) -> Detection | Retraction:
    """The alert change a detection or retraction event carries (an input detection's, routed to a derived group on
    the correlate topic: kafka/partition.py), or Rejected."""
    if ev.type == EventType.RETRACTION.value:
        return _decode(Retraction, ev, "retraction")
    return _decode(Detection, ev, "detection")


_M = TypeVar("_M", bound=BaseModel)


def _decode(model: type[_M], ev: Event, what: str) -> _M:
    """`model` validated from the event's payload, or Rejected naming the first error's field."""
    try:
        return model.model_validate(ev.payload)
    except ValidationError as e:
        msg, loc = _first_error(e)
        raise Rejected(f"invalid {what} payload: {msg}", f"payload.{loc}" if loc else "payload") from None


def _first_error(e: ValidationError) -> tuple[str, str | None]:
    err = e.errors()[0]
    return err["msg"], ".".join(str(p) for p in err["loc"]) or None


def origin_header(partition: int, offset: int, signal: int, route: int, swept: float | None = None) -> dict[str, bytes]:
    """The header of a routed signal: where in the documents topic it came from (see PartitionCorrelator). An alert
    change's may end with the step its partition had swept when it raised it (`PartitionCorrelator.stamp_of`: a whole
    hour, in epoch seconds), after its place, so that it never decides which of two records came first."""
    tail = "" if swept is None else f":{int(swept)}"
    return {ORIGIN_HEADER: f"{partition}:{offset}:{signal}:{route}{tail}".encode()}


def parse_origin(headers: Any) -> list[int] | None:
    """The wf-origin header ("partition:offset:signal[:route]") as ints; None when absent or unreadable."""
    if not headers:
        return None
    raw = headers.get(ORIGIN_HEADER) if hasattr(headers, "get") else dict(headers).get(ORIGIN_HEADER)
    if raw is None:
        return None
    try:
        text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
        return [int(x) for x in text.split(":")]
    except ValueError:
        return None


def is_resent(headers: Any) -> bool:
    """Whether a record carries the wf-resent header (`produce --resend` sent it again)."""
    if not headers:
        return False
    if hasattr(headers, "get"):
        return headers.get(RESENT_HEADER) is not None
    return any(k == RESENT_HEADER for k, _v in headers)


def record_origin(topic: str, partition: int, offset: int) -> str:
    """Where a record sits, as dead letters name it: ``kafka:TOPIC[PARTITION]@OFFSET``."""
    return f"kafka:{topic}[{partition}]@{offset}"


def raw_preview(raw: bytes | None) -> str:
    if raw is None:
        return ""
    return raw[:RAW_LIMIT].decode("utf-8", errors="replace")


def rejected_letter(r: Rejected, origin: str, raw: bytes | None, stage: str) -> DeadLetter:
    """A record some stage cannot take (bad input), with the reason and field it was rejected for."""
    return DeadLetter(origin=origin, field=r.field, reason=r.reason, raw=raw_preview(raw), stage=stage)


def failure_letter(what: str, e: Exception, origin: str, raw: bytes | None, stage: str) -> DeadLetter:
    """A record on which our own code failed (`what`: "extractor", "correlator"): kept, not retried forever."""
    return DeadLetter(
        origin=origin, reason=f"{what} failed: {type(e).__name__}: {e}", raw=raw_preview(raw), stage=stage
    )


def record_timestamp_ms(event: Event, now_ms: int) -> int | None:
    """The Kafka timestamp of a published event: documents (and watermarks) carry their event time, so a
    backtest can seek by time with ``offsets_for_times``; everything else gets the append time (None).

    Never later than now: Kafka 4 brokers refuse a record stamped more than an hour ahead of their clock
    (``log.message.timestamp.after.max.ms``), and with it every record of the same batch, so one document
    dated in the future would fail the whole publish call. Its own time, in the payload, is unchanged."""
    if event.type in DOCUMENT_TYPES or event.type == EventType.WATERMARK:
        return min(int(event.time.timestamp() * 1000), now_ms)
    return None
