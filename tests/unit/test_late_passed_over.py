"""A document beyond the lateness is dead-lettered only when a detection reads it (Engine.late_reports): one that no
detection reads is passed over (PassedOver), counted but not written, so a backfill's letters do not drown the ones
that can change an alert (outside trial 67, MED-4). A date in the future stays a dead letter whatever it says."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from watchfloor.schemas.events import (
    EDITION_MARK,
    CaughtUp,
    DeadLetter,
    Document,
    PassedOver,
    caught_up_event,
    document_event,
)
from watchfloor.schemas.inputs import CheckedInput, check_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.processing import EngineTally
from watchfloor.stream_processors.replay import Logged, Replayable, replay
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores.memory import MemoryStore

from .engine_helpers import T0, doc, engine_for

PACK = """\
version: 1
name: test-late-passed-over
settings: {lateness: 12h}
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  border_closed:
    match: {all: [{any: [closed, "shut*"]}, border]}
    near: 6
    capture:
      country: {entities: [ALPHA]}
  weather:
    match: {any: [storm]}
  rumour:
    match: {any: [curfew]}
detections:
  - id: closure
    title: "{country} closed its border"
    severity: low
    pattern: {any: border_closed}
    group_by: [country]
    realert: 6h
  - id: curfew-reported
    title: "curfew reported"
    severity: low
    pattern: {any: {signal: rumour, modality: asserted}}
    realert: 6h
