"""`watchfloor backtest` with stderr not a terminal (nohup, CI): plain progress lines instead of bars; and labels
that match no input fail once the input is read, before the replay (outside trial 53, LOW-8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "tests" / "data" / "score_window" / "pack.yaml"
ITEMS = 3000


def many(tmp_path: Path) -> Path:
    p = tmp_path / "many.jsonl"
    with p.open("w", encoding="utf-8") as f:
        for i in range(ITEMS):
            day, hour = 1 + i // 120, i % 24
            doc = {
                "type": "news.article",
                "id": f"m{i}",
                "published_at": f"2023-06-{day:02d}T{hour:02d}:{i % 60:02d}:00+00:00",
                "source": "Wire",
                "title": f"Item {i}: a Wagner mutiny report" if i % 500 == 0 else f"Item {i} about the weather",
            }
            f.write(json.dumps(doc) + "\n")
    return p


def backtest(*args: str | Path, every: str = "0") -> subprocess.CompletedProcess[str]:
    # stderr a pipe, as under nohup or CI; a progress line at every step (WATCHFLOOR_PROGRESS_S=0), not by the clock
    env = {**os.environ, "WATCHFLOOR_PROGRESS_S": every, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "watchfloor", "backtest", *map(str, args), "--rules", str(PACK)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=ROOT,
    )


def test_a_run_without_a_terminal_says_its_progress_in_plain_lines(tmp_path: Path) -> None:
    got = backtest(many(tmp_path))
    assert got.returncode == 0, got.stderr
    lines = got.stderr.splitlines()
    assert f"replaying {ITEMS:,}/{ITEMS:,} items (100 %)" in lines, got.stderr
    assert any(line.startswith("reading ") and line.endswith("MB (100 %)") for line in lines), got.stderr
    assert "\x1b[" not in got.stderr and "ETA" not in got.stderr  # no bar drawn into a file


def test_labels_matching_no_input_fail_before_the_replay(tmp_path: Path) -> None:
    labels = tmp_path / "wrong.csv"
    labels.write_text("id,label\nzz1,WAGNER_MUTINY\nzz2,NONE\n", encoding="utf-8")
    got = backtest(many(tmp_path), "--labels", labels)
    assert got.returncode == 1
    assert "none of its 2 ids matches an event" in got.stderr, got.stderr
    # the input was read (its progress said), the replay never started
    assert any(line.startswith("reading ") for line in got.stderr.splitlines()), got.stderr
    assert "replaying" not in got.stderr, got.stderr
