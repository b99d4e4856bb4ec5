"""The ledger's thread and sent_ref reads before and after migration 10's indexes, and a running writer's throughput
while an index is built plainly and concurrently: one store per database, measured in one run.

    flock /tmp/wf-bench.lock .venv/bin/python benchmarks/bench_ledger_indexes.py --rows 200000 \
        --sqlite /tmp/ledger.db --pg postgresql+psycopg://postgres@127.0.0.1:54329/watchfloor_test

Per database, a store is made and filled through the store API: N detections in the log and N `sent` ledger rows over
4 channels, N/20 threads of ~20 rows each spread over the channels (as a story's alerts, revisions and follow-ups are).
Then, alternating the two index layouts on the same rows (ABAB, --reps times):
  before   version 9's: `ix_deliveries_thread` (channel, thread_key), no index of sent rows;
  after    migration 10's: `ix_deliveries_thread_key` (thread_key, channel), `ix_deliveries_sent` (partial);
  thread   `deliveries(thread_key=)`, a retraction's read of its thread in every channel (median of 50 keys);
  sent_ref `sent_ref(channel)`, an unsure Slack retry's look-up (median of 20 reads over the 4 channels).
Then, PostgreSQL only (SQLite has no concurrent build; its plain build is measured too), the index of detections by
alert id (migration 9's, over N detections) built while a writer thread appends an event and enqueues a ledger row
per transaction, as a running `run` does: the writes completed during the build, their rate against the rate before
it, and the longest single write. Plain (`CREATE INDEX` in a transaction) and concurrent alternate, --reps each.
Times in ms. A PostgreSQL store is made in a schema of its own (dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402

from watchfloor.schemas.events import Event  # noqa: E402
from watchfloor.stream_processors.ports import DeliveryRecord  # noqa: E402
from watchfloor.stream_processors.stores.migrations import WRITE_OPTION  # noqa: E402
from watchfloor.stream_processors.stores.sql import ALERT_ID_SQL, ALERT_ID_WHERE, SqlStore, normalize_url  # noqa: E402

CHANNELS = ("desk", "wire", "slack:C1", "mail")
BATCH = 5000


def _event(n: int) -> Event:
    payload = {"id": f"alert-{n}", "rule": "r", "group": {"country": "X"}, "title": f"detection {n}", "n": n}
    return Event.model_validate(
        {"id": f"det-{n}", "type": "detection", "time": "2026-12-01T10:00:00+00:00", "payload": payload}
    )


def fill(store: SqlStore, rows: int) -> None:
    threads = max(rows // 20, 1)
    for start in range(0, rows, BATCH):
        n = range(start, min(start + BATCH, rows))
        store.append([_event(i) for i in n])
        store.enqueue(
            [
                DeliveryRecord(
                    f"a-{i}",
                    CHANNELS[i % len(CHANNELS)],
                    status="sent",
                    thread_key=f"story-{(i * 7919) % threads}",
                    seq=i + 1,
                    ref=f"C{i % len(CHANNELS)}:{i}",
                    created_at=1730000000.0 + i,
                )
                for i in n
            ]
        )


def layout(store: SqlStore, which: str) -> None:
    sqlite = store.engine.dialect.name == "sqlite"
    with store.engine.begin() as conn:
        for name in ("ix_deliveries_thread", "ix_deliveries_thread_key", "ix_deliveries_sent"):
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        if which == "before":
            conn.exec_driver_sql("CREATE INDEX ix_deliveries_thread ON deliveries (channel, thread_key)")
        else:
            conn.exec_driver_sql("CREATE INDEX ix_deliveries_thread_key ON deliveries (thread_key, channel)")
            conn.exec_driver_sql(
                "CREATE INDEX ix_deliveries_sent ON deliveries (channel, updated_at, seq) WHERE status = 'sent'"
            )
        # PostgreSQL's autovacuum analyses the table; a SQLite store is never analysed (no sqlite_stat1), and with
        # statistics SQLite would skip-scan the old index over a few channels, which a live store never does
        if sqlite:
            conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
        else:
            conn.exec_driver_sql("ANALYZE deliveries")


def timed(call: Any, reps: list[Any]) -> float:
    out = []
    for arg in reps:
        t = time.perf_counter()
        call(arg)
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def reads(store: SqlStore, rows: int, reps: int) -> dict[str, Any]:
    threads = max(rows // 20, 1)
    keys = [f"story-{(k * 104729) % threads}" for k in range(50)]
    got: dict[str, list[float]] = {}
    for _ in range(reps):
        for which in ("before", "after"):
            layout(store, which)
            store.deliveries(thread_key=keys[0])  # warm
            got.setdefault(f"{which} thread", []).append(timed(lambda k: store.deliveries(thread_key=k), keys))
            got.setdefault(f"{which} sent_ref", []).append(
                timed(store.sent_ref, [CHANNELS[i % len(CHANNELS)] for i in range(20)])
            )
    layout(store, "after")
    return {k: round(statistics.median(v), 2) for k, v in got.items()}


def build_under_writes(store: SqlStore, url: str, how: str, start: int) -> dict[str, Any]:
    """Build ix_events_alert_id (`how`: plain or concurrent) while a thread writes; the writes' counts and rates."""
    sqlite = store.engine.dialect.name == "sqlite"
    stamps: list[tuple[float, float]] = []
    stop = threading.Event()
    writer = SqlStore(url)

    def write() -> None:
        i = start
        while not stop.is_set():
            t = time.perf_counter()
            writer.enqueue([DeliveryRecord(f"w-{i}", "desk", seq=10_000_000 + i, created_at=1.8e9)], [_event(i)])
            stamps.append((t, time.perf_counter()))
            i += 1

    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_events_alert_id")
    expr = ALERT_ID_SQL["sqlite" if sqlite else "postgresql"]
    ddl = f"ix_events_alert_id ON events ({expr}) WHERE {ALERT_ID_WHERE}"
    th = threading.Thread(target=write, daemon=True)
    th.start()
    time.sleep(2.0)  # the writer's rate before the build
    b0 = time.perf_counter()
    if how == "concurrent":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"CREATE INDEX CONCURRENTLY {ddl}")
    else:  # in a write transaction, as the migration runs it (SQLite: BEGIN IMMEDIATE)
        with store.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                # (a statement run first: SQLite prepares the CREATE against the connection's cached schema, which
                # still has the index another connection dropped, until a statement of this transaction reads it)
                conn.exec_driver_sql("SELECT count(*) FROM events WHERE position = 0")
                conn.exec_driver_sql(f"CREATE INDEX {ddl}")
    b1 = time.perf_counter()
    time.sleep(1.0)
    stop.set()
    th.join()
    writer.close()
    before = [s for s in stamps if b0 - 2.0 <= s[1] < b0]
    during = [s for s in stamps if b0 <= s[1] <= b1]
    longest = max((e - s for s, e in stamps if e >= b0 and s <= b1), default=0.0)
    return {
        "how": how,
        "build ms": round((b1 - b0) * 1000, 1),
        "writes/s before": round(len(before) / 2.0, 1),
        "writes during build": len(during),
        "writes/s during": round(len(during) / (b1 - b0), 1) if b1 > b0 else 0.0,
        "longest write ms": round(longest * 1000, 1),
        "written": len(stamps),
    }


