"""The Kafka wire codec (stream_processors.kafka.codec) and topic helpers: one decoder for every reader."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from watchfloor.schemas.events import DeadLetter, Watermark, dead_letter_event, document_event, watermark_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.kafka.codec import (
    WATERMARK,
    Rejected,
    decode_document,
    decode_event,
    encode_event,
    origin_header,
    parse_origin,
    record_origin,
    record_timestamp_ms,
    rejected_letter,
)
from watchfloor.stream_processors.kafka.topics import (
    bootstrap_servers,
    create_command,
    faust_broker_url,
    other_prefixes_note,
    route_event,
    topic_specs,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "distributed" / "dprk_russia.jsonl"


def a_document():  # type: ignore[no-untyped-def]
    return parse_document(orjson.loads(DATA.read_text().splitlines()[0]))


def test_a_document_record_carries_its_line_and_any_other_envelope_is_as_before() -> None:
    """A document read from a line of a file keeps its line on the wire (its event-time reports name it: trial 30, F7);
    an envelope without one has no `line` key, so it is the envelope workers from before it read (they refuse a key
    they do not know)."""
    doc = a_document()
    at = datetime(2024, 11, 1, tzinfo=UTC)
    lined = document_event(doc, "inbox/a.jsonl", at, line=12)
    assert orjson.loads(encode_event(lined))["line"] == 12
    assert decode_event(encode_event(lined)) == lined
    for ev in (document_event(doc, "https://feeds.example/a.xml", at), watermark_event(0, 1.0)):
        assert "line" not in orjson.loads(encode_event(ev))
        assert decode_event(encode_event(ev)) == ev
    with pytest.raises(Rejected, match="invalid event envelope"):
        decode_event(orjson.dumps({**orjson.loads(encode_event(lined)), "line": 0}))  # lines count from 1


def test_poison_records_are_rejected_with_a_reason() -> None:
    doc = a_document()
    good = encode_event(document_event(doc))
    assert decode_document(decode_event(good)) == doc
    cases = {
        b"\xff\xfe not json": "not JSON",
        b"[1, 2]": "not an event envelope",
        orjson.dumps({**orjson.loads(good), "schema_version": 2}): "unknown schema_version 2",
        orjson.dumps({**orjson.loads(good), "time": "yesterday"}): "invalid event envelope",
        None: "empty record",
    }
    for raw, reason in cases.items():
        with pytest.raises(Rejected, match=reason):
            decode_event(raw)
    bad_payload = orjson.dumps({**orjson.loads(good), "payload": {"id": "x"}})
    with pytest.raises(Rejected, match="invalid document payload") as e:
        decode_document(decode_event(bad_payload))
    assert e.value.field and e.value.field.startswith("payload.")
    with pytest.raises(Rejected, match="is not a document"):
        decode_document(decode_event(encode_event(watermark_event(0, 1.0))))


def test_rejected_is_a_value_error_and_becomes_a_dead_letter_with_its_place() -> None:
    with pytest.raises(ValueError):
        decode_event(b"{")
    try:
        decode_event(orjson.dumps({"id": "x", "type": "news.article", "time": "nope", "payload": {}}))
    except Rejected as r:
        dl = rejected_letter(r, record_origin("p.documents", 2, 17), b"raw bytes", "archive")
    assert dl.origin == "kafka:p.documents[2]@17"
    assert dl.field == "time" and dl.reason.startswith("invalid event envelope") and dl.raw == "raw bytes"
    assert dl.stage == "archive"


def test_watermark_events_carry_a_valid_watermark_payload() -> None:
    """watermark_event builds its payload by hand (hot path): it must still be what the schema says."""
    for p, t, idle in [(0, None, False), (2, 1_700_000_000.25, False), (1, 5.0, True)]:
        ev = watermark_event(p, t, idle=idle)
        assert ev.type == WATERMARK == "watermark"
        assert Watermark.model_validate(ev.payload) == Watermark(partition=p, time=t, idle=idle)
        assert decode_event(encode_event(ev)) == ev
    assert watermark_event(0, 3.0).id != watermark_event(0, 3.0, idle=True).id


def test_origin_header_round_trip() -> None:
    hdr = origin_header(2, 1234, 0, 3)
    assert parse_origin(hdr) == [2, 1234, 0, 3]
    assert parse_origin(list(hdr.items())) == [2, 1234, 0, 3]  # Faust may hand headers over as pairs
    assert parse_origin(None) is None
    assert parse_origin({"wf-origin": b"x:y"}) is None


def test_documents_are_stamped_with_their_time_but_never_ahead_of_now() -> None:
    doc = a_document()
    ev = document_event(doc)
    now_ms = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert record_timestamp_ms(ev, now_ms) == int(doc.published_at.timestamp() * 1000)
    assert record_timestamp_ms(ev, 1000) == 1000
    dl = dead_letter_event(DeadLetter(origin="x", reason="y"), datetime(2024, 1, 1, tzinfo=UTC))
    assert record_timestamp_ms(dl, now_ms) is None  # append time


def test_topics_and_routes() -> None:
    specs = {s.name: s for s in topic_specs("pipe-a", 4)}
    names = TopicNames("pipe-a")
    assert list(specs) == names.all()
    assert specs[names.documents].partitions == specs[names.correlate].partitions == 4
    assert specs[names.detections].partitions == 1  # one dispatcher at a time
    assert specs[names.documents].config["retention.ms"] == "-1"
    doc_ev = document_event(a_document())
    assert route_event(doc_ev, names) == (names.documents, doc_ev.id)
    assert route_event(watermark_event(1, 2.0), names) == (names.documents, "")


def test_the_kafka_scheme_is_handled_in_one_place() -> None:
    assert bootstrap_servers("kafka://a:1,b:2") == "a:1,b:2"
    assert bootstrap_servers("a:1, kafka://b:2") == "a:1,b:2"
    assert faust_broker_url("a:1,kafka://b:2") == "kafka://a:1,kafka://b:2"


def test_missing_topics_name_the_command_that_creates_them() -> None:
    assert create_command("kafka://h:9092", "watchfloor", 3) == "watchfloor topics create --broker h:9092"
    assert create_command("h:9092", "pipe-b", 6) == (
        "watchfloor topics create --broker h:9092 --prefix pipe-b --partitions 6"
    )


def test_missing_topics_name_the_prefixes_the_broker_has() -> None:
    """Outside trial 55, L4: after a mistyped --prefix the fix given (create the topics) makes a second, empty
    pipeline; the prefixes whose topics the broker holds are named."""
    topics = ["desk.documents", "desk.signals", "other.documents", "__consumer_offsets", "dsek-x.signals"]
    assert other_prefixes_note(topics, "dsek") == (
        "; this broker has the topics of pipelines desk, other: a mistyped --prefix?"
    )
    assert (
        other_prefixes_note(["desk.documents"], "dsek")
        == "; this broker has the topics of pipeline desk: a mistyped --prefix?"
    )
    assert other_prefixes_note(["desk.documents"], "desk") == ""


def test_an_input_document_published_to_the_topic_says_who_writes_it() -> None:
    """Outside trial 60, MED-1: an article in the input format published straight to the documents topic was refused
    as "invalid event envelope: Field required"; the reason now says what it is and what writes the topic."""
    article = {
        "type": "news.article",
        "id": "good-x1",
        "published_at": "2024-12-18T10:00:00+00:00",
        "source": "Test wire",
        "title": "North Korean troops killed in Kursk fighting, Ukraine says",
        "body": "Ukraine said North Korean soldiers were killed in combat in the Kursk region.",
    }
    with pytest.raises(Rejected) as e:
        decode_event(orjson.dumps(article))
    assert e.value.reason.startswith("an input document, not a watchfloor event envelope: only `watchfloor produce`")
    assert e.value.field == "payload"
