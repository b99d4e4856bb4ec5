"""Where event time comes from: the per-origin rule, the poller's CaughtUp marks, the relay's watermarks, and a
state saved before them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchfloor.producers.poller import SourcePoller
from watchfloor.producers.relay import RELAY_PROCESSOR, KafkaRelay, watermark_holder
from watchfloor.schemas.config import JsonlSource
from watchfloor.schemas.events import (
    CaughtUp,
    DeadLetter,
    Detection,
    Event,
    EventType,
    caught_up_event,
    document_event,
)
from watchfloor.stream_processors.engine import eventtime as et
from watchfloor.stream_processors.stores.memory import MemoryStore

from .engine_helpers import DATA, T0, doc, engine_for

H = 3600.0


def test_effective_time_clamps_only_beyond_the_skew() -> None:
    assert et.effective_time(100.0, None, H) == (100.0, False)  # nothing received: nothing to clamp against
    assert et.effective_time(100.0 + H, 100.0, H) == (100.0 + H, False)  # a clock an hour fast is trusted
    assert et.effective_time(100.0 + H + 1, 100.0, H) == (100.0, True)


def test_the_watermark_is_the_slowest_origin_still_delivering_else_the_newest() -> None:
    tracker = et.new_tracker()
    et.note_document(tracker, "a", 50.0, 1000.0)
    et.note_document(tracker, "b", 20.0, 1000.0)
    assert et.caught_up(tracker, ["a", "b"], 1000.0, H, None) == 20.0  # b holds time back, read to its end or not:
    et.note_document(tracker, "b", 30.0, 2000.0)  # a file can grow, a feed lag (each within the lateness)
    assert et.caught_up(tracker, ["a", "b"], 2000.0, H, 20.0) == 30.0  # a is idle by now (silent over an hour)
    assert et.caught_up(tracker, ["a", "b"], 2000.0 + H, H, 30.0) == 50.0  # both idle: the newest
    et.note_document(tracker, "c", None, 2000.0 + H)  # only late or clamped documents: no watermark of its own
    assert et.caught_up(tracker, [], 2000.0 + H, H, 50.0) == 50.0


@pytest.mark.parametrize("backfill_at", [-24 * 30, 35])  # all beyond the pack's lateness (12h), or within it
def test_a_source_added_behind_the_watermark_holds_it_neither_in_the_relay_nor_in_the_engine(backfill_at: int) -> None:
    """Outside trial 75, F7: a backfill source added to a running desk, every report of it older than the published
    W, held W for an hour after its last line while the live source's newer reports came in (the relay counted its
    late reports as its watermark), and as its watermark was not W, `status` and /metrics named no holder. W goes on
    with the live source, the relay's as the engine's (the same rule: replay == live), and the live source is named."""
    engine = engine_for(str(DATA / "rules" / "eventtime.yaml"))
    at = T0 + timedelta(hours=100)
    store, pub, state = MemoryStore(), Recorder(), engine.initial_state()

    def deliver(origin: str, h: float, after: timedelta, *origins: str) -> None:
        nonlocal state
        ev = document_event(doc("Markets rose.", at=h, doc_id=f"{origin}-{h}"), origin=origin, received_at=at + after)
        state, _ = engine.process(state, ev)
        engine.caught_up(state, mark := CaughtUp(at=at + after, origins=origins))
        store.append([ev, caught_up_event(mark)])
        KafkaRelay(store, pub).run_once()

    deliver("live", 40, timedelta(0), "live")
    deliver("backfill", backfill_at, timedelta(minutes=10), "live", "backfill")
    deliver("live", 50, timedelta(minutes=20), "live", "backfill")
    newest = (T0 + timedelta(hours=50)).timestamp()
    assert (pub.batches[-1][-1].payload["time"], state["wm"]) == (newest, newest)
    held = watermark_holder(store, RELAY_PROCESSOR, timedelta(hours=1))
    assert held is not None and (held.origin, held.watermark.timestamp()) == ("live", newest)
    assert held.received == at + timedelta(minutes=20)


def jsonl(path: Path, *docs: tuple[str, float]) -> Path:
    lines = [
        json.dumps(
            {
                "type": "news.article",
                "id": doc_id,
                "published_at": (T0 + timedelta(hours=h)).isoformat(),
                "source": "Wire",
                "title": "Alphaland closed the border",
            }
        )
        for doc_id, h in docs
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_poll_records_which_sources_it_read_to_the_end(tmp_path: Path) -> None:
    store = MemoryStore()
    a = jsonl(tmp_path / "a.jsonl", ("a1", 2), ("a2", 1))
    b = jsonl(tmp_path / "b.jsonl", ("b1", 500))
    missing = tmp_path / "missing.jsonl"
    poller = SourcePoller(store, [JsonlSource(path=str(b)), JsonlSource(path=str(missing)), JsonlSource(path=str(a))])
    poller.poll_once()
    events = [se.event for se in store.read(limit=100)]
    assert [e.type for e in events][-1] == EventType.CAUGHT_UP.value
    mark = CaughtUp.model_validate(events[-1].payload)
    assert mark.origins == (str(b), str(a))  # the failing source is not caught up
    docs = [e for e in events if e.type == "news.article"]
    assert {(e.origin, e.payload["id"]) for e in docs} == {(str(b), "b1"), (str(a), "a1"), (str(a), "a2")}
    assert {e.payload["id"]: e.line for e in docs} == {"b1": 1, "a1": 1, "a2": 2}  # stored in event time, lines kept
    assert all(e.received_at is not None and e.received_at <= mark.at for e in docs)
    poller.poll_once()  # nothing new: no mark yet (one every MARK_EVERY while quiet)
    assert store.count(types={EventType.CAUGHT_UP.value}) == 1


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[Event]] = []

    def append(self, events: Sequence[Event]) -> int:
        self.batches.append(list(events))
        return len(events)


def test_the_relay_sends_the_per_origin_watermark_and_keeps_it_across_restarts() -> None:
    store = MemoryStore()
    at = T0 + timedelta(hours=100)  # when the producer read them

    def d(doc_id: str, h: float, origin: str, received: timedelta = timedelta(0)) -> Event:
        return document_event(doc("Markets rose.", at=h, doc_id=doc_id), origin=origin, received_at=at + received)

    store.append([d("a1", 40, "a"), d("b1", 10, "b")])
    store.append([caught_up_event(CaughtUp(at=at, origins=("a", "b")))])
    pub = Recorder()
    KafkaRelay(store, pub).run_once()
    [batch] = pub.batches
    assert [e.type for e in batch] == ["news.article", "news.article", EventType.WATERMARK.value]
    assert batch[-1].payload["time"] == (T0 + timedelta(hours=10)).timestamp()  # b is behind: it holds time
    later = timedelta(hours=2)
    store.append([d("b2", 20, "b", later), caught_up_event(CaughtUp(at=at + later, origins=("a", "b")))])
    KafkaRelay(store, pub).run_once()  # a new relay: its watermark rule resumes from the checkpoint
    assert pub.batches[-1][-1].payload["time"] == (T0 + timedelta(hours=20)).timestamp()  # a idle; b at 20h
    store.append([caught_up_event(CaughtUp(at=at + 2 * later, origins=("a", "b")))])  # quiet: both idle
    KafkaRelay(store, pub).run_once()
    assert (
        pub.batches[-1] == [pub.batches[-1][0]]
        and pub.batches[-1][0].payload["time"] == (T0 + timedelta(hours=40)).timestamp()
    )


def test_the_relay_ends_every_batch_of_documents_with_the_watermark_moved_or_not() -> None:
    # Outside trial 31, M2: the watermark went to Kafka only when it moved, and `status` / /metrics read a partition's
    # last records for it: after a run of old documents (which do not move it) the series vanished, when its growing
    # age was what an operator alerts on.
    store = MemoryStore()
    at = T0 + timedelta(hours=100)
    store.append([document_event(doc("Markets rose.", at=40, doc_id="n1"), origin="a", received_at=at)])
    store.append([caught_up_event(CaughtUp(at=at, origins=("a",)))])
    pub = Recorder()
    KafkaRelay(store, pub).run_once()
    w = pub.batches[-1][-1].payload["time"]
    old = [document_event(doc("Markets fell.", at=h, doc_id=f"o{h}"), origin="a", received_at=at) for h in range(5)]
    store.append(old)
    KafkaRelay(store, pub).run_once()
    batch = pub.batches[-1]
    assert [e.type for e in batch] == ["news.article"] * 5 + [EventType.WATERMARK.value], batch
    assert batch[-1].payload["time"] == w  # not moved: the same watermark, said again


def test_a_state_saved_before_revisions_carries_on() -> None:
    """A checkpoint of the first engine version (observations unsorted, absences' firsts apart) is read into
    the current layout: its observations still count, its throttle state still holds."""
    engine = engine_for(str(DATA / "rules" / "eventtime.yaml"))
    t0 = T0.timestamp()
    ev = {
        "event_id": "old-1",
        "signal": "border_closed",
        "source": "Wire A",
        "url": None,
        "published_at": T0.isoformat(),
        "sentence": "Alphaland closed the border.",
        "modality": "asserted",
        "captures": {"country": "ALPHA"},
        "places": [],
    }
    v1 = {
        "wm": t0,
        "xp": t0,
        "g": {
            "closure-reported-twice\x1f": {"o": [[t0, 0, "Wire A", "old-1", ev]], "lf": None, "ls": -1, "p": []},
            "closure\x1fcountry=ALPHA": {"o": [], "lf": t0, "ls": 0, "p": []},
        },
    }
    state = engine.restore(json.loads(json.dumps(v1)))
    state, outs = engine.process_document(
        state, doc("Alphaland closed the border.", at=1, source="Wire B", doc_id="new-1")
    )
    rules = sorted(o.rule for o in outs if o.__class__.__name__ == "Detection")
    assert rules == ["closure-reported-twice"]  # two outlets (the saved one counts); `closure` throttled (6h)


def test_the_lateness_is_days_for_a_pack_that_does_not_say(tmp_path: Path) -> None:
    """News arrives days late: a pack without `settings.lateness` allows 7 days; with several packs the most
    lenient counts. A report 6 days behind event time is on time then: it revises, nobody reports it late."""
    silent = tmp_path / "silent.yaml"
    silent.write_text((DATA / "rules" / "eventtime.yaml").read_text().replace("settings: {lateness: 12h}\n", ""))
    engine = engine_for(str(silent))
    assert engine.rules.lateness == et.DEFAULT_LATENESS == timedelta(days=7)
    assert engine_for("builtin:dprk_russia").rules.lateness == timedelta(days=2)  # the bundled pack says 2d
    assert engine_for("builtin:dprk_russia", str(silent)).rules.lateness == timedelta(days=7)
    state = engine.initial_state()
    state, _ = engine.process_document(state, doc("Alphaland closed the border.", at=24 * 6 + 5, doc_id="b"))
    state, outs = engine.process_document(state, doc("Alphaland shut the border.", at=3, doc_id="a"))
    assert not [o for o in outs if o.__class__.__name__ == "DeadLetter"]
    [revision] = [o for o in outs if isinstance(o, Detection) and o.rule == "closure"]
    assert revision.revises is None and [e.event_id for e in revision.evidence] == ["a"]  # 6 days apart: both stand


def test_no_first_alert_waits_for_the_watermark() -> None:
    """A source far behind holds event time back (for lateness, absences and dropping state), but an alert goes
    out with the report that completes it, in the same engine call."""
    engine = engine_for(str(DATA / "rules" / "eventtime.yaml"))
    state = engine.initial_state()
    state, _ = engine.process_document(
        state, doc("Markets rose.", at=-200, doc_id="slow"), origin="slow", received_at=T0
    )
    state, _ = engine.process_document(
        state, doc("Markets rose.", at=0, doc_id="fast-0"), origin="fast", received_at=T0
    )
    engine.caught_up(state, CaughtUp(at=T0, origins=("slow", "fast")))
    held = state["wm"]
    assert held == (T0 - timedelta(hours=200)).timestamp()
    state, outs = engine.process_document(
        state, doc("Alphaland closed the border.", at=5, doc_id="fast-1"), origin="fast", received_at=T0
    )
    assert [o.rule for o in outs if isinstance(o, Detection)] == ["closure"]  # at once, not at a watermark
    assert state["wm"] == held


def test_event_time_reports_name_the_line_their_document_was_read_from() -> None:
    """Trial 30, F7: a future-dated or late document's report names its file and line, as an ingest dead letter of the
    file does; the Kafka extract agent's (Engine.arrival) too. Without an origin a line names nothing: left out."""
    engine = engine_for(str(DATA / "rules" / "eventtime.yaml"))
    received = T0 + timedelta(hours=48)
    state = engine.initial_state()

    def reports(document: Event) -> list[DeadLetter]:
        nonlocal state
        state, outs = engine.process(state, document)
        return [o for o in outs if isinstance(o, DeadLetter)]

    state, _ = engine.process(state, document_event(doc("Markets rose.", at=48, doc_id="now"), "in.jsonl", received, 1))
    engine.caught_up(state, CaughtUp(at=received, origins=("in.jsonl",)))
    ahead = document_event(doc("Alphaland closed the border.", at=24 * 400, doc_id="ahead"), "in.jsonl", received, 2)
    late = document_event(doc("Alphaland closed the border.", at=1, doc_id="late"), "in.jsonl", received, 3)
    assert [(r.origin, r.line, r.reason.split(":")[0]) for r in reports(ahead) + reports(late)] == [
        ("in.jsonl", 2, "dated in the future"),
        ("in.jsonl", 3, "late"),
    ]
    before = document_event(doc("Alphaland closed the border.", at=2, doc_id="old"), "in.jsonl", received)
    assert [(r.origin, r.line) for r in reports(before)] == [("in.jsonl", None)]  # stored before lines: the file
    far = doc("Markets rose.", at=24 * 400, doc_id="a2")
    _, _, agent = engine.arrival(far, "in.jsonl", received, None, 7)
    assert [(r.origin, r.line) for r in agent if isinstance(r, DeadLetter)] == [("in.jsonl", 7)]
    _, _, nameless = engine.arrival(far, None, received, None, 7)
    assert [(r.origin, r.line) for r in nameless if isinstance(r, DeadLetter)] == [("document:a2", None)]


def test_a_late_document_dated_at_the_unix_epoch_has_one_report_the_late_one() -> None:
    """helper review of cdacb99 (MED): a document dated 1970-01-01 behind the watermark had two reports, one late and
    one "dated at the Unix epoch", so run's per-source line and a backtest's stats counted it twice. It has the late
    one alone, which says the epoch date; one dated at the epoch with no watermark yet (not late) keeps its own."""
    engine = engine_for(str(DATA / "rules" / "eventtime.yaml"))
    epoch_day = doc("Alphaland closed the border.", doc_id="e1").model_copy(
        update={"published_at": datetime(1970, 1, 1, tzinfo=UTC)}
    )
    state = engine.initial_state()
    state, first = engine.process_document(state, epoch_day, origin="in.jsonl")  # no watermark: not late
    assert [r.reason.split(":")[0] for r in first if isinstance(r, DeadLetter)] == ["dated at the Unix epoch"]
    state = engine.initial_state()
    state, _ = engine.process_document(
        state, doc("Markets rose.", at=0, doc_id="now"), origin="in.jsonl", received_at=T0
    )
    engine.caught_up(state, CaughtUp(at=T0, origins=("in.jsonl",)))
    assert state["wm"] == T0.timestamp()
    state, outs = engine.process_document(state, epoch_day, origin="in.jsonl", received_at=T0, line=2)
    [report] = [o for o in outs if isinstance(o, DeadLetter)]
    assert report.reason.startswith("late: document e1 (1970-01-01T00:00:00+00:00) is "), report.reason
    assert "It is dated at the Unix epoch (1970-01-01T00:00:00+00:00)" in report.reason, report.reason
    assert (report.stage, report.origin, report.line) == ("event-time", "in.jsonl", 2)
    assert "closure" in [o.rule for o in outs if isinstance(o, Detection)]  # processed as before: no drop
    _, _, agent = engine.arrival(epoch_day, "in.jsonl", T0, state["wm"], 2)  # the Kafka extract agent's
    assert [r.reason.split(":")[0] for r in agent if isinstance(r, DeadLetter)] == ["late"]


def test_status_says_when_a_silent_holder_lets_go_and_names_none_once_every_source_is_idle() -> None:
    """Outside trial 77, F7: `status` said the holder lets go "from 17:36:46, at the next pass of a live `produce`",
    but the watermark moved only at `produce`'s next CaughtUp mark, a quiet one 5 minutes after its last (W moves
    only at marks); and once every source was idle it still named one, with a release time in the past. The holder
    says it has been silent and by when the mark comes; with every source idle, none is named."""
    at = T0 + timedelta(hours=100)
    idle = timedelta(seconds=30)
    store, pub = MemoryStore(), Recorder()

    def deliver(*docs: tuple[str, float], after: timedelta) -> None:
        evs = [
            document_event(doc("Markets rose.", at=h, doc_id=f"{o}-{h}"), origin=o, received_at=at + after)
            for o, h in docs
        ]
        store.append([*evs, caught_up_event(CaughtUp(at=at + after, origins=("gdn", "bbc")))])
        KafkaRelay(store, pub, idle_after=idle).run_once()

    deliver(("gdn", 40), ("bbc", 50), after=timedelta(0))  # the last documents: gdn's is older, it holds W
    held = watermark_holder(store, RELAY_PROCESSOR, idle, at + timedelta(seconds=10))
    assert held is not None and (held.origin, held.silent) == ("gdn", False)
    assert held.until == at + idle and held.release_by == at + timedelta(minutes=5)
    later = watermark_holder(store, RELAY_PROCESSOR, idle, at + timedelta(minutes=2))  # silent, W not moved yet
    assert later is not None and (later.origin, later.silent) == ("gdn", True)
    text = later.text()
    assert "silent for event_time.idle_after (0:00:30) since" in text and "next pass" not in text, text
    assert f"by {(at + timedelta(minutes=5)).isoformat(timespec='seconds')} at the latest" in text, text
    assert later.as_dict()["release_by"] == (at + timedelta(minutes=5)).isoformat()
    store.append([caught_up_event(CaughtUp(at=at + timedelta(minutes=5), origins=("gdn", "bbc")))])  # the quiet mark
    KafkaRelay(store, pub, idle_after=idle).run_once()
    assert store.load_checkpoint(RELAY_PROCESSOR).state["w"] == (T0 + timedelta(hours=50)).timestamp()  # bbc's
    assert watermark_holder(store, RELAY_PROCESSOR, idle, at + timedelta(minutes=6)) is None  # every source idle
