"""Distributed pipeline benchmark: Kafka + one faust-streaming worker, on a real broker, in one run.

Three measurements, each against the same broker and with a baseline taken in the same run:

1. raw consume (baseline): N generated documents are published to a documents topic; a plain
   kafka-python ``KafkaConsumer`` reads all of them from the beginning. -> records/s.
2. whole-pipeline throughput: the N documents (already in the topic) are processed by ONE worker
   subprocess (``watchfloor worker``, SQLite store). The clock starts when
   the worker logs its partition assignment (consumption begins) and stops when the alerts that stand in
   the SQL store (detections minus those a revision or retraction withdrew) are the expected ones, computed
   beforehand with ``stream_processors.replay``; they are then compared field by field. (Signals from the
   three documents partitions reach a correlate partition interleaved in no fixed order, so a few alerts are
   raised and then revised, as event time asks: counted as revisions, not as extra alerts.) The worker's
   CPU seconds (from /proc) over the same span, per document, are reported next to the raw consumer's, a
   figure less exposed to other load on the machine than the wall-clock ratio. The time at which the
   worker group's committed lag on the documents and correlate topics (the ones it reads) reaches 0 is reported
   too (committed offsets move every ~2.8 s, so that figure is coarser). -> documents/s, ratio vs 1.
3. latency: with the same worker, caught up, documents are published at a steady rate, half of the
   maximum sustained load (``--latency-of pipeline``, the default: the pipeline's rate in 2; with
   ``--latency-of system``, the lower of that and the rate our publisher reached in 1, because on one
   machine the publisher -- kafka-python, pure Python -- is a ceiling too, and near it publish calls run
   late and the latency includes the publisher's queueing) in small batches
   (each ``KafkaPublisher.publish`` call also writes the watermark
   markers the correlate step needs); every k-th document triggers a detection. Publish time (just
   before the ``publish`` call) is compared with the time its detection is first seen in the SQL store
   (polled every few ms). -> p50 / p99 publish->alert latency.

Generated documents: deterministic (``--seed``), ``published_at`` increasing by 2 hours per document so
that consecutive triggering documents (every ``--every``-th) are more than a day apart in event time and
each of them fires (the rules' ``realert`` is 1 day). Non-triggering documents are filler news sentences.

Topics use a unique prefix (``wf-bench-<uuid>``) and app id; they are deleted at the end. The broker is
the shared local one (``scripts/kafka-local start``; 127.0.0.1:19092 by default) and is never stopped.

    .venv/bin/python benchmarks/bench_distributed.py --json /tmp/distributed.json
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition  # noqa: E402

from watchfloor.schemas.events import Detection, Document, EventType, document_event  # noqa: E402
from watchfloor.schemas.inputs import parse_document  # noqa: E402
from watchfloor.schemas.topics import TopicNames as Topics  # noqa: E402
from watchfloor.stream_processors.engine import Engine  # noqa: E402
from watchfloor.stream_processors.kafka.app import ASSIGNMENT_LOG  # noqa: E402
from watchfloor.stream_processors.kafka.publisher import KafkaPublisher  # noqa: E402
from watchfloor.stream_processors.kafka.topics import STATE_TABLE, ensure_topics  # noqa: E402
from watchfloor.stream_processors.replay import replay  # noqa: E402
from watchfloor.stream_processors.rulefile import load_rules  # noqa: E402

console = Console(stderr=True)
RULES = ["builtin:dprk_russia"]
PARTITIONS = 3
START = datetime(2001, 1, 1, tzinfo=UTC)
STEP = timedelta(hours=2)
DETECTION, RETRACTION = EventType.DETECTION.value, EventType.RETRACTION.value

# Titles that fire the bundled pack (troops-deployed, treaty-ratified); no group repeats within a day
# because triggering documents are >= 40 h apart in event time.
TRIGGERS = [
    "North Korean soldiers have been sent to Russia's Kursk region, NATO says",
    "Russia's lower house ratifies the partnership treaty with North Korea",
    "North Korea ratifies its treaty with Russia",
]
SUBJECTS = ["The central bank", "A regional court", "The city council", "Farmers in the valley", "The port authority",
            "A trade union", "The national rail operator", "Researchers at the university", "The weather office",
            "Local shop owners", "The health ministry", "A football club"]  # fmt: skip
VERBS = ["announced", "postponed", "criticised", "welcomed", "reviewed", "approved", "questioned", "extended"]
OBJECTS = ["a new budget plan", "the harvest forecast", "changes to the timetable", "a pay agreement",
           "the annual report", "plans for a bridge", "the storm warnings", "a ticket price rise",
           "an inquiry into delays", "the results of a survey"]  # fmt: skip
WHEN = ["on Monday", "this week", "late on Friday", "after a long meeting", "in a statement", "without comment"]


def make_docs(n: int, *, every: int, start_index: int, seed: int, last: bool = True) -> tuple[list[Document], set[str]]:
    """n documents, indices start_index.., every `every`-th (and the last) triggering a detection."""
    rng = random.Random(seed + start_index)
    docs: list[Document] = []
    triggers: set[str] = set()
    for j in range(n):
        i = start_index + j
        trig = (j + 1) % every == 0 or (last and j == n - 1)
        if trig:
            title = TRIGGERS[(i // every) % len(TRIGGERS)]
            body = "Officials in Seoul and Washington commented on the report later in the day."
        else:
            title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
            body = " ".join(
                f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(WHEN)}."
                for _ in range(3)
            )
        doc_id = f"bench-{i:07d}"
        docs.append(
            parse_document(
                {
                    "id": doc_id,
                    "type": "news.article",
                    "published_at": (START + STEP * i).isoformat(),
                    "source": f"Wire {i % 7}",
                    "title": title,
                    "body": body,
                }
            )
        )
        if trig:
            triggers.add(doc_id)
    return docs, triggers


def expected_detections(docs: list[Document]) -> list[Detection]:
    _loaded, compiled = load_rules(RULES)
    return replay(docs, Engine(compiled)).detections


def machine() -> dict[str, Any]:
    """_common.machine() plus the client versions and the load at start (the VM is shared)."""
    import faust
    import kafka

    return {
        **_common.machine(),
        "kafka-python": kafka.__version__,
        "faust-streaming": getattr(faust, "__version__", "?"),
        "loadavg_start": os.getloadavg(),
    }


def publish_all(pub: KafkaPublisher, docs: list[Document], batch: int) -> float:
    t0 = time.perf_counter()
    for k in range(0, len(docs), batch):
        r = pub.publish([document_event(d) for d in docs[k : k + batch]])
        if r.spooled:
            raise SystemExit("broker unreachable while publishing (events spooled)")
    return time.perf_counter() - t0


def raw_consume(bootstrap: str, topic: str, n: int, reps: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds for a plain KafkaConsumer to read n documents (watermark markers are read, not
    counted). CPU is this process's: nothing else runs in it meanwhile."""
    out: list[tuple[float, float]] = []
    for _ in range(reps):
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        consumer.poll(timeout_ms=0)  # connect outside the clock: metadata is fetched here
        for tp in tps:
            consumer.seek_to_beginning(tp)
        ends = consumer.end_offsets(tps)
        got = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while True:
            for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                for r in records:
                    ev = orjson.loads(r.value)
                    if ev.get("type") != "watermark":
                        got += 1
            if all(consumer.position(tp) >= ends[tp] for tp in tps):
                break
        out.append((time.perf_counter() - t0, time.process_time() - c0))
        consumer.close()
        if got != n:
            console.print(f"[yellow]raw consume read {got} documents, expected {n}[/]")
    return out


