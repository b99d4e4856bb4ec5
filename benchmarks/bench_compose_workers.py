"""What detections over detections cost the Kafka correlate agent: the agent's own code (`Correlate.process`, no
broker; tests/fixtures/correlate_compose.py: the correlate topic simulated, the agent appending its alert changes and
forwarded watermarks to it) over two workloads, each against its baseline in the same run, alternated: the same
packs with the detections over detections left out (the same signals, input detections and records from extract).

* real: N items of the 2023 world-news RSS corpus from --since, in publication order, through the walkthrough pack
  docs/examples/nato_accession.yaml (its `last-ratification` over two confirmed `accession-ratified` alerts);
* generated: closures and reopenings of two borders (tests/unit/test_partition_compose.py's documents) through
  tests/data/rules/composed_workers.yaml and a mixed `sequence`, where most alerts feed a derived detection;
* levels: the same documents through composed.yaml (an `any` over an absence) and test_partition_levels.py's packs
  (an `all_of` and a `sequence` over the absence, a chain of three levels): a state and a forwarded low per level.

Reported per workload: the agents' CPU seconds (least of --reps) and their ratio to the baseline, the correlate
records per document (from extract, and from the agents: alert changes and forwarded watermarks), and that the
alerts of the input detections are the same in both runs.

    WATCHFLOOR_DATA=/work/shared/data .venv/bin/python benchmarks/bench_compose_workers.py --docs 6000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from bench_archive import pick_docs  # noqa: E402

from tests.fixtures.correlate_compose import extracted, run_agents  # noqa: E402
from tests.unit.test_partition_compose import COMPOSED, MIXED, documents  # noqa: E402
from tests.unit.test_partition_levels import CHAIN, OVER_ABSENCE  # noqa: E402
from tests.unit.test_partition_levels import COMPOSED as COMPOSED_ALL  # noqa: E402
from watchfloor.schemas.inputs import parse_document  # noqa: E402
from watchfloor.stream_processors.engine import Engine  # noqa: E402
from watchfloor.stream_processors.rulefile import load_rules  # noqa: E402

console = _common.console
NATO = REPO / "docs" / "examples" / "nato_accession.yaml"


def without_derived(text: str) -> str:
    """A pack's YAML without its detections over detections (and without inline examples, which may need them)."""
    pack = yaml.safe_load(text)
    pack["detections"] = [
        {k: v for k, v in d.items() if k != "examples"}
        for d in pack["detections"]
        if "detection" not in str(d["pattern"])
    ]
    return yaml.safe_dump(pack, allow_unicode=True)


def engine(paths: list[Path]) -> Engine:
    return Engine(load_rules([str(p) for p in paths])[1])


def measure(name: str, packs: list[Path], base: list[Path], docs: list[Any], reps: int) -> dict[str, Any]:
    eng, base_eng = engine(packs), engine(base)
    records, base_records = extracted(eng, docs), extracted(base_eng, docs)
    times: dict[str, list[float]] = {"derived": [], "baseline": []}
    got: dict[str, Any] = {}
    for _ in range(reps):
        for label, e, recs in (("baseline", base_eng, base_records), ("derived", eng, records)):
            topic, spent = run_agents(e, recs, random.Random(7), batch_max=40, clock=time.process_time)
            times[label].append(spent)
            got[label] = topic
    derived_ids = {d.id for d in eng.rules.detections if any(r.detection for r in d.refs)}
    inputs = sorted(d.id for d in got["derived"].standing() if d.rule not in derived_ids)
    same = inputs == sorted(d.id for d in got["baseline"].standing())
    n = max(len(docs), 1)
    row = {
        "workload": name,
        "documents": len(docs),
        "derived_s": min(times["derived"]),
        "baseline_s": min(times["baseline"]),
        "ratio": min(times["derived"]) / max(min(times["baseline"]), 1e-9),
        "extract_records_per_doc": sum(len(r) for r in records) / n,
        "agent_records_per_doc": got["derived"].from_agents / n,
        "baseline_agent_records_per_doc": got["baseline"].from_agents / n,
        "derived_alerts": sum(1 for d in got["derived"].standing() if d.rule in derived_ids),
        "input_alerts_same": same,
    }
    console.print(row)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=6000, help="2023 RSS items (the real workload)")
    ap.add_argument("--since", default="2023-03-15", help="the first item's date (the last ratifications: March)")
    ap.add_argument("--generated", type=int, default=1500, help="documents of the generated workload")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    _common.require(_common.rss2023_dir(), "the 2023 RSS corpus")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        items = d / "items.jsonl"
        n, _vocab = pick_docs(args.docs, args.since, items)
        real = [parse_document(orjson.loads(line)) for line in items.read_bytes().splitlines() if line.strip()]
        (d / "nato_base.yaml").write_text(without_derived(NATO.read_text(encoding="utf-8")), encoding="utf-8")
        rows.append(measure(f"real: {n} RSS items, nato_accession", [NATO], [d / "nato_base.yaml"], real, args.reps))
        (d / "mixed.yaml").write_text(MIXED, encoding="utf-8")
        (d / "composed_base.yaml").write_text(without_derived(COMPOSED.read_text(encoding="utf-8")), encoding="utf-8")
        gen = documents(5, args.generated)
        rows.append(
            measure("generated: composed + mixed", [COMPOSED, d / "mixed.yaml"], [d / "composed_base.yaml"], gen,
                    args.reps)
        )  # fmt: skip
        (d / "over.yaml").write_text(OVER_ABSENCE, encoding="utf-8")
        (d / "chain.yaml").write_text(CHAIN, encoding="utf-8")
        base_all = d / "composed_all_base.yaml"
        base_all.write_text(without_derived(COMPOSED_ALL.read_text(encoding="utf-8")), encoding="utf-8")
        rows.append(
            measure("levels: over an absence, 3-level chain", [COMPOSED_ALL, d / "over.yaml", d / "chain.yaml"],
                    [base_all], gen, args.reps)
        )  # fmt: skip
    if args.json:
        args.json.write_text(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