"""


def engine(tmp_path: Path) -> Engine:
    pack = tmp_path / "late.yaml"
    pack.write_text(PACK, encoding="utf-8")
    return engine_for(str(pack))


def late_outputs(eng: Engine, text: str, doc_id: str, *, origin: str | None = "inbox/a.jsonl") -> list[object]:
    """The outputs of a document two days behind a newer one of the same origin-less or named stream."""
    state = eng.initial_state()
    state, _ = eng.process_document(state, doc("Markets rose.", at=100, doc_id="new"))
    if origin is not None:  # a named origin's watermark moves at the caught-up mark: a stream's is its newest time
        assert state["wm"] is not None
    _state, outs = eng.process_document(state, doc(text, at=52, doc_id=doc_id), origin=origin, line=7)
    return list(outs)


def test_a_late_document_no_detection_reads_is_passed_over_not_dead_lettered(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    for text, why in [
        ("Markets fell.", "no signal at all"),
        ("A storm hit the coast.", "a signal no detection uses"),
        ("The border was shut overnight.", "no country: the group it would join is unknown"),
        ("Officials denied a curfew was imposed.", "a modality the detection does not take"),
    ]:
        outs = late_outputs(eng, text, "old")
        assert not [o for o in outs if isinstance(o, DeadLetter)], why
        assert [o for o in outs if isinstance(o, PassedOver)] == [PassedOver("inbox/a.jsonl", "old")], why


def test_a_late_document_a_detection_reads_is_still_dead_lettered_with_its_place(tmp_path: Path) -> None:
    outs = late_outputs(engine(tmp_path), "Alphaland shut the border.", "old")
    [letter] = [o for o in outs if isinstance(o, DeadLetter)]
    assert letter.reason.startswith("late: document old ") and (letter.origin, letter.line) == ("inbox/a.jsonl", 7)
    assert letter.stage == "event-time"
    assert not [o for o in outs if isinstance(o, PassedOver)]


def test_a_future_date_stays_a_dead_letter_whatever_it_says(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    state = eng.initial_state()
    typo = doc("Markets fell.", at=24 * 365 * 74, doc_id="2099")  # the "2099" case: no signal either
    _state, outs = eng.process_document(state, typo, origin="inbox/a.jsonl", received_at=T0, line=3)
    [letter] = [o for o in outs if isinstance(o, DeadLetter)]
    assert letter.reason.startswith("dated in the future: document 2099 ")
    assert not [o for o in outs if isinstance(o, PassedOver)]


def test_a_late_edition_keeps_its_report_its_correction_may_withdraw(tmp_path: Path) -> None:
    """An edition of a feed item with no signal can still withdraw what its item's earlier versions said
    (corrections.py): a detection reads it, through the correction."""
    eng = engine(tmp_path)
    edition = f"item-1{EDITION_MARK}{'0' * 16}"
    outs = late_outputs(eng, "Markets fell.", edition)
    assert [o.reason.split(" (")[0] for o in outs if isinstance(o, DeadLetter)] == [f"late: document {edition}"]


def test_a_checked_input_is_passed_over_as_its_document_is(tmp_path: Path) -> None:
    """A backtest's checked inputs (Engine.process_input) are counted in the same unit as the live run's documents:
    built or not (no rule can match), a late one no detection reads is passed over."""
    eng = engine(tmp_path)
    state = eng.initial_state()
    state, _ = eng.process_document(state, doc("Markets rose.", at=100, doc_id="new"))

    def checked(text: str) -> CheckedInput:
        return check_document(
            {
                "type": "news.article",
                "published_at": (T0 + timedelta(hours=52)).isoformat(),
                "source": "W",
                "title": text,
            }
        )

    tally = EngineTally()
    for text in ("Markets fell.", "A storm hit the coast.", "Alphaland shut the border."):
        state, outs = eng.process_input(state, checked(text))
        tally.count(outs)
    assert tally.passed_over == {"": 2} and tally.late_passed_over == 2
    assert [dl.reason.split(" ")[0] for dl in tally.late] == ["late:"]  # the one a detection reads


def test_replay_in_log_order_passes_over_and_reports_what_the_live_run_did(tmp_path: Path) -> None:
    """Replay == live: the embedded runner over a log with a backfill, `backtest --from-store --order log` of that log
    (its events), and a file backtest in log order (checked inputs and event times with their origin, Logged) report
    the same late documents and pass over as many."""
    eng = engine(tmp_path)
    at = T0 + timedelta(days=30)  # when they were received
    new = [doc("Markets rose.", at=24 * 20 + h, doc_id=f"new-{h}") for h in range(2)]
    texts = ["Markets fell.", "A storm hit the coast.", "Alphaland shut the border.", "The border was shut.", "Calm."]
    old = [doc(text, at=24 * 2 + h, doc_id=f"old-{h}") for h, text in enumerate(texts)]
    events = [document_event(d, origin="new.jsonl", received_at=at) for d in new]
    events.append(caught_up_event(CaughtUp(at=at, origins=("new.jsonl",))))
    events += [document_event(d, origin="old.jsonl", received_at=at) for d in old]
    events.append(caught_up_event(CaughtUp(at=at, origins=("new.jsonl", "old.jsonl"))))
    store = MemoryStore()
    store.append(events)
    live = EmbeddedRunner(store, eng).run_once()
    assert [dl.reason.split()[2] for dl in live.late] == ["old-2"]
    assert live.passed_over == {"old.jsonl": 4}

    from_store = replay([se.event for se in store.read(limit=100)], eng, order="log", signalled_only=True)
    assert [dl.reason.split()[2] for dl in from_store.late] == ["old-2"]
    assert from_store.passed_over == live.passed_over

    def logged(d: Document, origin: str) -> Logged:
        item = check_document(
            {"type": "news.article", "id": d.id, "published_at": d.published_at.isoformat(), "source": d.source.name,
             "title": d.title, "body": d.body}
        )  # fmt: skip
        gated = not eng.extractor.may_match(item.title, item.body)  # a line no rule can match: its event time only
        return Logged(item.ts if gated else item, origin)

    files: list[Replayable] = [logged(d, "new.jsonl") for d in new]
    files.append(events[len(new)].model_copy())  # the marks, as the file backtest puts them between its reads
    files += [logged(d, "old.jsonl") for d in old]
    files.append(events[-1])
    from_files = replay(files, eng, order="log", received_at=at, signalled_only=True)
    assert [dl.reason.split()[2] for dl in from_files.late] == ["old-2"]
    assert from_files.passed_over == live.passed_over

    # An origin-less stream (a file backtest's documents, in log order): built, checked or reduced to event times
    plain = replay([*new, *old], eng, order="log", signalled_only=True)
    reduced = replay([logged(d, "").item for d in [*new, *old]], eng, order="log", signalled_only=True)
    for result in (plain, reduced):
        assert [dl.reason.split()[2] for dl in result.late] == ["old-2"]
        assert result.passed_over == {"": 4}


def test_the_heartbeat_keeps_late_counts_per_source_for_status_and_metrics() -> None:
    """`run` adds each cycle's late documents per source (passed over, dead-lettered) to running counts in the
    heartbeat, from which `status` and /metrics read them (`watchfloor_late_documents`)."""
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from watchfloor.alerts.control import ControlLog
    from watchfloor.web.activity import ActivityView, HeartbeatRecorder, heartbeat
    from watchfloor.web.metrics import LogCollector, registry_for

    store = MemoryStore()
    hb = HeartbeatRecorder(store, every=0.0, sources=["inbox/old.jsonl", "https://u:secret@feeds.example/a.xml"])
    hb.late({"inbox/old.jsonl": 340}, {"inbox/old.jsonl": 2})
    hb.cycle(T0, 1.0, {"inbox/old.jsonl": 0.1})
    hb.late({"inbox/old.jsonl": 10, "https://u:secret@feeds.example/a.xml": 1}, {})
    hb.cycle(T0 + timedelta(minutes=1), 1.0, {"inbox/old.jsonl": 0.1})
    assert heartbeat(store).late == {
        "inbox/old.jsonl": {"passed_over": 350, "dead_lettered": 2},
        "https://u:***@feeds.example/a.xml": {"passed_over": 1, "dead_lettered": 0},  # (a feed's password: never)
    }
    text = generate_latest(registry_for(LogCollector(store, ActivityView(store), ControlLog(store)))).decode()
    got = {
        tuple(sorted(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == "watchfloor_late_documents_total"
    }
    assert got[(("outcome", "passed_over"), ("source", "inbox/old.jsonl"))] == 350
    assert got[(("outcome", "dead_lettered"), ("source", "inbox/old.jsonl"))] == 2


def test_the_status_page_lists_late_counts_per_source() -> None:
    """The status page of `serve` shows the heartbeat's late counts per source, as `status` and /metrics do (the
    page had none: an operator watching it never saw a backfill passed over)."""
    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.slackapp.commands import AppContext
    from watchfloor.web.activity import HeartbeatRecorder
    from watchfloor.web.server import Services, create_app

    store = MemoryStore()
    hb = HeartbeatRecorder(store, every=0.0, sources=["inbox/old.jsonl"])
    hb.late({"inbox/old.jsonl": 340}, {"inbox/old.jsonl": 2})
    hb.cycle(T0, 1.0, {"inbox/old.jsonl": 0.1})
    control = ControlLog(store)
    services = Services(store=store, control=control, context=AppContext(control=control, rules={}), slack_app=None)
    page = create_app(services).test_client().get("/").get_data(as_text=True)
    row = page.split('id="late"')[1].split('data-source="inbox/old.jsonl"')[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[2:]] == ["340", "2"], row


def test_a_cycles_late_counts_per_origin_keep_documents_without_one_together(tmp_path: Path) -> None:
    """`run`'s late counts per origin for the heartbeat: a document read with no origin is named by its id in its
    report (`document:ID`), and counted with the others of none (""), so the heartbeat's counts stay one per source."""
    from watchfloor.cli.run import late_by_origin

    eng = engine(tmp_path)
    tally = EngineTally()
    for doc_id, origin in (("a", "inbox/old.jsonl"), ("b", None), ("c", None)):
        tally.count(late_outputs(eng, "Alphaland shut the border.", doc_id, origin=origin))
    tally.count(late_outputs(eng, "Markets fell.", "d", origin=None))
    assert late_by_origin([tally]) == ({"": 1}, {"inbox/old.jsonl": 1, "": 2})
