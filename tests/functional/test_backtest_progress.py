"""`watchfloor backtest` on a terminal draws progress bars with a total and an ETA: bytes for event files,
records for a store and for the replay (Kafka's records: tests/integration/test_backtest_sources.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from watchfloor.schemas.events import document_event
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores import open_store

from .terminal import run_on_terminal

EVENTS = Path(__file__).resolve().parents[1] / "data" / "scoring" / "events.jsonl"
ETA = r"ETA (\d+:\d\d:\d\d|-:--:--)"


def bar(frames: list[str], description: str, amount: str) -> list[str]:
    """The frames of the bar `description` whose amount column matches `amount` (a regex), with an ETA."""
    return [f for f in frames if re.search(rf"^\W*{re.escape(description)} .*\s{amount}\s.*{ETA}$", f)]


def test_files_show_bytes_of_a_known_total_then_the_replay_records(tmp_path: Path) -> None:
    size_kb = f"{EVENTS.stat().st_size / 1000:.1f}"
    code, frames = run_on_terminal(["backtest", str(EVENTS), "--json", str(tmp_path / "o.json")])
    assert code == 0, frames
    assert bar(frames, "reading", rf"\d+\.\d/{re.escape(size_kb)} kB"), frames
    assert bar(frames, "reading", rf"100%\s+{re.escape(size_kb)}/{re.escape(size_kb)} kB"), frames
    documents = json.loads((tmp_path / "o.json").read_text())["stats"]["documents"]
    assert bar(frames, "replaying", rf"{documents}/{documents}"), frames


def test_a_store_shows_records_of_a_known_total(tmp_path: Path) -> None:
    st = open_store(f"sqlite:///{tmp_path / 's.db'}")
    lines = EVENTS.read_text(encoding="utf-8").splitlines()
    st.append([document_event(parse_document(json.loads(line))) for line in lines])
    st.close()
    code, frames = run_on_terminal(["backtest", "--from-store", f"sqlite:///{tmp_path / 's.db'}"])
    assert code == 0, frames
    n = len(lines)
    assert bar(frames, "reading the store", rf"\s*\d+/{n}"), frames
    assert bar(frames, "reading the store", rf"100%\s+{n}/{n}"), frames


def test_no_bars_when_the_output_is_not_a_terminal(tmp_path: Path) -> None:
    import subprocess
    import sys

    got = subprocess.run(
        [sys.executable, "-m", "watchfloor", "backtest", str(EVENTS)], capture_output=True, text=True, check=False
    )
    assert got.returncode == 0, got.stderr
    assert "ETA" not in got.stdout + got.stderr and "\x1b[" not in got.stderr
