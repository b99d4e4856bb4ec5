"""The GDELT producer's rows per second on real exports, next to the csv module reading the same bytes.

    .venv/bin/python benchmarks/bench_gdelt.py --rows 100000 --reps 5 --json /tmp/gdelt.json

The real samples in $WATCHFLOOR_DATA/gdelt (GDELT 2.0: spark-gdelt/events.csv, eventsT.csv; 1.0:
spark-gdelt/events1.csv and the reed9999 daily sample: 1,010 rows) are repeated to --rows rows, written once
(not timed) as a plain export and as a .zip of it. Each variant is timed --reps times in this process, median:

- baseline: csv.reader (tab-separated, no quoting) over the same bytes decoded as UTF-8, every row split and
  counted: the floor of reading and splitting, which the producer cannot go below;
- producer: producers.gdelt.read_gdelt with every row kept (root_only off, min_mentions 0), so each row becomes a
  Document through the input contract (schemas.inputs.check_document), as `watchfloor ingest` reads it;
- producer, default options: root events only (about two thirds of these rows), the others left before any text.
Reported: rows per second, and the producer's time over the baseline's (how many times the floor it costs).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from watchfloor.producers.gdelt import GdeltOptions, read_gdelt

SAMPLES = (
    "spark-gdelt/events.csv",
    "spark-gdelt/eventsT.csv",
    "spark-gdelt/events1.csv",
    "gdelt1_daily_sample_20160728_reed9999.tsv",
)
EVERY_ROW = GdeltOptions(root_only=False, min_mentions=0)


def baseline(path: Path) -> int:
    """csv.reader over the file (or the .zip's one member) as text: rows counted."""
    n = 0
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z, z.open(z.infolist()[0]) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            for _row in csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE):
                n += 1
        return n
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        for _row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            n += 1
    return n


def producer(path: Path, options: GdeltOptions) -> int:
    n = 0
    for _line, _item in read_gdelt(path, options=options):
        n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000, help="rows in the timed file (the samples repeated)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=-1, help="pin to this CPU (-1: not pinned)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    pinned = c.pin_to_core(args.cpu)
    gdelt = c.data_dir() / "gdelt"
    c.require(gdelt, "the GDELT samples")
    lines = [x for name in SAMPLES for x in (gdelt / name).read_bytes().splitlines() if x.strip()]
    repeats = -(-args.rows // len(lines))
    body = b"\n".join((lines * repeats)[: args.rows]) + b"\n"
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "20241022101500.export.CSV"
        plain.write_bytes(body)
        archive = Path(tmp) / "20241022101500.export.CSV.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(plain, plain.name)
        variants: list[tuple[str, Path, Callable[[Path], int]]] = [
            ("baseline: csv.reader", plain, baseline),
            ("producer, every row", plain, lambda p: producer(p, EVERY_ROW)),
            ("producer, default options", plain, lambda p: producer(p, GdeltOptions())),
            ("baseline: csv.reader, .zip", archive, baseline),
            ("producer, every row, .zip", archive, lambda p: producer(p, EVERY_ROW)),
        ]
        with c.progress() as bar:
            task = bar.add_task("timing", total=len(variants) * args.reps)
            for name, path, fn in variants:
                walls, cpus, out = [], [], 0
                for _ in range(args.reps):
                    t, out = c.timed(lambda fn=fn, path=path: fn(path))
                    walls.append(t.wall)
                    cpus.append(t.cpu)
                    bar.advance(task)
                results.append({"variant": name, "items": out, "wall_s": c.median(walls), "cpu_s": c.median(cpus)})
    floor = {False: results[0]["wall_s"], True: results[3]["wall_s"]}
    print(f"{args.rows:,} rows ({len(lines):,} real rows repeated), {args.reps} reps, median; {pinned}")
    print(f"{'variant':<30} {'items':>9} {'wall s':>8} {'rows/s':>10} {'x baseline':>10}")
    for r in results:
        r["rows_per_s"] = args.rows / r["wall_s"]
        r["x_baseline"] = r["wall_s"] / floor[r["variant"].endswith(".zip")]
        rate = f"{r['rows_per_s']:>10,.0f}"
        print(f"{r['variant']:<30} {r['items']:>9,} {r['wall_s']:>8.3f} {rate} {r['x_baseline']:>10.1f}")
    if args.json:
        args.json.write_text(json.dumps({"machine": c.machine(), "rows": args.rows, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
