"""What `watchfloor store prune` gives back and costs, next to plain SQL doing the same in the same run.

A SQLite store is filled with the first N articles of the 2023 RSS corpus by `watchfloor ingest` (timed: the
ingest is the baseline of what writing them cost), its engine checkpoint set at the head (what `run` leaves; running
the engine over N articles would only cost time here), and copied twice:

* A: `watchfloor store prune --older-than D`, then `--vacuum` (both timed, the file's size after each);
* B: the same rows by one plain SQL statement, `UPDATE events SET payload = json_remove(payload, '$.title',
  '$.body')` over every document in one transaction, then `VACUUM` (the floor for this design's work);
* and, for scale, C: `DELETE` of every document and `VACUUM` (what dropping the documents whole would give).

Sizes are the file and its WAL. Run under `flock /tmp/wf-bench.lock` (shared machine).

    flock /tmp/wf-bench.lock .venv/bin/python benchmarks/bench_prune.py --articles 60000
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import iter_prepared_lines, prepared_rss2023  # the benchmarks' own helpers, beside this file

ROOT = Path(__file__).resolve().parents[1]


def size(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def cli(*args: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "watchfloor", *args], env=env, capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - started
    if res.returncode != 0:
        raise SystemExit(f"watchfloor {' '.join(args)}: exit {res.returncode}\n{res.stdout}\n{res.stderr}")
    return took, " ".join((res.stdout + res.stderr).split())


def plain(db: Path, *statements: str) -> float:
    conn = sqlite3.connect(db, isolation_level=None)
    started = time.perf_counter()
    for sql in statements:
        conn.execute(sql)
    took = time.perf_counter() - started
    conn.close()
    return took


def postgres(url: str, inbox: Path, older_than: float, *, vacuum: bool) -> dict[str, object]:
    """The same on PostgreSQL, in a schema of its own: ingest (the baseline), prune (with `vacuum`: --vacuum, which
    vacuums between batches too), VACUUM; the events table's size (pg_total_relation_size: heap, TOAST, indexes)
    after each, and what VACUUM FULL (a rewrite) gives."""
    import uuid

    from sqlalchemy import create_engine, text

    from watchfloor.stream_processors.stores.sql import normalize_url

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    store = normalize_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    out: dict[str, object] = {}
    size = f"SELECT pg_total_relation_size('{schema}.events')"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            out["ingest_s"] = round(cli("ingest", str(inbox), "--store", store)[0], 2)
            head = conn.execute(text(f"SELECT max(position) FROM {schema}.events")).scalar_one()
            conn.execute(text(f"INSERT INTO {schema}.checkpoints VALUES ('engine', {head}, NULL)"))
            conn.execute(text(f"VACUUM ANALYZE {schema}.events"))
            out["size_before"] = conn.execute(text(size)).scalar_one()
            flags = ["--vacuum"] if vacuum else []
            took, said = cli("store", "prune", "--older-than", str(older_than), *flags, "--store", store)
            out["prune_s"], out["said"] = round(took, 2), said
            out["size_after_prune"] = conn.execute(text(size)).scalar_one()
            took, said = cli("store", "prune", "--older-than", str(older_than), "--vacuum", "--store", store)
            out["rerun_and_vacuum_s"] = round(took, 2)
            out["size_after_vacuum"] = conn.execute(text(size)).scalar_one()
            started = time.perf_counter()
            conn.execute(text(f"VACUUM FULL {schema}.events"))
            out["vacuum_full_s"] = round(time.perf_counter() - started, 2)
            out["size_after_vacuum_full"] = conn.execute(text(size)).scalar_one()
        finally:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=60_000)
    ap.add_argument("--older-than", type=float, default=365.0, help="days (2023's articles are all older)")
    ap.add_argument("--dir", type=Path, default=None, help="where the stores go (default: a temporary folder)")
    ap.add_argument("--pg", default=None, help="also PostgreSQL: a database URL (a schema of its own is made, dropped)")
    args = ap.parse_args(argv)
    work = Path(args.dir or tempfile.mkdtemp(prefix="wf-prune-"))
    work.mkdir(parents=True, exist_ok=True)
    inbox = work / "articles.jsonl"
    with inbox.open("wb") as f:
        for line in itertools.islice(iter_prepared_lines(prepared_rss2023()), args.articles):
            f.write(line if line.endswith(b"\n") else line + b"\n")
    base = work / "base.db"
    for p in work.glob("base.db*"):
        p.unlink()
    url = f"sqlite:///{base}"
    ingest_s, said = cli("ingest", str(inbox), "--store", url)
    print(f"ingest of {args.articles:,} lines: {ingest_s:.1f} s ({said[-160:]})")
    conn = sqlite3.connect(base)
    head = conn.execute("SELECT max(position) FROM events").fetchone()[0]
    docs = conn.execute("SELECT count(*) FROM events WHERE type IN ('news.article', 'official.statement')").fetchone()
    conn.execute("INSERT INTO checkpoints (processor, position, state) VALUES ('engine', ?, NULL)", (head,))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = size(base)
    results: dict[str, object] = {"articles": args.articles, "events": head, "documents": docs[0]}
    results["ingest_s"] = round(ingest_s, 2)
    results["size_before"] = before

    a, b, c = (work / f"{k}.db" for k in "abc")
    for copy in (a, b, c):
        shutil.copyfile(base, copy)
    prune_s, said = cli("store", "prune", "--older-than", str(args.older_than), "--store", f"sqlite:///{a}")
    results["A_prune_s"] = round(prune_s, 2)
    results["A_size_after_prune"] = size(a)
    results["A_said"] = said
    vacuum_s, said = cli(
        "store", "prune", "--older-than", str(args.older_than), "--vacuum", "--store", f"sqlite:///{a}"
    )
    results["A_rerun_and_vacuum_s"] = round(vacuum_s, 2)
    results["A_size_after_vacuum"] = size(a)
    results["A_said_vacuum"] = said
    docs_where = "type IN ('news.article', 'official.statement')"
    results["B_update_s"] = round(
        plain(
            b,
            "BEGIN",
            f"UPDATE events SET payload = json_remove(payload, '$.title', '$.body') WHERE {docs_where}",
            "COMMIT",
        ),
        2,
    )
    results["B_size_after_update"] = size(b)
    results["B_vacuum_s"] = round(plain(b, "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"), 2)
    results["B_size_after_vacuum"] = size(b)
    results["C_delete_s"] = round(plain(c, "BEGIN", f"DELETE FROM events WHERE {docs_where}", "COMMIT"), 2)
    results["C_vacuum_s"] = round(plain(c, "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"), 2)
    results["C_size_after_vacuum"] = size(c)
    if args.pg:
        results["postgresql"] = postgres(args.pg, inbox, args.older_than, vacuum=False)
        results["postgresql_vacuum"] = postgres(args.pg, inbox, args.older_than, vacuum=True)
    print(json.dumps(results, indent=2))
    if args.dir is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
