"""`watchfloor archive` with the correlate topic: its storage cost and its throughput against raw consume, one run.

A real run on the shared broker: N items of the 2023 RSS corpus (from --since, in publication order) go through
`watchfloor produce --once` and one `watchfloor worker` (the bundled pack; SQLite store), which fill the documents,
correlate and detections topics. With the worker stopped, in the same run and alternately (--reps each):

1. raw consume (baseline): a plain kafka-python consumer (assigned, no group) reads every record of the topics the
   archive reads (documents, detections, dead letters, correlate) and parses each value's JSON;
2. archive, as before: `KafkaArchive` without a record archive (the correlate topic is not read) into a fresh
   SQLite store;
3. archive with the correlate records: `KafkaArchive` as `watchfloor archive` builds it now (wiring.build_archive),
   into a fresh SQLite store.

Each archive has its own consumer group; its clock runs from the first poll that returns records (the group has
assigned its partitions) to the last record read, and includes the store's commits (synchronous=FULL). Storage
comes from the last store of 3 (SQLite's dbstat: the pages of each table with its indexes) per row, next to the
logical bytes (the record's value and headers; the document event's payload). With --pg-url the correlate archive
is also run once into PostgreSQL, and its tables' sizes (pg_total_relation_size) are given per row.

    .venv/bin/python benchmarks/bench_archive.py --docs 3000 --json /tmp/archive.json
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition  # noqa: E402

from watchfloor.schemas.topics import TopicNames  # noqa: E402
from watchfloor.stream_processors.kafka.archive import KafkaArchive  # noqa: E402
from watchfloor.stream_processors.kafka.status import _committed  # noqa: E402  (the group's committed offsets)
from watchfloor.stream_processors.stores.sql import SqlStore  # noqa: E402

console = _common.console
PARTITIONS = 3


def pick_docs(n: int, since: str, out: Path) -> tuple[int, list[bytes]]:
    """The first `n` prepared 2023 items published at or after `since`, in publication order, into `out`; and the
    2,000 items after them (a generated pack's vocabulary comes from there, as bench_engine's does)."""
    rows = []
    for line in _common.iter_prepared_lines(_common.prepared_rss2023()):
        item = orjson.loads(line)
        if item["published_at"] >= since:
            rows.append((item["published_at"], line))
    rows.sort(key=lambda r: r[0])
    out.write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n" for _, line in rows[:n]))
    return min(n, len(rows)), [line for _, line in rows[n : n + 2000]]


def generated_pack(vocab_lines: list[bytes], n_rules: int, path: Path) -> None:
    """bench_engine's generated pack (phrases from the corpus's vocabulary, one `any` detection per signal)."""
    import bench_engine

    from watchfloor.schemas.inputs import parse_document

    vocab = [parse_document(orjson.loads(line)) for line in vocab_lines]
    bench_engine.write_pack(bench_engine.generate_rules(vocab, n_rules, 4, 7), path)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchfloor.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def ends_of(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        return dict(consumer.end_offsets(tps))
    finally:
        consumer.close()


def wait_worker(bootstrap: str, group: str, topics: list[str], deadline_s: float, worker: Any) -> None:
    """Until the worker group's committed offsets reach the ends of the topics it reads, and stay there 5 s."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    t0 = time.monotonic()
    try:
        steady = 0
        while steady < 3:
            if time.monotonic() - t0 > deadline_s:
                raise SystemExit("the worker did not catch up")
            if worker.poll() is not None:
                raise SystemExit(f"the worker ended (exit {worker.returncode}): see its log")
            time.sleep(2)
            ends = ends_of(bootstrap, topics)
            done = _committed(admin, group)
            behind = sum(end - done.get((tp.topic, tp.partition), 0) for tp, end in ends.items())
            steady = steady + 1 if behind == 0 else 0
    finally:
        admin.close()


