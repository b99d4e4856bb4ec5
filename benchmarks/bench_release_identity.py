"""What naming a release costs: the digest of the package's files `fingerprint.release()` computes once per process.

    .venv/bin/python benchmarks/bench_release_identity.py [--rounds 15] [--json out.json]

In the same run, interleaved round by round (the machine is shared and noisy: the ratios count):
  - read only, the baseline: walk the package (symlinked subpackages followed) and read every file's bytes, as the
    digest does, without hashing them;
  - digest: `source_digest(package)` (walk, read, blake2b);
  - a command's start, the second baseline: a fresh process that imports the command line and prints the bare
    version (CPU time, user + system, from outside), beside one that prints `release()` (the same, and the digest
    over a cold-ish page cache of another process).
Reported: the medians, digest / read, and release / bare version in a fresh process (what the digest adds to a
command's start).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import _common as c

from watchfloor.stream_processors.fingerprint import BUILT_SUFFIXES, source_digest

BARE = "import watchfloor.cli; from watchfloor.stream_processors.fingerprint import installed_version as v; print(v())"
RELEASE = "import watchfloor.cli; from watchfloor.stream_processors.fingerprint import release as v; print(v())"


def read_only(root: Path) -> tuple[int, int]:
    total = 0
    files = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        files += [Path(folder, n) for n in names if not n.endswith(BUILT_SUFFIXES)]
    for path in sorted(files):
        total += len(path.read_bytes())
    return total, len(files)


def child_cpu(args: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(c.REPO)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    root = c.REPO / "watchfloor"
    got: dict[str, list[float]] = {"read": [], "digest": [], "bare_version": [], "release": []}
    with c.progress() as bar:
        task = bar.add_task("rounds", total=args.rounds)
        for _ in range(args.rounds):
            t = time.process_time()
            size, files = read_only(root)
            got["read"].append(time.process_time() - t)
            t = time.process_time()
            source_digest(root)
            got["digest"].append(time.process_time() - t)
            got["bare_version"].append(child_cpu([sys.executable, "-c", BARE]))
            got["release"].append(child_cpu([sys.executable, "-c", RELEASE]))
            bar.advance(task)
    med = {k: c.median(v) for k, v in got.items()}
    out = {
        "machine": c.machine(),
        "package_bytes": size,
        "files": files,
        "rounds": args.rounds,
        "median_seconds": {k: round(v, 4) for k, v in med.items()},
        "digest_over_read": round(med["digest"] / med["read"], 2),
        "release_over_bare_version": round(med["release"] / med["bare_version"], 3),
        "digest_ms": round(med["digest"] * 1000, 1),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