def run(url: str, rows: int, reps: int) -> dict[str, Any]:
    store = SqlStore(url)
    t = time.perf_counter()
    fill(store, rows)
    out: dict[str, Any] = {"url": url.split("?")[0], "rows": rows, "fill s": round(time.perf_counter() - t, 1)}
    out["reads"] = reads(store, rows, reps)
    hows = ["plain"] if store.engine.dialect.name == "sqlite" else ["plain", "concurrent"]
    builds = []
    start = 1_000_000
    for _ in range(reps):
        for how in hows:
            builds.append(build_under_writes(store, url, how, start))
            start += 100_000
    out["builds"] = builds
    store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--sqlite", type=Path, help="a SQLite file to make (removed first)")
    ap.add_argument("--pg", help="a PostgreSQL URL; the store is made in a new schema of it")
    ap.add_argument("--reads-only", action="store_true", help="reuse the --sqlite file as filled; reads only")
    args = ap.parse_args()
    results = []
    if args.sqlite and args.reads_only:
        store = SqlStore(f"sqlite:///{args.sqlite}")
        print(json.dumps(reads(store, args.rows, args.reps), indent=1))
        store.close()
        return
    if args.sqlite:
        for p in (args.sqlite, Path(f"{args.sqlite}-wal"), Path(f"{args.sqlite}-shm")):
            p.unlink(missing_ok=True)
        results.append(run(f"sqlite:///{args.sqlite}", args.rows, args.reps))
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(normalize_url(args.pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = normalize_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            results.append(run(url.render_as_string(hide_password=False), args.rows, args.reps))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
