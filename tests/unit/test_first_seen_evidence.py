"""Evidence keeps whether its report was an undated feed entry dated when first seen (E_FIRST_SEEN): a record saved
before the mark existed (one element shorter) reads as a dated report's and equals the record made of it now, so a
restored state revises nothing; the Evidence model and its JSON carry the mark only when true."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from watchfloor.schemas.detection_fields import detection_fields
from watchfloor.schemas.events import Detection, Evidence, Signal, dated_text, fired_first_seen
from watchfloor.stream_processors.engine.evidence import EvidenceOf, evidence_record
from watchfloor.stream_processors.engine.patterns import E_FIRST_SEEN

T = datetime(2024, 12, 1, 12, 3, tzinfo=UTC)


def signal(first_seen: bool) -> Signal:
    return Signal(
        id="s1",
        name="troops",
        document_id="urn:desk:1",
        source="Desk",
        published_at=T,
        sentence="Troops crossed the border.",
        sentence_index=0,
        modality="asserted",
        first_seen=first_seen,
    )


def test_a_record_saved_before_the_mark_equals_the_same_reports_record_now() -> None:
    now = EvidenceOf()(signal(False), T.timestamp())
    saved = orjson.loads(orjson.dumps(now))[:E_FIRST_SEEN]  # as an older engine wrote it to a checkpoint
    assert evidence_record(saved) == now and now[E_FIRST_SEEN] is None
    marked = EvidenceOf()(signal(True), T.timestamp())
    assert marked[E_FIRST_SEEN] is True and evidence_record(orjson.loads(orjson.dumps(marked))) == marked


def test_the_json_holds_the_mark_only_when_true_and_the_story_decoder_takes_it() -> None:
    dated = Evidence(event_id="d", signal="s", source="Desk", published_at=T, sentence="x")
    undated = dated.model_copy(update={"first_seen": True})
    assert "first_seen" not in dated.model_dump(mode="json") and undated.model_dump(mode="json")["first_seen"] is True
    det = Detection(id="a", rule="r", title="t", severity="low", fired_at=T, evidence=(undated,))
    assert detection_fields(det.model_dump_json().encode()) is not None
    assert fired_first_seen(det.evidence, T) and not fired_first_seen((dated, undated), T)
    assert dated_text("12:03 UTC", True) == "first seen 12:03 UTC (undated)" and dated_text("12:03 UTC", False) == (
        "12:03 UTC"
    )
