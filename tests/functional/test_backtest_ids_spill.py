"""`watchfloor backtest` past --sort-run ids: the ids in memory spill to a temporary directory and a repeat
read after the bound is still found, as the live ingest finds it (the same summary and JSON as with every id
in memory). Short news items in our own words."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()
DAYS = [f"2024-11-0{d}T09:00:00Z" for d in range(1, 8)]


def item(id_: str, when: str, title: str) -> dict[str, str]:
    return {"type": "news.article", "id": id_, "published_at": when, "source": "Wire", "title": title}


def write_jsonl(path: Path, items: list[dict[str, str]]) -> str:
    path.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    return str(path)


def test_a_repeat_read_past_the_sort_run_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the ids spill (TMPDIR)
    first = [item(f"sr-{k}", DAYS[k], f"Parliament session number {k} ends") for k in range(5)]
    again = [first[0], first[4], item("sr-3", DAYS[6], "North Korean troops seen in Kursk"), item("sr-9", DAYS[5], "x")]
    paths = [write_jsonl(tmp_path / "a.jsonl", first), write_jsonl(tmp_path / "b.jsonl", again)]
    outs = []
    for bound in ("3", "1000000"):  # past the bound after the first file; all in memory
        out = tmp_path / f"out-{bound}.json"
        res = runner.invoke(app, ["backtest", *paths, "--sort-run", bound, "--json", str(out)])
        assert res.exit_code == 0, res.output
        said = " ".join(res.output.split())
        assert "2 already seen" in said and "were not checked" not in said, said
        outs.append(json.loads(out.read_text()))
    bounded, in_memory = outs
    stats = bounded["stats"]
    assert (stats["already_seen"], stats["ids_not_kept"], stats["documents"]) == (2, 0, 6)
    assert bounded["alerts"] == in_memory["alerts"]
    assert {k: v for k, v in stats.items() if "time" not in k and k != "sort"} == {
        k: v for k, v in in_memory["stats"].items() if "time" not in k and k != "sort"
    }
    assert list(scratch.iterdir()) == []  # the spilled ids are gone