def raw_consume(bootstrap: str, ends: dict[TopicPartition, int]) -> tuple[float, int, int]:
    """(seconds, records, value + header bytes) for a plain consumer to read every record up to `ends`."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    tps = list(ends)
    consumer.assign(tps)
    consumer.poll(timeout_ms=0)  # connect outside the clock
    for tp in tps:
        consumer.seek_to_beginning(tp)
    got = size = 0
    t0 = time.perf_counter()
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        for records in consumer.poll(timeout_ms=500, max_records=2000).values():
            for r in records:
                orjson.loads(r.value)
                got += 1
                size += len(r.value) + sum(len(k) + len(v) for k, v in (r.headers or ()))
    seconds = time.perf_counter() - t0
    consumer.close()
    return seconds, got, size


def archive_once(bootstrap: str, prefix: str, url: str, ends: dict[TopicPartition, int], correlate: bool) -> float:
    """Seconds for one archive (its own group) from its first records to the last of `ends` it reads."""
    store = SqlStore(url)
    names = TopicNames(prefix)
    sink = KafkaArchive(
        bootstrap,
        store,
        topic_prefix=prefix,
        group_id=f"{prefix}-bench-{uuid.uuid4().hex[:6]}",
        records=store if correlate else None,
    )
    wanted = {tp: end for tp, end in ends.items() if correlate or tp.topic != names.correlate}
    t0: float | None = None
    try:
        while True:
            began = time.perf_counter()
            stats = sink.poll_once(500)
            if t0 is None and (stats.records or stats.correlate):
                t0 = began  # the poll that read the first records (and may have joined the group) is on the clock
            if t0 is not None and all(sink.consumer.position(tp) >= end for tp, end in wanted.items()):
                return time.perf_counter() - t0
    finally:
        sink.close()
        store.close()


def sqlite_sizes(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        pages = dict(conn.execute("select tbl_name, 0 from sqlite_master where type = 'table'").fetchall())
        for _name, tbl, size in conn.execute(
            "select d.name, m.tbl_name, sum(d.pgsize) from dbstat d join sqlite_master m on m.name = d.name "
            "group by d.name"
        ):
            pages[tbl] = pages.get(tbl, 0) + int(size)
        docs = conn.execute("select count(*) from events where type in ('news.article', 'official.statement')")
        n_docs = int(docs.fetchone()[0])
        n_events = int(conn.execute("select count(*) from events").fetchone()[0])
        n_rec = int(conn.execute("select count(*) from topic_records").fetchone()[0])
        doc_payload = conn.execute(
            "select avg(length(cast(payload as blob))) from events where type in ('news.article', 'official.statement')"
        ).fetchone()[0]
        rec_value = conn.execute(
            "select avg(length(value)), avg(length(coalesce(cast(headers as blob), ''))) from topic_records"
        ).fetchone()
        kinds: dict[str, int] = {}
        for (value,) in conn.execute("select value from topic_records"):
            kind = str(orjson.loads(value).get("type"))
            kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "documents": n_docs,
        "events": n_events,
        "correlate_records": n_rec,
        "correlate_kinds": kinds,
        "events_bytes": pages.get("events", 0),
        "topic_records_bytes": pages.get("topic_records", 0),
        "record_positions_bytes": pages.get("record_positions", 0),
        "file_bytes": db.stat().st_size,
        "events_bytes_per_event": pages.get("events", 0) / max(n_events, 1),
        "topic_records_bytes_per_record": pages.get("topic_records", 0) / max(n_rec, 1),
        "document_payload_avg": doc_payload,
        "record_value_avg": rec_value[0],
        "record_headers_avg": rec_value[1],
    }


def pg_sizes(url: str) -> dict[str, Any]:
    store = SqlStore(url)
    try:
        with store.engine.connect() as conn:
            from sqlalchemy import text

            def one(sql: str) -> int:
                return int(conn.execute(text(sql)).scalar_one())

            return {
                "events": one("select count(*) from events"),
                "correlate_records": one("select count(*) from topic_records"),
                "events_bytes": one("select pg_total_relation_size('events')"),
                "topic_records_bytes": one("select pg_total_relation_size('topic_records')"),
            }
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", default=os.environ.get("WATCHFLOOR_TEST_KAFKA", "127.0.0.1:19092"))
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--since", default="2023-09-01", help="the first publication date taken (the Kim-Putin summit)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--generated", type=int, default=0, help="also this many generated rules (more signals routed)")
    ap.add_argument("--pg-url", default=None, help="also archive once into this PostgreSQL database (a new schema)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="wf-bench-archive-"))
    prefix = f"wf-bench-arch-{uuid.uuid4().hex[:8]}"
    names = TopicNames(prefix)
    docs, vocab = pick_docs(args.docs, args.since, tmp / "docs.jsonl")
    rules = ["--rules", "builtin:dprk_russia"]
    if args.generated:
        generated_pack(vocab, args.generated, tmp / "generated.yaml")
        rules += ["--rules", str(tmp / "generated.yaml")]
    b = ["--broker", args.bootstrap, "--prefix", prefix]
    assert cli("topics", "create", *b, "--partitions", str(PARTITIONS), cwd=tmp).returncode == 0
    worker_log = (tmp / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "watchfloor.cli", "worker", *b, *rules),
            *("--store", f"sqlite:///{tmp / 'worker.db'}", "--datadir", str(tmp / "faust"), "--loglevel", "warning"),
        ],
        cwd=tmp,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    result: dict[str, Any] = {
        "docs": docs,
        "generated_rules": args.generated,
        "since": args.since,
        "prefix": prefix,
        "machine": _common.machine(),
    }
    try:
        res = cli(
            "produce", str(tmp / "docs.jsonl"), *b, "--once", "--store", f"sqlite:///{tmp / 'outbox.db'}", cwd=tmp
        )
        assert res.returncode == 0, res.stderr
        wait_worker(args.bootstrap, f"{prefix}-worker", [names.documents, names.correlate], 900, worker)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=120)
        worker_log.close()
    topics = [names.documents, names.detections, names.dead_letters, names.correlate]
    ends = ends_of(args.bootstrap, topics)
    per_topic: dict[str, int] = {}
    for tp, end in ends.items():
        per_topic[tp.topic] = per_topic.get(tp.topic, 0) + end
    result["records"] = per_topic
    console.print(f"{docs} documents; records per topic: {per_topic}")

    raw: list[tuple[float, int, int]] = []
    before: list[float] = []
    after: list[float] = []
    for i in range(args.reps):
        raw.append(raw_consume(args.bootstrap, ends))
        before.append(archive_once(args.bootstrap, prefix, f"sqlite:///{tmp / f'before-{i}.db'}", ends, False))
        after.append(archive_once(args.bootstrap, prefix, f"sqlite:///{tmp / f'after-{i}.db'}", ends, True))
        console.print(
            f"rep {i + 1}: raw {raw[-1][0]:.2f} s, archive before {before[-1]:.2f} s, with correlate {after[-1]:.2f} s"
        )
    total = sum(per_topic.values())
    without = total - per_topic[names.correlate]
    result["raw_seconds"] = [r[0] for r in raw]
    result["raw_records"] = raw[0][1]
    result["raw_bytes"] = raw[0][2]
    result["archive_before_seconds"] = before
    result["archive_after_seconds"] = after
    result["raw_records_per_s"] = total / statistics.median(result["raw_seconds"])
    result["archive_before_records_per_s"] = without / statistics.median(before)
    result["archive_after_records_per_s"] = total / statistics.median(after)
    result["sqlite"] = sqlite_sizes(tmp / f"after-{args.reps - 1}.db")
    result["sqlite_before_file_bytes"] = (tmp / f"before-{args.reps - 1}.db").stat().st_size
    if args.pg_url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        from sqlalchemy import create_engine, text

        from watchfloor.stream_processors.stores.sql import normalize_url

        admin = create_engine(normalize_url(args.pg_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = normalize_url(args.pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        pg = url.render_as_string(hide_password=False)
        try:
            result["pg_seconds"] = archive_once(args.bootstrap, prefix, pg, ends, True)
            result["pg"] = pg_sizes(pg)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    res = cli("topics", "delete", *b, "--yes", cwd=tmp)
    result["topics_deleted"] = res.returncode == 0
    result["at"] = datetime.now(UTC).isoformat()
    result["loadavg_end"] = os.getloadavg()
    out = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    print(out)
    if args.json:
        args.json.write_text(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