class Lag:
    def __init__(self, bootstrap: str, group: str, topics: list[str]) -> None:
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{group}-lag")
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        self.group = group
        self.tps = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]

    def total(self) -> int:
        ends = self.consumer.end_offsets(self.tps)
        # kafka-python 3.x renamed the 2.x admin call; support both.
        if hasattr(self.admin, "list_group_offsets"):
            committed = self.admin.list_group_offsets({self.group: None}).get(self.group, {})
        else:
            committed = self.admin.list_consumer_group_offsets(self.group)  # kafka-python 2.x name
        lag = 0
        for tp in self.tps:
            c = committed.get(tp)
            off = getattr(c, "offset", c) if c is not None else -1
            lag += ends[tp] - (off if isinstance(off, int) and off >= 0 else 0)
        return lag

    def close(self) -> None:
        self.admin.close()
        self.consumer.close()


class DetectionWatcher:
    """Polls the SQL store for new detection and retraction events; remembers when each evidence id was first
    seen, and which alerts stand (a revision withdraws the alert it revises, a retraction its alert).

    The alerts that stand are what the benchmark checks against the embedded replayer: a correlate partition
    applies signals as they arrive, and the three documents partitions reach it interleaved in no fixed
    order, so a signal can arrive after a later one of its group; the correlator then revises the alert it
    raised (docs/architecture.md, event time). Revisions are counted, not mistaken for extra alerts."""

    def __init__(self, store_url: str, interval: float = 0.005) -> None:
        self.store_url = store_url
        self.interval = interval
        self.seen: dict[str, float] = {}  # evidence event id -> perf_counter when first seen
        self.count = 0  # detection events (first alerts and revisions)
        self.revisions = 0
        self.retractions = 0
        self.standing: dict[str, Any] = {}  # alert id -> its detection payload, while it stands
        self.standing_at: dict[frozenset[str], float] = {}  # a set of standing ids -> when it first stood
        self.watch_for: frozenset[str] = frozenset()
        self.last_at = 0.0
        self._after = 0
        self.slow_polls: list[tuple[float, float, float]] = []  # (perf_counter at start, query ms, gap ms) > 50 ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self, conn: Any) -> None:
        while True:
            rows = conn.execute(
                "SELECT position, type, payload FROM events WHERE type IN (?, ?) AND position > ? "
                "ORDER BY position LIMIT 1000",
                (DETECTION, RETRACTION, self._after),
            ).fetchall()
            now = time.perf_counter()
            for position, type_, payload in rows:
                self._after = position
                self.last_at = now
                obj = orjson.loads(payload)
                if type_ == RETRACTION:
                    self.retractions += 1
                    self.standing.pop(obj["alert_id"], None)
                    continue
                self.count += 1
                if obj.get("revises") is not None:
                    self.revisions += 1
                    self.standing.pop(obj["revises"], None)
                self.standing[obj["id"]] = obj
                for e in obj.get("evidence", ()):
                    self.seen.setdefault(e["event_id"], now)
            if rows and self.watch_for and self.watch_for not in self.standing_at:
                if self.watch_for == self.standing.keys():
                    self.standing_at[self.watch_for] = now
            if len(rows) < 1000:
                return

    def _run(self) -> None:
        # Plain sqlite3, read-only: the watcher is measurement overhead on the same two cores, so it
        # must cost little (the store's own reader builds models for every row).
        path = self.store_url.removeprefix("sqlite:///")
        conn = None
        last_end = time.perf_counter()
        while not self._stop.is_set():
            try:
                if conn is None:
                    if not Path(path).exists():
                        raise FileNotFoundError(path)
                    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                start = time.perf_counter()
                self.poll_once(conn)
                end = time.perf_counter()
                query_ms, gap_ms = (end - start) * 1000, (start - last_end) * 1000
                if query_ms > 50 or gap_ms > 50:  # the measurement itself was late: reported, not hidden
                    self.slow_polls.append((start, query_ms, gap_ms))
                last_end = end
            except (sqlite3.Error, FileNotFoundError):  # the worker creates the file and schema later
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(self.interval)
        if conn is not None:
            conn.close()

    def start(self) -> DetectionWatcher:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a running process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def alert_key(d: dict[str, Any]) -> tuple[Any, ...]:
    """What must match between an alert that stands and the replayer's: id, rule, group, severity, time, evidence."""
    return (
        d["id"], d["rule"], tuple(sorted(d["group"].items())), d["severity"], d.get("confidence"),
        datetime.fromisoformat(d["fired_at"].replace("Z", "+00:00")), tuple(e["event_id"] for e in d["evidence"]),
    )  # fmt: skip


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", default=os.environ.get("WATCHFLOOR_KAFKA", "127.0.0.1:19092"))
    ap.add_argument("--docs", type=int, default=20_000, help="documents for the throughput phases")
    ap.add_argument("--every", type=int, default=20, help="every k-th document triggers a detection")
    ap.add_argument("--raw-reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=500, help="documents per publish call when pre-loading")
    ap.add_argument("--latency-seconds", type=float, default=45.0)
    ap.add_argument("--latency-fraction", type=float, default=0.5, help="of the maximum sustained load")
    ap.add_argument(
        "--latency-of",
        choices=("system", "pipeline"),
        default="pipeline",
        help="maximum sustained load: the pipeline's rate (pipeline) or min(publisher, pipeline) rate (system)",
    )
    ap.add_argument("--latency-batch-interval", type=float, default=0.05, help="seconds between publish calls")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument(
        "--batch-within", type=float, default=0.02, help="the worker's --batch-within (seconds per batch per agent)"
    )
    ap.add_argument(
        "--worker-arg", action="append", default=[], help="extra worker argument (repeatable): --worker-arg=--trace"
    )
    ap.add_argument("--keep", action="store_true", help="keep the topics and the temp dir")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    info = machine()
    run_id = uuid.uuid4().hex[:8]
    prefix = f"wf-bench-{run_id}"
    app_id = f"{prefix}-worker"
    tmp = Path(tempfile.mkdtemp(prefix="wf-bench-dist-"))
    store_url = f"sqlite:///{tmp / 'watchfloor.db'}"
    topics = Topics(prefix)
    console.print(f"[bold]distributed benchmark[/] prefix {prefix}, broker {args.bootstrap}, tmp {tmp}")
    results: dict[str, Any] = {"machine": info, "args": vars(args), "prefix": prefix}

    docs, triggers = make_docs(args.docs, every=args.every, start_index=0, seed=args.seed)
    expected = expected_detections(docs)
    results["expected_detections"] = len(expected)
    console.print(f"{len(docs)} documents, {len(triggers)} triggering, {len(expected)} expected detections")

    ensure_topics(args.bootstrap, prefix, PARTITIONS)
    worker: subprocess.Popen[bytes] | None = None
    watcher: DetectionWatcher | None = None
    lag: Lag | None = None
    try:
        # ---- 1. publish + raw consume ---------------------------------------------------------------------------
        with KafkaPublisher(args.bootstrap, prefix, spool_path=tmp / "spool.jsonl", partitions=PARTITIONS) as pub:
            t_pub = publish_all(pub, docs, args.batch)
        results["publish_s"] = t_pub
        console.print(f"published {len(docs)} in {t_pub:.2f}s ({len(docs) / t_pub:,.0f}/s)")
        raw_runs = raw_consume(args.bootstrap, topics.documents, len(docs), args.raw_reps)
        raw = [w for w, _c in raw_runs]
        raw_rate = len(docs) / statistics.median(raw)
        raw_cpu_us = statistics.median(c for _w, c in raw_runs) / len(docs) * 1e6
        results["raw_consume_s"] = raw
        results["raw_consume_cpu_s"] = [c for _w, c in raw_runs]
        results["raw_consume_rate"] = raw_rate
        results["raw_consume_cpu_us_per_doc"] = raw_cpu_us
        console.print(
            f"raw consume: median {statistics.median(raw):.3f}s -> {raw_rate:,.0f} docs/s; CPU {raw_cpu_us:.0f} µs/doc"
        )

        # ---- 2. whole pipeline ----------------------------------------------------------------------------------
        log_path = tmp / "worker.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [
            sys.executable, "-m", "watchfloor.cli", "worker",
            "--broker", args.bootstrap, "--prefix", prefix, "--app-id", app_id,
            "--store", store_url, "--datadir", str(tmp / "faust"), "--loglevel", "info",
            "--batch-within", str(args.batch_within), *args.worker_arg,
        ]  # fmt: skip
        results["worker_cmd"] = " ".join(cmd[1:])
        watcher = DetectionWatcher(store_url)
        expected_keys = {d.id: alert_key(orjson.loads(d.model_dump_json())) for d in expected}
        watcher.watch_for = frozenset(expected_keys)
        watcher.start()
        t_launch = time.perf_counter()
        with log_path.open("wb") as out:
            worker = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
        t_assigned = None
        deadline = time.perf_counter() + 120
        while t_assigned is None:
            if worker.poll() is not None:
                raise SystemExit(f"worker exited:\n{log_path.read_text(errors='replace')[-3000:]}")
            if time.perf_counter() > deadline:
                raise SystemExit("worker not assigned within 120 s")
            if ASSIGNMENT_LOG in log_path.read_text(errors="replace"):
                t_assigned = time.perf_counter()
                cpu_assigned = cpu_seconds(worker.pid)
            else:
                time.sleep(0.02)
        console.print(f"worker assigned after {t_assigned - t_launch:.2f}s; processing...")
        lag = Lag(args.bootstrap, app_id, [topics.documents, topics.correlate])  # the topics the worker reads
        want = len(expected)
        t_lag0 = None
        deadline = time.perf_counter() + 480
        # Done when the alerts that stand are the expected ones (revisions included: see DetectionWatcher).
        while True:
            if worker.poll() is not None:
                raise SystemExit(f"worker exited:\n{log_path.read_text(errors='replace')[-3000:]}")
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out: {len(watcher.standing)}/{want} alerts stand")
            if watcher.watch_for in watcher.standing_at:
                break
            time.sleep(0.05)
        t_done = watcher.standing_at[watcher.watch_for]
        cpu_done = cpu_seconds(worker.pid)  # up to 50 ms after t_done: a worker caught up spends ~nothing
        while t_lag0 is None and time.perf_counter() < t_done + 30:
            if lag.total() == 0:
                t_lag0 = time.perf_counter()
            else:
                time.sleep(0.1)
        time.sleep(1.0)
        # Every alert that stands once the worker has caught up must be the replayer's, in every field.
        stood = {i: alert_key(d) for i, d in watcher.standing.items()}
        wrong = sorted(i for i in stood.keys() | expected_keys.keys() if stood.get(i) != expected_keys.get(i))
        pipe_s = t_done - t_assigned
        pipe_rate = len(docs) / pipe_s
        worker_cpu_us = (cpu_done - cpu_assigned) / len(docs) * 1e6
        results.update(
            worker_startup_s=t_assigned - t_launch,
            pipeline_s=pipe_s,
            pipeline_rate=pipe_rate,
            pipeline_lag0_s=(t_lag0 - t_assigned) if t_lag0 else None,
            pipeline_detections=watcher.count,
            pipeline_revisions=watcher.revisions,
            pipeline_retractions=watcher.retractions,
            pipeline_standing=len(watcher.standing),
            pipeline_standing_wrong=wrong,
            pipeline_ratio=pipe_rate / raw_rate,
            worker_cpu_s=cpu_done - cpu_assigned,
            worker_cpu_us_per_doc=worker_cpu_us,
            cpu_ratio=raw_cpu_us / worker_cpu_us,
        )
        console.print(
            f"pipeline: {pipe_s:.2f}s -> {pipe_rate:,.0f} docs/s ({pipe_rate / raw_rate:.1%} of raw); "
            f"worker CPU {worker_cpu_us:.0f} µs/doc; {len(watcher.standing)} alerts stand "
            f"({watcher.count} detections of which {watcher.revisions} revisions, {watcher.retractions} "
            f"retractions); committed lag 0 after {(t_lag0 - t_assigned) if t_lag0 else float('nan'):.2f}s"
        )
        if wrong:
            console.print(f"[red]{len(wrong)} alerts differ from the replayer's: {wrong[:10]}[/]")

        # ---- 3. latency at a fraction of the pipeline rate ------------------------------------------------------
        pub_rate = len(docs) / t_pub
        ceiling = pipe_rate if args.latency_of == "pipeline" else min(pipe_rate, pub_rate)
        results["latency_ceiling"] = {"of": args.latency_of, "publisher": pub_rate, "pipeline": pipe_rate}
        rate = ceiling * args.latency_fraction
        per_batch = max(1, round(rate * args.latency_batch_interval))
        n_lat = int(rate * args.latency_seconds)
        every = max(args.every, per_batch)  # at most one trigger per publish call
        ldocs, ltrig = make_docs(n_lat, every=every, start_index=len(docs) + every, seed=args.seed, last=False)
        levents = [document_event(d) for d in ldocs]  # built before the clock: they exist before publishing
        console.print(
            f"latency: {args.latency_fraction:.0%} of {ceiling:,.0f} docs/s (the lower of publisher "
            f"{pub_rate:,.0f} and pipeline {pipe_rate:,.0f})"
            if args.latency_of == "system"
            else f"latency: {args.latency_fraction:.0%} of the pipeline's {pipe_rate:,.0f} docs/s"
        )
        console.print(
            f"latency: {rate:,.0f} docs/s for {args.latency_seconds:.0f}s, {per_batch}/publish every "
            f"{args.latency_batch_interval * 1000:.0f} ms, {len(ltrig)} triggering (every {every})"
        )
        sent_at: dict[str, float] = {}
        publish_ms: list[float] = []  # how long each publish call took (part of publish -> alert)
        with KafkaPublisher(args.bootstrap, prefix, spool_path=tmp / "spool2.jsonl", partitions=PARTITIONS) as pub:
            pub.publish([])  # connect
            t0 = time.perf_counter()
            late_batches = 0
            for b, k in enumerate(range(0, len(ldocs), per_batch)):
                target = t0 + b * args.latency_batch_interval
                now = time.perf_counter()
                if now < target:
                    time.sleep(target - now)
                elif now - target > args.latency_batch_interval:
                    late_batches += 1
                chunk = ldocs[k : k + per_batch]
                events = levents[k : k + per_batch]
                t_send = time.perf_counter()
                for d in chunk:
                    if d.id in ltrig:
                        sent_at[d.id] = t_send
                r = pub.publish(events)
                publish_ms.append((time.perf_counter() - t_send) * 1000)
                if r.spooled:
                    raise SystemExit("broker unreachable while publishing (events spooled)")
            t_pub_end = time.perf_counter()
        achieved = len(ldocs) / (t_pub_end - t0)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not all(i in watcher.seen for i in sent_at):
            time.sleep(0.1)
        lats = [(watcher.seen[i] - t) * 1000 for i, t in sent_at.items() if i in watcher.seen]
        wall = time.time() - time.perf_counter()  # perf_counter -> epoch seconds, to line up with Kafka timestamps
        results["latency_per_trigger"] = {
            i: [t + wall, watcher.seen[i] + wall if i in watcher.seen else None] for i, t in sent_at.items()
        }
        missing = len(sent_at) - len(lats)
        results.update(
            latency_rate_target=rate,
            latency_rate_achieved=achieved,
            latency_late_batches=late_batches,
            latency_triggers=len(sent_at),
            latency_missing=missing,
            latency_ms=sorted(lats),
            latency_p50_ms=pct(lats, 0.5),
            latency_p90_ms=pct(lats, 0.9),
            latency_p99_ms=pct(lats, 0.99),
            latency_max_ms=max(lats) if lats else None,
            latency_publish_call_p50_ms=pct(publish_ms, 0.5),
            latency_publish_call_p99_ms=pct(publish_ms, 0.99),
            watcher_slow_polls=[(round(t + wall, 3), round(q, 1), round(g, 1)) for t, q, g in watcher.slow_polls],
        )
        console.print(
            f"latency: p50 {results['latency_p50_ms']:.0f} ms, p99 {results['latency_p99_ms']:.0f} ms; "
            f"the publish call itself: p50 {results['latency_publish_call_p50_ms']:.0f} ms, "
            f"p99 {results['latency_publish_call_p99_ms']:.0f} ms"
        )
        results["loadavg_end"] = os.getloadavg()
    finally:
        if watcher is not None:
            watcher.stop()
        if lag is not None:
            lag.close()
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=30)
        if not args.keep:
            admin = KafkaAdminClient(bootstrap_servers=args.bootstrap, client_id=f"{prefix}-cleanup")
            try:
                names = [*topics.all(), f"{app_id}-{STATE_TABLE}-changelog"]
                existing = set(admin.list_topics())
                admin.delete_topics([n for n in names if n in existing], timeout_ms=30_000)
                try:
                    delete = getattr(admin, "delete_groups", None) or admin.delete_consumer_groups  # 3.x / 2.x
                    delete([app_id])
                except Exception as exc:  # best effort
                    console.print(f"[yellow]could not delete group {app_id}: {exc!r}[/]")
            except Exception as exc:  # best effort
                console.print(f"[yellow]could not delete topics of {prefix}: {exc!r}[/]")
            finally:
                admin.close()

    table = Table(title=f"Distributed pipeline (Kafka + Faust), {info['nproc']} cores, {info['cpu']}")
    table.add_column("measurement")
    table.add_column("result", justify="right")
    table.add_column("target")
    table.add_column("met?")
    table.add_row("raw KafkaConsumer read (baseline)", f"{raw_rate:,.0f} docs/s ({raw_cpu_us:.0f} µs CPU/doc)", "", "")
    table.add_row(
        f"pipeline, 1 worker, {len(docs):,} docs",
        f"{pipe_rate:,.0f} docs/s ({pipe_s:.1f} s; worker {worker_cpu_us:.0f} µs CPU/doc)",
        "",
        "",
    )
    table.add_row(
        f"alerts that stand = replayer's ({want})",
        f"{results['pipeline_standing']} ({len(wrong)} differ)",
        "all equal",
        "no" if wrong else "yes",
    )
    ratio = pipe_rate / raw_rate
    table.add_row("pipeline / raw", f"{ratio:.1%}", ">= 70 %", "yes" if ratio >= 0.7 and not wrong else "no")
    p99 = results["latency_p99_ms"]
    table.add_row(
        f"latency p50 (at {results['latency_rate_achieved']:,.0f} docs/s)",
        f"{results['latency_p50_ms']:.0f} ms",
        "",
        "",
    )
    table.add_row(
        f"latency p99 ({len(lats)} detections, {missing} missing)",
        f"{p99:.0f} ms",
        "<= 250 ms",
        "yes" if p99 <= 250 and not missing else "no",
    )
    Console().print(table)
    if args.json:
        Path(args.json).write_text(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
