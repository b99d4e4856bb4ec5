"""One rule set per worker group (stream_processors/kafka/rules_guard.py): the fingerprint, the member marks,
the correlate agent's check of routed signals, and the wait at start for members with other rules to leave."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from watchfloor.schemas.config import KafkaConfig
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.fingerprint import (
    Fingerprint,
    difference,
    legacy_fingerprint,
    other_release,
    parse_fingerprint,
)
from watchfloor.stream_processors.kafka.rules_guard import (
    RULES_HEADER,
    RulesGuard,
    RulesMismatch,
    client_id,
    member_rules,
    mismatch_message,
    parse_rules,
    release,
    rules_fingerprint,
    strangers,
)
from watchfloor.stream_processors.kafka.worker import wait_for_one_rule_set
from watchfloor.stream_processors.rulefile import load_rules

PACK = """\
version: 1
name: guard-test
signals:
  summit:
    match: {any: [summit]}
detections:
  - id: summit-held
    title: A summit
    pattern: {any: summit}
"""


def engine(*specs: str) -> Engine:
    return Engine(load_rules(list(specs))[1])


def test_the_fingerprint_follows_the_rules_not_the_load(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    first = rules_fingerprint(engine(str(pack)))
    assert first == rules_fingerprint(engine(str(pack)))  # another process, the same rules
    assert len(first) == len("0123456789ab-v") + len(release())
    pack.write_text(PACK.replace("[summit]", "[summit, summit talks]"))
    assert rules_fingerprint(engine(str(pack))) != first
    assert rules_fingerprint(engine("builtin:dprk_russia")) not in (first, rules_fingerprint(engine(str(pack))))


def test_the_fingerprint_follows_the_watchfloor_release_too(tmp_path: Path) -> None:
    # Two releases whose engines read the same packs differently must not share a worker group.
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    rules = engine(str(pack))
    old, new = rules_fingerprint(rules, version="0.1.0"), rules_fingerprint(rules, version="0.2.0")
    assert old != new and old.endswith("-v0.1.0") and new.endswith("-v0.2.0")
    assert rules_fingerprint(rules, version="0.1.0") == old  # the same release, the same rules: the same
    assert rules_fingerprint(rules) == rules_fingerprint(rules, version=release())  # default: this release
    said = mismatch_message("wf-worker", new, [f"wf-worker-h-1-rules-{old}@h"], version="0.2.0")
    assert f"(fingerprint {new}: its rule packs and lateness, watchfloor 0.2.0)" in said
    assert "another watchfloor release" in said and f"rules-{old}@h" in said
    assert f"rules-{old}@h (the same rules on another watchfloor version (0.1.0))" in said, said


def test_a_fingerprint_names_its_release_so_a_release_alone_is_told_apart(tmp_path: Path) -> None:
    # Outside trial 15, M1: after an upgrade the old workers' records read as "other rules" though only the
    # release (and the bundled pack's inline examples) differed.
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    rules = engine(str(pack))
    old, new = rules_fingerprint(rules, version="0.1.0"), rules_fingerprint(rules, version="0.2.0")
    assert parse_fingerprint(old) == Fingerprint(new.split("-v")[0], "0.1.0")
    assert other_release(old, new) == "0.1.0" and other_release(new, new) is None
    assert difference(old, new) == "the same rules on another watchfloor version (0.1.0)"
    pack.write_text(PACK.replace("[summit]", "[summit, summit talks]"))
    edited = rules_fingerprint(engine(str(pack)), version="0.1.0")
    assert other_release(edited, new) is None and difference(edited, new) == "other rules (on watchfloor 0.1.0)"
    # A fingerprint of before the mark (one digest of packs, lateness and release) cannot say which.
    assert parse_fingerprint("7ee880713762") == Fingerprint("7ee880713762", None)
    assert other_release("7ee880713762", new) is None and "cannot say which" in difference("7ee880713762", new)


def test_the_fingerprint_of_before_the_release_mark_is_known_for_these_rules(tmp_path: Path) -> None:
    # What the release of before the mark wrote for PACK on 0.1.0 (its rules_fingerprint): the old workers' records
    # of these very rules are told from other rules by it.
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    assert legacy_fingerprint(engine(str(pack)), version="0.1.0") == "1021ae91e9db"


def test_inline_examples_are_not_part_of_the_fingerprint(tmp_path: Path) -> None:
    # They are the pack's tests: a release that adds one to a bundled pack reads its rules as before.
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    plain = rules_fingerprint(engine(str(pack)))
    pack.write_text(PACK + "    examples:\n      - {name: one, documents: [{title: The summit}]}\n")
    assert rules_fingerprint(engine(str(pack))) == plain


def test_members_say_which_rules_they_run() -> None:
    cid = client_id("wf-worker", "host-a", 4242, "0123456789ab")
    assert cid == "wf-worker-host-a-4242-rules-0123456789ab"
    assert member_rules(f"{cid}@10.0.0.7") == "0123456789ab"
    assert member_rules("wf-worker-host-b-99@10.0.0.8") is None  # a worker from before the mark
    members = [f"{cid}@a", "wf-worker-h-1-rules-ffffffffffff@b", "wf-worker-old-2@c"]
    assert strangers(members, "0123456789ab") == ["wf-worker-h-1-rules-ffffffffffff@b"]
    assert strangers(members, "ffffffffffff") == [f"{cid}@a"]


def test_the_guard_logs_a_stranger_at_once_then_a_count_now_and_then(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    guard = RulesGuard("aaaaaaaaaaaa", group="wf-worker", every_s=60, clock=lambda: now[0])
    caplog.set_level(logging.ERROR, logger="watchfloor.stream_processors.kafka.rules_guard")
    assert guard.check("aaaaaaaaaaaa", "kafka:c[0]@1")
    assert guard.check(None, "kafka:c[0]@2") and guard.unmarked == 1
    assert not guard.check("bbbbbbbbbbbb", "kafka:c[1]@3")
    for i in range(5):
        now[0] += 10
        assert not guard.check("bbbbbbbbbbbb", f"kafka:c[1]@{4 + i}")
    now[0] += 20  # 70 s after the first line
    guard.check("bbbbbbbbbbbb", "kafka:c[1]@9")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "kafka:c[1]@3" in lines[0] and "fingerprint bbbbbbbbbbbb" in lines[0] and "aaaaaaaaaaaa" in lines[0]
    assert "1 such record" in lines[0] and "7 such record" in lines[1]
    assert guard.foreign == {"bbbbbbbbbbbb": 7}


def test_the_header_is_read_from_a_dict_or_a_list_of_pairs() -> None:
    assert parse_rules({RULES_HEADER: b"abc"}) == "abc"
    assert parse_rules([("wf-origin", b"1:2:0:0"), (RULES_HEADER, b"def")]) == "def"
    assert parse_rules(None) is None and parse_rules({"wf-origin": b"1:2:0:0"}) is None


def test_a_worker_waits_for_members_with_other_rules_to_leave_then_gives_up() -> None:
    settings = KafkaConfig(session_timeout=10)
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    ours, other = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
    stranger = f"wf-worker-h-1-rules-{other}@h"
    # One that leaves after a few polls (a worker stopped a moment ago): the wait ends then.
    polls = iter([[stranger], [stranger], [f"wf-worker-h-2-rules-{ours}@h"]])
    wait_for_one_rule_set(settings, ours, lambda: next(polls), clock=lambda: now[0], sleep=sleep)
    assert slept == [2.0, 2.0]
    # One that stays: refused after twice the session timeout, with the member named and what to do.
    now[0], slept[:] = 0.0, []
    with pytest.raises(RulesMismatch) as refused:
        wait_for_one_rule_set(settings, ours, lambda: [stranger], clock=lambda: now[0], sleep=sleep)
    assert now[0] >= 20 and stranger in str(refused.value) and "same rule packs" in str(refused.value)
    # Nobody else, or only workers older than the mark: no wait at all.
    slept[:] = []
    wait_for_one_rule_set(settings, ours, lambda: ["wf-worker-old-3@h"], clock=lambda: now[0], sleep=sleep)
    assert slept == []


def test_extract_stamps_routed_signals_and_correlate_counts_strangers(caplog: pytest.LogCaptureFixture) -> None:
    """The agents' wiring, without a broker: Extract puts its fingerprint on every routed signal; a Correlate
    with other rules counts (and logs) each such record, and one with the same rules does not."""
    import asyncio

    from tests.fixtures.correlate_agent import Message, Outputs, Record, correlate_agent
    from watchfloor.schemas.events import document_event
    from watchfloor.schemas.inputs import parse_document
    from watchfloor.schemas.topics import TopicNames
    from watchfloor.stream_processors.kafka.agents import Extract
    from watchfloor.stream_processors.kafka.codec import encode_event
    from watchfloor.stream_processors.kafka.partition import PartitionCorrelator

    eng = engine("builtin:dprk_russia")
    names = TopicNames("t")

    class Sent(Outputs):
        def __init__(self, names: TopicNames) -> None:
            super().__init__(names)
            self.records: list[Record] = []

        async def send(
            self, topic: str, key: bytes | None, value: bytes, partition: object = None, headers: object = None
        ) -> object:
            if topic == names.correlate and headers:
                self.records.append(Record(Message(topic, 0, len(self.records)), value, dict(headers)))  # type: ignore[call-overload]
            return await super().send(topic, key, value, partition, headers)

    out = Sent(names)
    extract = Extract(None, eng, out, partitions=1, batch_within=0.01, rules="aaaaaaaaaaaa")
    doc = parse_document(
        {
            "id": "doc-1",
            "type": "news.article",
            "published_at": "2024-11-04T10:00:00+00:00",
            "source": "Wire",
            "title": "North Korean soldiers have been sent to Russia's Kursk region, NATO says",
            "body": "Officials commented later in the day.",
        }
    )
    value = encode_event(document_event(doc))

    async def go() -> None:
        await extract._one(Record(Message(names.documents, 0, 0), value, None), set())

    asyncio.run(go())
    assert out.records and all(parse_rules(r.headers) == "aaaaaaaaaaaa" for r in out.records)

    caplog.set_level(logging.ERROR, logger="watchfloor.stream_processors.kafka.rules_guard")
    for ours, strangers_seen in (("aaaaaaaaaaaa", 0), ("bbbbbbbbbbbb", len(out.records))):
        guard = RulesGuard(ours, group="g")
        correlate = correlate_agent({}, PartitionCorrelator(eng, 1), Outputs(names), guard=guard)
        asyncio.run(correlate.process(out.records))
        assert sum(guard.foreign.values()) == strangers_seen
    assert len(caplog.records) == 1 and "running other rules" in caplog.records[0].getMessage()


def test_the_wait_rides_out_an_unreachable_broker_and_skips_when_members_cannot_be_listed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kafka.errors import KafkaTimeoutError as NoBrokersAvailable  # kafka-python 3: a bootstrap failure

    settings = KafkaConfig(session_timeout=10)
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    answers: list[object] = [NoBrokersAvailable(), NoBrokersAvailable(), []]

    def members() -> list[str] | None:
        a = answers.pop(0)
        if isinstance(a, BaseException):
            raise a
        return a  # type: ignore[return-value]

    wait_for_one_rule_set(settings, "aaaaaaaaaaaa", members, clock=lambda: now[0], sleep=sleep)
    assert answers == [] and now[0] == 4.0  # waited through the outage, then found nobody else
    # An outage longer than the deadline does not turn into a refusal: only strangers that stay do.
    stranger = "wf-worker-h-1-rules-bbbbbbbbbbbb@h"
    answers = [NoBrokersAvailable()] * 30 + [[stranger], []]
    wait_for_one_rule_set(settings, "aaaaaaaaaaaa", members, clock=lambda: now[0], sleep=sleep)
    # A broker that does not say who is in the group: the check is skipped, said at info (usual while a group forms:
    # a warning read like a failure at every first start, outside trial 39, L).
    caplog.set_level(logging.INFO, logger="watchfloor.stream_processors.kafka.worker")
    wait_for_one_rule_set(settings, "aaaaaaaaaaaa", lambda: None, clock=lambda: now[0], sleep=sleep)
    [said] = [r for r in caplog.records if "did not describe group" in r.getMessage()]
    assert said.levelno == logging.INFO and said.getMessage().startswith("rules check at start skipped")


def test_the_refusal_names_only_options_the_worker_has() -> None:
    # An outside audit followed the advice "start this one in another group (--group)": no such option.
    import re

    import typer

    from watchfloor.cli.distributed import app

    command = typer.main.get_command(app)
    worker = command.commands["worker"]  # type: ignore[attr-defined]
    options = {opt for param in worker.params for opt in getattr(param, "opts", [])}
    said = mismatch_message("wf-worker", "0123456789ab", ["wf-worker-h-1-rules-ffffffffffff@h"], version="0.2.0")
    named = set(re.findall(r"--[a-z][a-z-]*", said))
    assert named and named <= options, named - options


def test_the_guard_says_when_a_stranger_differs_by_its_release_alone(caplog: pytest.LogCaptureFixture) -> None:
    guard = RulesGuard("0123456789ab-v0.2.0", group="wf-worker")
    caplog.set_level(logging.ERROR, logger="watchfloor.stream_processors.kafka.rules_guard")
    assert not guard.check("0123456789ab-v0.1.0", "kafka:c[0]@1")
    assert "the same rules on another watchfloor version (0.1.0)" in caplog.records[0].getMessage()


def test_a_running_run_tells_each_other_start_once_and_the_same_rules_of_another_release_as_such(
    tmp_path: Path,
) -> None:
    # Review of b3b8491 (LOW): the fingerprint another process recorded at its start on the store (note_rules), as a
    # running `run` looks at it each cycle. A fingerprint of these very rules by another release (marked, or of
    # before the mark) is another release, not other rules; and after this one's own is recorded again, a second
    # start with other rules is told again (it was never told: the first had been kept as told for good).
    from watchfloor.stream_processors.ports import Checkpoint
    from watchfloor.stream_processors.runner import RULES_IN_USE, OtherRulesWatch, OtherStart
    from watchfloor.stream_processors.stores import open_store

    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    (tmp_path / "q.yaml").write_text(PACK.replace("summit]", "summit, talks]"), encoding="utf-8")
    ours_engine = engine(str(tmp_path / "p.yaml"))
    ours, legacy = rules_fingerprint(ours_engine), legacy_fingerprint(ours_engine)
    theirs = rules_fingerprint(engine(str(tmp_path / "q.yaml")))
    older = rules_fingerprint(ours_engine, version="0.0.9")
    assert len({ours, legacy, theirs, older}) == 4
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")

    def record(fingerprint: str) -> None:
        seen = store.load_checkpoint(RULES_IN_USE)
        store.commit(RULES_IN_USE, Checkpoint(seen.position, {"fingerprint": fingerprint}), [], since=seen.position)

    try:
        watch = OtherRulesWatch(store, ours, legacy)
        assert watch.other() is None  # nothing recorded yet
        record(ours)
        assert watch.other() is None
        record(theirs)
        assert watch.other() == OtherStart(theirs, None) and watch.other() is None  # told once
        record(ours)  # this one's rules recorded again (a restart of it)
        assert watch.other() is None
        record(theirs)  # a second start with those rules: told again
        assert watch.other() == OtherStart(theirs, None) and watch.other() is None
        record(older)
        assert watch.other() == OtherStart(older, "0.0.9")
        record(legacy)
        assert watch.other() == OtherStart(legacy, "a release of before fingerprints named it")
    finally:
        store.close()


def test_a_running_run_tells_another_start_differing_in_thread_by_only_as_threading(tmp_path: Path) -> None:
    # Left of outside trial 79, F4: another `run` started with the same pack but for a rule's `thread_by` was told as
    # "other rules" (stop one, backtest): the alerts are the same, only the threads of new stories can differ. The
    # digest of the rules without thread_by, recorded by note_rules, says so; another release, or rules differing
    # elsewhere, are told as before.
    from watchfloor.stream_processors.fingerprint import rules_digest
    from watchfloor.stream_processors.ports import Checkpoint
    from watchfloor.stream_processors.rulefile import builtin_dir
    from watchfloor.stream_processors.runner import RULES_IN_USE, OtherRulesWatch, OtherStart
    from watchfloor.stream_processors.stores import open_store

    grouped = (builtin_dir() / "dprk_russia.yaml").read_text(encoding="utf-8")
    title = 'title: "{party} ratified the DPRK–Russia treaty"'
    assert "    group_by: [party]\n" in grouped and title in grouped
    (tmp_path / "p.yaml").write_text(grouped, encoding="utf-8")
    threads = grouped.replace("    group_by: [party]\n", "    group_by: [party]\n    thread_by: []\n")
    (tmp_path / "t.yaml").write_text(threads, encoding="utf-8")
    (tmp_path / "q.yaml").write_text(grouped.replace(title, title.replace("ratified", "has ratified")))
    ours_engine, threaded, other = (engine(str(tmp_path / n)) for n in ("p.yaml", "t.yaml", "q.yaml"))
    ours, legacy = rules_fingerprint(ours_engine), legacy_fingerprint(ours_engine)
    alerts = rules_digest(ours_engine, threads=False)
    assert rules_digest(threaded, threads=False) == alerts != rules_digest(other, threads=False)
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")

    def record(e: Engine, version: str | None = None) -> str:  # as a starting `run` records its rules (note_rules)
        fingerprint = rules_fingerprint(e) if version is None else rules_fingerprint(e, version=version)
        seen = store.load_checkpoint(RULES_IN_USE)
        state = {"fingerprint": fingerprint, "alerts": rules_digest(e, threads=False)}
        store.commit(RULES_IN_USE, Checkpoint(seen.position, state), [], since=seen.position)
        return fingerprint

    try:
        watch = OtherRulesWatch(store, ours, legacy, alerts)
        record(ours_engine)
        assert watch.other() is None
        theirs = record(threaded)
        assert theirs != ours
        assert watch.other() == OtherStart(theirs, None, threads_only=True) and watch.other() is None
        other_fp = record(other)
        assert watch.other() == OtherStart(other_fp, None)
        older = record(threaded, version="0.0.9")  # thread_by differs AND another release: not threading alone
        assert watch.other() == OtherStart(older, None)
    finally:
        store.close()
