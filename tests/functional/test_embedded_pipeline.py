"""The embedded pipeline end to end on SQLite: ingest -> detect -> Slack, restarts, crashes, replay == live."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from watchfloor.backtest import log_from_store
from watchfloor.schemas.config import AppConfig, JsonlSource, SlackChannel, Subscription
from watchfloor.schemas.events import Detection, Event, EventType
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.wiring import EmbeddedPipeline, WiringError

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
STORY = EVENTS / "treaty_story.jsonl"

pytestmark = pytest.mark.functional


def config(tmp_path: Path, slack_base_url: str) -> AppConfig:
    return AppConfig(
        store=f"sqlite:///{tmp_path / 'wf.db'}",
        rules=["builtin:dprk_russia"],
        sources=[JsonlSource(path=str(STORY))],
        channels=[SlackChannel(name="desk", channel="#dprk-russia", base_url=slack_base_url)],
        subscriptions=[Subscription(channel="desk", rules=["*"], min_severity="medium")],
    )


def cycle(p: EmbeddedPipeline) -> None:
    p.poller.poll_once()
    p.runner.run_once()
    p.dispatcher.run_once()


def detections(store: Any) -> list[Detection]:
    return [Detection.model_validate(se.event.payload) for se in store.read(0, types={"detection"}, limit=10_000)]


def test_end_to_end_to_slack_and_restart_sends_nothing_twice(tmp_path: Path, slack_server: Any) -> None:
    cfg = config(tmp_path, slack_server.base_url)
    env = {"SLACK_BOT_TOKEN": slack_server.token}
    p = EmbeddedPipeline(cfg, env=env)
    cycle(p)
    sent = list(slack_server.messages)
    assert len(sent) == 8, [m.get("text") for m in sent]
    assert all(m["channel"] == "#dprk-russia" for m in sent)
    cycle(p)  # same process, nothing new
    p.close()
    p2 = EmbeddedPipeline(cfg, env=env)  # a restart
    cycle(p2)
    p2.close()
    assert len(slack_server.messages) == 8
    st = SqlStore(cfg.store)
    try:
        assert st.count(types={EventType.DELIVERY.value}) == 8
        assert all(st.delivery_status(d.id, "desk") == "sent" for d in detections(st))
    finally:
        st.close()


def test_missing_slack_token_is_a_clear_error(tmp_path: Path, slack_server: Any) -> None:
    with pytest.raises(WiringError, match="SLACK_BOT_TOKEN"):
        EmbeddedPipeline(config(tmp_path, slack_server.base_url), env={})


def test_slack_token_never_in_the_log(tmp_path: Path, slack_server: Any) -> None:
    cfg = config(tmp_path, slack_server.base_url)
    p = EmbeddedPipeline(cfg, env={"SLACK_BOT_TOKEN": slack_server.token})
    cycle(p)
    p.close()
    raw = (tmp_path / "wf.db").read_bytes()
    assert slack_server.token.encode() not in raw


class CrashingStore(SqlStore):
    """Dies (like a SIGKILL) on the N-th commit of the engine processor, before anything is written."""

    def __init__(self, url: str, crash_on: int) -> None:
        super().__init__(url)
        self.crash_on = crash_on
        self.commits = 0

    def commit(
        self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
    ) -> int:
        if processor == "engine":
            self.commits += 1
            if self.commits == self.crash_on:
                raise SystemExit("simulated crash")
        return super().commit(processor, checkpoint, outputs, since=since)


def test_crash_mid_stream_loses_nothing_and_repeats_nothing(tmp_path: Path, slack_server: Any) -> None:
    cfg = config(tmp_path, slack_server.base_url)
    env = {"SLACK_BOT_TOKEN": slack_server.token}
    # Reference: an uninterrupted run in another database.
    ref_cfg = cfg.model_copy(update={"store": f"sqlite:///{tmp_path / 'ref.db'}"})
    ref = EmbeddedPipeline(ref_cfg, env=env)
    ref.poller.poll_once()
    ref.runner.run_once()
    expected = sorted(d.id for d in detections(ref.store))
    ref.close()
    slack_server.reset()

    crashing = CrashingStore(cfg.store, crash_on=3)
    p = EmbeddedPipeline(cfg, store=crashing, env=env)
    p.poller.poll_once()
    p.runner = EmbeddedRunner(crashing, p.engine, batch_size=2)
    with pytest.raises(SystemExit):
        p.runner.run_once()
    p.dispatcher.run_once()  # alerts from the batches that did commit
    p.close()

    p2 = EmbeddedPipeline(cfg, env=env)  # restart: resumes from the checkpoint with its state
    p2.runner = EmbeddedRunner(p2.store, p2.engine, batch_size=2)
    p2.runner.run_once()
    p2.dispatcher.run_once()
    got = sorted(d.id for d in detections(p2.store))
    p2.close()
    assert got == expected  # nothing lost, nothing twice (ids are unique in the log)
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]
    assert len(ids) == len(set(ids)) == 8


class RacedStore(SqlStore):
    """Before its first engine commit, another process (a second store object on the same file) runs the
    whole log: two `run --once` over one store, the slower one finishing its first batch last."""

    def __init__(self, url: str, other: EmbeddedRunner) -> None:
        super().__init__(url)
        self.other = other
        self.other_tally: Any = None
        self.after_other = 0

    def commit(
        self, processor: str, checkpoint: Checkpoint, outputs: Sequence[Event], *, since: int | None = None
    ) -> int:
        if processor == "engine" and self.other_tally is None:
            self.other_tally = self.other.run_once()
            self.after_other = self.checkpoint_position("engine")
        return super().commit(processor, checkpoint, outputs, since=since)


def test_two_runners_on_one_store_do_the_work_once(tmp_path: Path, slack_server: Any) -> None:
    """The runner that commits second stops, counts nothing it did not commit, and leaves the checkpoint
    where the first put it; the log holds each output once."""
    cfg = config(tmp_path, slack_server.base_url)
    p = EmbeddedPipeline(cfg, env={"SLACK_BOT_TOKEN": slack_server.token})
    p.poller.poll_once()
    documents = p.store.count(types={"news.article", "official.statement"})
    other = EmbeddedRunner(p.store, p.engine, batch_size=5)
    raced = RacedStore(cfg.store, other)
    try:
        slow = EmbeddedRunner(raced, p.engine, batch_size=5).run_once()
        fast = raced.other_tally
        assert fast.documents == documents and len(fast.detections) == 8
        assert slow.documents == 0 and slow.signals == 0 and slow.detections == []
        assert raced.after_other > 5 and raced.checkpoint_position("engine") == raced.after_other  # not moved back
        ids = [d.id for d in detections(p.store)]
        assert len(ids) == len(set(ids)) == 8
        assert EmbeddedRunner(p.store, p.engine).run_once().documents == 0  # nothing left, nothing redone
    finally:
        raced.close()
        p.close()


def test_replay_equals_live(tmp_path: Path, slack_server: Any) -> None:
    """The backtest replayer over the log gives exactly the live runner's detections."""
    cfg = config(tmp_path, slack_server.base_url)
    p = EmbeddedPipeline(cfg, env={"SLACK_BOT_TOKEN": slack_server.token})
    p.poller.poll_once()
    p.runner.run_once()
    live = [(d.id, d.rule, d.group, [e.event_id for e in d.evidence]) for d in detections(p.store)]
    replayed = replay(log_from_store(p.store), p.engine, order="log").detections
    p.close()
    assert live == [(d.id, d.rule, d.group, [e.event_id for e in d.evidence]) for d in replayed]
