"""What the ledger's revision trigger costs one bulk statement on PostgreSQL, by EXPLAIN ANALYZE (the server's own
execution time and the triggers' share of it), with no trigger, migration 15's, and an update trigger a WHEN skips.

    flock /tmp/wf-bench.lock .venv/bin/python benchmarks/bench_ledger_trigger_explain.py --url postgresql+psycopg://...

In a schema of its own (dropped after) a store of this checkout is made; then, per repetition and case, the ledger
is emptied, --rows rows of 600-byte payloads are inserted by one INSERT ... SELECT, and every row is updated by one
UPDATE (a redelivery's SET list), either leaving `rev` to the trigger or setting it to `nextval('deliveries_rev')`
itself. Cases: `none` (the triggers dropped: the ledger before migration 15), `15` (BEFORE INSERT OR UPDATE, what
migration 15 makes), `WHEN` (BEFORE INSERT, and BEFORE UPDATE ... WHEN (NEW.rev = OLD.rev): the trigger skipped by
a write that sets `rev`). Medians over --reps, in ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from watchfloor.stream_processors.stores.sql import SqlStore, normalize_url  # (this checkout's)

UPDATE = "UPDATE deliveries SET status = 'outstanding', attempts = 0, detail = 'redelivery requested'"
NEXTVAL = ", rev = nextval('deliveries_rev')"
TRIGGERS = {
    "none": [],
    "15": [
        "CREATE TRIGGER deliveries_rev BEFORE INSERT OR UPDATE ON deliveries "
        "FOR EACH ROW EXECUTE FUNCTION deliveries_rev()"
    ],
    "WHEN": [
        "CREATE TRIGGER deliveries_rev BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION deliveries_rev()",
        "CREATE TRIGGER deliveries_rev_update BEFORE UPDATE ON deliveries FOR EACH ROW "
        "WHEN (NEW.rev = OLD.rev) EXECUTE FUNCTION deliveries_rev()",
    ],
}  # fmt: skip
CASES = [("none", ""), ("none", NEXTVAL), ("15", ""), ("WHEN", ""), ("WHEN", NEXTVAL)]


def explain(engine: Engine, sql: str) -> tuple[float, float, int]:
    """(execution ms, the triggers' ms, trigger calls) of one statement, run."""
    with engine.begin() as conn:
        plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar_one()[0]
    triggers = plan.get("Triggers", [])
    return plan["Execution Time"], sum(t["Time"] for t in triggers), sum(t["Calls"] for t in triggers)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="a PostgreSQL URL (a schema of its own is made and dropped)")
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(args.url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalize_url(args.url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = create_engine(url)
    insert = (
        "INSERT INTO deliveries (alert_id, channel, status, detail, updated_at, seq, payload) SELECT 'a' || g, 'x', "
        f"'expired', '', '2026-12-01T00:00:00+00:00', g, repeat('p', 600) FROM generate_series(1, {args.rows}) g"
    )
    got: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    try:
        SqlStore(url.render_as_string(hide_password=False)).close()
        for _ in range(args.reps):
            for kind, sets in CASES:
                with engine.begin() as conn:
                    conn.execute(text("DROP TRIGGER IF EXISTS deliveries_rev ON deliveries"))
                    conn.execute(text("DROP TRIGGER IF EXISTS deliveries_rev_update ON deliveries"))
                    for ddl in TRIGGERS[kind]:
                        conn.execute(text(ddl))
                    conn.execute(text("TRUNCATE deliveries"))
                inserted = explain(engine, insert)
                if not sets:
                    got.setdefault((kind, "insert"), []).append(inserted)
                name = "update setting rev = nextval" if sets else "update, rev left to the trigger"
                got.setdefault((kind, name), []).append(explain(engine, UPDATE + sets))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    print(
        f"| triggers | statement ({args.rows:,} rows) | execution ms (median) | of which triggers, ms | trigger calls |"
    )
    print("|---|---|---|---|---|")
    report: list[dict[str, Any]] = []
    for (kind, statement), runs in got.items():
        ms = statistics.median(r[0] for r in runs)
        trig = statistics.median(r[1] for r in runs)
        print(f"| {kind} | {statement} | {ms:.1f} | {trig:.1f} | {runs[0][2]:,} |")
        report.append({"triggers": kind, "statement": statement, "ms": ms, "trigger_ms": trig, "calls": runs[0][2]})
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
