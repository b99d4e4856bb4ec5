"""The engine's outputs on bench_engine's (b) workload, written down so that a hit-path change can be checked
to change none of them: every signal (id, name, modality, cue, captures) and every detection (id, rule), in
order, over the first N items of 2023 with the bundled pack + bench_engine's generated rules.

    export WATCHFLOOR_BENCH_CACHE=/tmp/wf-bench-cache WATCHFLOOR_DATA=/work/shared/data
    .venv/bin/python benchmarks/check_engine_outputs.py --out /tmp/before.txt
    # ... change the engine ...
    .venv/bin/python benchmarks/check_engine_outputs.py --compare /tmp/before.txt

Also writes a SHA-256 of every output's full JSON (last line), so a change anywhere else in an output shows too.
`--profile FILE` runs the engine under cProfile instead and writes its stats there (pstats format); the pack is
compiled outside the profile. `--cues FILE` (a JSON of cue lists) replaces the built-in cues the generator keeps
out of its vocabulary, to draw the same pack as a tree with other cues (the generated pack depends on them).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_engine as be

from watchfloor.schemas.events import Signal
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--out", type=Path, help="write the outputs here")
    ap.add_argument("--compare", type=Path, help="compare with outputs written earlier; exit 1 on any difference")
    ap.add_argument("--profile", type=Path, help="run under cProfile and write the stats here (no outputs)")
    ap.add_argument("--cues", type=Path, help="JSON of cue lists the generator leaves out (default: the built-in)")
    args = ap.parse_args(argv)
    if args.cues is not None:
        # bench_engine reads its module global at generation time.
        be.DEFAULT_CUES = json.loads(args.cues.read_text())

    docs, vocab = be.load_documents(args.items, 20_000)
    rules = be.generate_rules(vocab, args.rules, 4, 2023)
    pack = Path(tempfile.mkdtemp(prefix="watchfloor-check-")) / "generated.yaml"
    be.write_pack(rules, pack)
    engine = Engine(load_rules(["builtin:dprk_russia", str(pack)])[1])

    if args.profile is not None:
        prof = cProfile.Profile()
        prof.enable()
        be.run_engine(engine, docs)
        prof.disable()
        prof.dump_stats(str(args.profile))
        return 0

    lines: list[str] = []
    digest = hashlib.sha256()
    state = engine.initial_state()
    for doc in docs:
        state, outs = engine.process_document(state, doc)
        for o in outs:
            # (a PassedOver, a late document no detection reads, is a dataclass, not a model)
            digest.update((o.model_dump_json() if hasattr(o, "model_dump_json") else repr(o)).encode())
            if isinstance(o, Signal):
                caps = ",".join(f"{k}={v}" for k, v in sorted(o.captures.items()))
                lines.append(f"S {o.id} {o.name} {o.modality} {o.cue!r} {caps}")
            elif o.__class__.__name__ == "Detection":
                lines.append(f"D {o.id} {getattr(o, 'rule', '')}")
    lines.append(f"# sha256 of every output's JSON: {digest.hexdigest()}")
    text = "\n".join(lines) + "\n"
    n_s = sum(1 for x in lines if x.startswith("S "))
    n_d = sum(1 for x in lines if x.startswith("D "))
    print(f"{len(docs):,} documents: {n_s:,} signals, {n_d:,} detections; {lines[-1]}")
    if args.out is not None:
        args.out.write_text(text)
    if args.compare is not None:
        before = args.compare.read_text().splitlines()
        after = text.splitlines()
        if before == after:
            print("identical to", args.compare)
            return 0
        diffs = [(i, a, b) for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
        print(f"DIFFERENT: {len(before):,} lines before, {len(after):,} now; first differences:")
        for i, a, b in diffs[:10]:
            print(f"  line {i}: before {a}\n          now    {b}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
