"""Distributed mode end to end: a REAL Kafka broker, Faust workers as subprocesses, a local Slack server.

* The same documents give the same detections (rule, group, evidence, severity, id) through the embedded
  runner and through Kafka + two Faust workers sharing the partitions; poison records are dead-lettered.
* A worker SIGKILLed in the middle of delivering alerts and restarted loses no detection and posts no Slack
  message twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("kafka")
pytest.importorskip("faust")

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from watchfloor.alerts.notice import REPLACED
from watchfloor.schemas.events import Detection, Document, EventType, document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.topics import TopicNames as Topics
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.app import ASSIGNMENT_LOG
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
from watchfloor.stream_processors.kafka.status import pipeline_status
from watchfloor.stream_processors.kafka.topics import ensure_topics
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "distributed" / "dprk_russia.jsonl"
ALERT_EVENTS = {"detection", "detection.retracted"}
RULES = ["builtin:dprk_russia"]
SESSION_TIMEOUT = 6.0  # the broker's minimum: a killed worker's partitions move after this long
DEADLINE = 120.0  # for any one wait below


# ---- helpers -------------------------------------------------------------------------------------------------------


def load_docs() -> list[Document]:
    return [parse_document(orjson.loads(line)) for line in DATA.read_text().splitlines() if line.strip()]


def engine(rules: list[str] = RULES) -> Engine:
    _loaded, compiled = load_rules(rules)
    return Engine(compiled)


def key(d: Detection) -> tuple[Any, ...]:
    return (
        d.id,
        d.rule,
        tuple(sorted(d.group.items())),
        d.severity,
        d.confidence,
        d.fired_at,
        tuple(e.event_id for e in d.evidence),
    )


def embedded_detections(docs: list[Document], rules: list[str] = RULES) -> list[Detection]:
    """The alerts that stand after the embedded runner took `docs` with `rules` (detections minus revised/retracted)."""
    store = MemoryStore()
    store.append([document_event(d) for d in docs])
    EmbeddedRunner(store, engine(rules)).run_once()
    return list(current_alerts(se.event for se in store.read(limit=100_000)).values())


def stored_detections(store_url: str) -> list[Detection]:
    """The alerts that stand in a store: its detections minus those a later revision or retraction withdrew.
    (Correlate partitions apply signals on arrival: a signal that arrives before an earlier one of its group
    raises a detection that the earlier one then revises.)"""
    store = open_store(store_url)
    try:
        return list(current_alerts(s.event for s in store.read(0, types=ALERT_EVENTS, limit=10_000)).values())
    finally:
        store.close()


def raised_events(store_url: str) -> set[str]:
    """The ids of every detection and retraction event in a store: each is one delivery (a new alert, or a
    reply in its thread: a follow-up, a revision, a withdrawal), but an alert, follow-up or revision that a later
    revision replaced before it was sent (recorded so in the log: the later one went in its place)."""
    store = open_store(store_url)
    try:
        raised = {s.event.id for s in store.read(0, types=ALERT_EVENTS, limit=10_000)}
        deliveries = store.read(0, types={EventType.DELIVERY.value}, limit=100_000)
        replaced = {
            s.event.payload["alert_id"]
            for s in deliveries
            if s.event.payload["status"] == "suppressed" and s.event.payload["detail"].startswith(REPLACED)
        }
        return raised - replaced
    finally:
        store.close()


def posted_ids(slack_server: Any) -> list[str]:
    return [m["metadata"]["event_payload"]["alert_id"] for m in slack_server.messages]


def all_posted(slack_server: Any, store_url: str, standing: set[str]) -> bool:
    """Every alert in `standing` stands in the store, and everything raised so far has been posted."""
    stored = {d.id for d in stored_detections(store_url)}
    return standing <= stored and raised_events(store_url) <= set(posted_ids(slack_server))


def check_posts(slack_server: Any, expected: list[Detection], store_url: str) -> None:
    """One Slack message per thing raised (an alert, or a reply in its thread when a late report revised or
    withdrew it): none twice, none missing, none for anything not raised; the alerts that stand are the
    embedded ones."""
    alert_ids = posted_ids(slack_server)
    dupes = {a: n for a, n in Counter(alert_ids).items() if n > 1}
    assert not dupes, f"Slack messages sent twice: {dupes}"
    assert set(alert_ids) == raised_events(store_url)
    assert sorted(map(key, stored_detections(store_url))) == sorted(map(key, expected))


@dataclass
class Worker:
    name: str
    args: list[str]
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0

    def start(self) -> Worker:
        self.runs += 1
        out = self.log.open("ab")
        out.write(f"\n===== start #{self.runs} =====\n".encode())
        out.flush()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watchfloor.cli", "worker", *self.args],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        out.close()
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def tail(self, n: int = 40) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def story(self, n: int = 160) -> str:
        """The log of this worker's last run for a failure message: lines that repeat but for their numbers
        (timestamps, partitions, "46.52 seconds ago") are folded into one with a count, so that a worker
        stuck warning every 5 s still shows how it got there (the rebalance and recovery lines before)."""
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        run = text.rsplit("===== start #", 1)[-1].splitlines()[1:]
        folded: list[tuple[str, str, int]] = []  # (shape, first line, count)
        for line in run:
            shape = re.sub(r"\d+(\.\d+)?", "#", line)
            # a line, or a group of up to three lines, repeating: the count goes to the first of them
            seen = next((i for i in range(len(folded) - 1, max(len(folded) - 4, -1), -1) if folded[i][0] == shape), -1)
            if seen >= 0:
                folded[seen] = (shape, folded[seen][1], folded[seen][2] + 1)
            else:
                folded.append((shape, line, 1))
        shown = [line if count == 1 else f"{line}  [x{count}]" for _, line, count in folded]
        skipped = f"[... {len(shown) - n} earlier lines ...]\n" if len(shown) > n else ""
        return skipped + "\n".join(shown[-n:])


@dataclass
class Cluster:
    bootstrap: str
    prefix: str
    app_id: str
    store_url: str
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)
    rules: list[str] = field(default_factory=lambda: list(RULES))  # what its workers' config names

    def worker(self, name: str, *, slack: Any = None, extra: list[str] | None = None) -> Worker:
        """`watchfloor worker` as a subprocess; with `slack` (the local Slack server) it also delivers alerts
        there, configured the way a user does it: a config file with the channel, and `--dispatch`."""
        args = [
            "--config", str(self.config(slack)),
            "--broker", self.bootstrap,
            "--prefix", self.prefix,
            "--app-id", self.app_id,
            "--store", self.store_url,
            "--session-timeout", str(SESSION_TIMEOUT),
            "--datadir", str(self.tmp / f"faust-{name}"),
            "--loglevel", os.environ.get("WF_TEST_WORKER_LOGLEVEL", "info"),
        ]  # fmt: skip
        if slack is not None:
            args.append("--dispatch")
        if os.environ.get("WF_TEST_WORKER_TRACE"):
            args.append("--trace")
        args += extra or []
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        if slack is not None:
            env["WF_TEST_SLACK_TOKEN"] = slack.token
        w = Worker(name, args, self.tmp / f"{name}.log", env)
        self.workers.append(w)
        return w

    def inject_fault(self, variable: str, value: str = "1") -> None:
        """Start this cluster's workers with a fault of tests/fixtures/faust_fault switched on (its sitecustomize
        on their PYTHONPATH; `variable` names the fault, e.g. WF_FAULT_STOP_FLOW, `value` is its setting)."""
        faults = Path(__file__).parents[1] / "fixtures" / "faust_fault"
        self.env[variable] = value
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(faults), os.environ.get("PYTHONPATH")]))

    def config(self, slack: Any = None) -> Path:
        """The workers' config file: the rules, and the local Slack server as the one channel when given."""
        cfg: dict[str, Any] = {"store": self.store_url, "rules": self.rules}
        if slack is not None:
            cfg["channels"] = [
                {
                    "type": "slack",
                    "name": "slack",
                    "channel": "#dprk-russia",
                    "token_env": "WF_TEST_SLACK_TOKEN",
                    "base_url": slack.base_url,
                }
            ]
            cfg["subscriptions"] = [{"channel": "slack"}]
            # A long backoff: the crash test kills the worker while a delivery waits in it, and a loaded machine
            # must not let the retry land first; a restarted process retries a backoff set before it at once.
            cfg["retry"] = {"attempts": 5, "backoff": "20s", "max_backoff": "20s"}
        path = self.tmp / ("worker-slack.yaml" if slack is not None else "worker.yaml")
        path.write_text(orjson.dumps(cfg).decode())  # JSON is YAML
        return path

    def wait(self, what: str, pred: Callable[[], bool], timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            for w in self.workers:
                if w.proc is not None and w.proc.poll() not in (None, -signal.SIGKILL, -signal.SIGTERM, 0):
                    pytest.fail(f"worker {w.name} exited with {w.proc.returncode}:\n{w.tail()}")
            time.sleep(0.05)
        logs = "\n\n".join(f"--- {w.name} (log {w.log}) ---\n{w.story()}" for w in self.workers)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")


@pytest.fixture
def cluster(kafka_bootstrap: str, kafka_admin: Any, tmp_path: Path) -> Iterator[Cluster]:
    prefix = f"wf-dist-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, prefix, partitions=3)
    c = Cluster(kafka_bootstrap, prefix, f"{prefix}-worker", f"sqlite:///{tmp_path / 'watchfloor.db'}", tmp_path)
    try:
        yield c
    finally:
        for w in c.workers:
            w.stop()
        if os.environ.get("WF_TEST_KEEP_TOPICS"):  # for a post-mortem of a failed run
            print(f"kept the topics of {prefix} (app id {c.app_id})")
        else:
            try:
                kafka_admin.delete_topics(
                    [*Topics(prefix).all(), f"{c.app_id}-correlate-state-changelog"], timeout_ms=30_000
                )
            except Exception as exc:  # best effort
                print(f"could not delete topics of {prefix}: {exc!r}")


def assignment(worker: Worker) -> dict[str, list[int]]:
    """The worker's current partitions, from the line it logs after each rebalance ({} before the first).

    (kafka-python's admin describe_groups cannot always decode Faust's assignment, so the log is the source.)"""
    try:
        text = worker.log.read_text(errors="replace")
    except FileNotFoundError:
        return {}
    run = text.rsplit("===== start #", 1)[-1]  # this run of the worker only
    lines = [ln for ln in run.splitlines() if ASSIGNMENT_LOG in ln]
    if not lines:
        return {}
    parsed: dict[str, list[int]] = orjson.loads(lines[-1].split(ASSIGNMENT_LOG, 1)[1])
    return parsed


def end_offsets(c: Cluster, topic: str) -> dict[int, int]:
    """partition -> end offset of one of the pipeline's topics, now."""
    st = pipeline_status(c.bootstrap, c.prefix, worker_group=c.app_id)
    return {p: end for (t, p), end in st.ends.items() if t == topic}


def committed_past(c: Cluster, topic: str, ends: dict[int, int]) -> bool:
    """The workers' group has committed every partition of `topic` up to `ends` (what was there when looked)."""
    st = pipeline_status(c.bootstrap, c.prefix, worker_group=c.app_id)
    (workers,) = (g for g in st.groups if g.role == "workers")
    return all(workers.offsets.get((topic, p), 0) >= end for p, end in ends.items())


def wait_processed(c: Cluster, topic: str) -> None:
    """Until the workers have committed `topic` as far as it is written now. Faust commits a record only once the
    agent acknowledged it and the producer was flushed: for correlate, after the batch's state went to the table (on
    RocksDB a put) and its outputs and changelog record were acknowledged (which writes the changelog offset into
    RocksDB); for detections, after the store has them."""
    ends = end_offsets(c, topic)
    c.wait(f"the workers to commit {topic} up to {ends}", lambda: committed_past(c, topic, ends))


def outstanding_deliveries(store_url: str) -> int:
    store = open_store(store_url)
    try:
        return store.delivery_counts().get("outstanding", 0)
    finally:
        store.close()


def backing_off(store_url: str) -> bool:
    """A delivery is waiting out its backoff: outstanding, tried, and not held by a dispatcher."""
    store = open_store(store_url)
    try:
        rows = store.deliveries(statuses=["outstanding"])
    finally:
        store.close()
    return any(r.attempts >= 1 and r.lease_owner is None for r in rows)


def settle(c: Cluster, slack_server: Any = None) -> None:
    """What a fixed pause ("anything extra would arrive now") stood for, waited on instead: the workers have
    committed every record written so far to documents, correlate and detections, in that order (each one's
    outputs are in the next before it commits), so any detection those records make is in the store. With
    `slack_server`: also everything raised is posted and no delivery is outstanding (the dispatcher sends only
    outstanding rows), so no post is still to come."""
    t = Topics(c.prefix)
    for topic in (t.documents, t.correlate, t.detections):
        wait_processed(c, topic)
    if slack_server is not None:
        c.wait(
            "every alert posted and no delivery outstanding",
            lambda: (
                raised_events(c.store_url) <= set(posted_ids(slack_server)) and outstanding_deliveries(c.store_url) == 0
            ),
        )


def shared(workers: list[Worker], topic: str) -> bool:
    """Every worker owns some of `topic`'s partitions, and together they own each exactly once."""
    parts = [assignment(w).get(topic, []) for w in workers]
    return all(parts) and sorted(p for ps in parts for p in ps) == [0, 1, 2]


def dead_letters(bootstrap: str, topic: str, expect: int) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + DEADLINE
        while len(out) < expect and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                out.extend(orjson.loads(r.value) for r in records)
        return out
    finally:
        consumer.close()


# ---- tests ---------------------------------------------------------------------------------------------------------


def test_embedded_runner_and_replay_agree_on_the_sample() -> None:
    """The reference the distributed run is held to (the sample is in event-time order)."""
    docs = load_docs()
    embedded = embedded_detections(docs)
    assert sorted(map(key, embedded)) == sorted(map(key, replay(docs, engine()).detections))
    rules = Counter(d.rule for d in embedded)
    # The sample exercises throttling, group_by, all_of across documents and corroboration.
    assert set(rules) == {
        "treaty-signed",
        "troops-deployed",
        "treaty-ratified",
        "treaty-ratified-by-both",
        "ratification-exchange",
        "troop-engagement",
    }
    assert any(d.confidence == "confirmed" for d in embedded)


def test_two_workers_give_the_embedded_detections(cluster: Cluster) -> None:
    docs = load_docs()
    expected = embedded_detections(docs)
    w1 = cluster.worker("w1").start()
    w2 = cluster.worker("w2").start()
    documents = Topics(cluster.prefix).documents

    cluster.wait("both workers to share the documents partitions", lambda: shared([w1, w2], documents))

    started = time.monotonic()
    started_at = datetime.now(UTC)
    raw = KafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all")
    poison = [
        b"this is not json {",
        orjson.dumps({**document_event(docs[0]).model_dump(mode="json"), "schema_version": 99, "id": "future"}),
        orjson.dumps(
            {
                "id": "no-date",
                "type": "news.article",
                "time": "2024-11-01T00:00:00+00:00",
                "payload": {"id": "no-date", "type": "news.article", "source": {"name": "X"}, "title": "t"},
            }
        ),
        orjson.dumps({"id": "wrong", "type": "signal", "time": "2024-11-01T00:00:00+00:00", "payload": {"name": "x"}}),
    ]
    for i, value in enumerate(poison):
        raw.send(documents, key=f"poison-{i}".encode(), value=value)
    raw.flush(timeout=30)
    raw.close()
    with KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl") as pub:
        result = pub.publish([document_event(d) for d in docs])
    assert result.sent == len(docs) and result.spooled == 0

    cluster.wait(
        f"the {len(expected)} embedded alerts in the store",
        lambda: sorted(map(key, stored_detections(cluster.store_url))) == sorted(map(key, expected)),
    )
    took = time.monotonic() - started
    settle(cluster)  # anything extra is in the store by then
    got = stored_detections(cluster.store_url)
    assert sorted(map(key, got)) == sorted(map(key, expected)), "distributed detections differ from embedded"
    assert w1.alive() and w2.alive()
    print(f"distributed: {len(got)} detections from {len(docs)} documents in {took:.1f}s (2 workers)")
    # each detection carries when a correlate worker raised it (its record's time), which /metrics counts from
    store = open_store(cluster.store_url)
    try:
        raised = [se.event.received_at for se in store.read(0, types=ALERT_EVENTS, limit=10_000)]
    finally:
        store.close()
    assert raised and all(t is not None and t >= started_at - timedelta(seconds=5) for t in raised), raised

    dls = dead_letters(cluster.bootstrap, Topics(cluster.prefix).dead_letters, len(poison))
    reasons = sorted(d["payload"]["reason"] for d in dls)
    assert len(reasons) == 4, reasons
    assert any(r.startswith("not JSON") for r in reasons)
    assert any("unknown schema_version 99" in r for r in reasons)
    assert any(r.startswith("invalid document payload") for r in reasons)
    assert any("is not a document" in r for r in reasons)
    assert all(d["payload"]["origin"].startswith(f"kafka:{documents}[") for d in dls)


def test_sigkill_mid_delivery_then_restart(cluster: Cluster, slack_server: Any) -> None:
    docs = load_docs()
    expected = embedded_detections(docs)
    first, second, third = docs[:8], docs[8:16], docs[16:]
    before = {d.id for d in embedded_detections(first)}
    new_in_second = {d.id for d in embedded_detections(first + second)} - before
    assert before and new_in_second and len(before) < len(expected)

    worker = cluster.worker("w1", slack=slack_server).start()
    pub = KafkaPublisher(cluster.bootstrap, cluster.prefix, spool_path=cluster.tmp / "spool.jsonl")
    try:
        pub.publish([document_event(d) for d in first])
        cluster.wait(f"{len(before)} alerts posted", lambda: all_posted(slack_server, cluster.store_url, before))

        # Batch 2: Slack answers the first post with a 503, so the dispatcher is sitting in its retry backoff
        # (20 s, nothing in flight) with the delivery 'pending' in the ledger when the worker is SIGKILLed.
        slack_server.fail_next("chat.postMessage", status=503)
        pub.publish([document_event(d) for d in second])

        def failed_once() -> bool:
            return any(r.status == 503 for r in slack_server.requests_for("chat.postMessage"))

        cluster.wait("the 503", failed_once)
        # killed once the attempt is recorded: the row outstanding, tried once, its lease given back (it was a
        # 0.3 s pause, which a loaded machine can outlast before the record is written)
        cluster.wait("the failed attempt in the ledger", lambda: backing_off(cluster.store_url))
        worker.kill()
        killed_at = time.monotonic()
        sent_before_restart = set(posted_ids(slack_server))

        pub.publish([document_event(d) for d in third])  # arrives while no worker runs
        worker.start()
        every = {d.id for d in expected}
        cluster.wait(f"{len(expected)} alerts posted", lambda: all_posted(slack_server, cluster.store_url, every))
        recovered = time.monotonic() - killed_at
        settle(cluster, slack_server)  # duplicates, if any, are posted by then
    finally:
        pub.close()

    assert not new_in_second <= sent_before_restart  # the kill happened mid-stream, before batch 2 was delivered
    got = stored_detections(cluster.store_url)
    assert sorted(map(key, got)) == sorted(map(key, expected)), "a detection is missing or differs"
    check_posts(slack_server, expected, cluster.store_url)

    raised = raised_events(cluster.store_url)
    store = open_store(cluster.store_url)
    try:
        assert all(store.delivery_status(e, "slack") == "sent" for e in raised)
    finally:
        store.close()
    print(f"crash/restart: all {len(expected)} alerts delivered once; {recovered:.1f}s from SIGKILL to the last one")
