"""A dead letter's place printed as written (trial 48, LOW-1): rich read the ":100:" of `bbc.jsonl:100: …` (line 100)
or of a file named `in:100:.jsonl` as its emoji code for 💯, on a terminal and in a file alike."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()


def _doc(n: int) -> str:
    return json.dumps(
        {
            "type": "news.article",
            "id": f"desk-{n}",
            "published_at": "2025-03-03T10:00:00Z",
            "source": {"name": "Desk"},
            "title": f"Harbour report {n}",
            "body": "Ships came in.",
        }
    )


def test_line_100_and_a_path_with_an_emoji_code_print_as_written(tmp_path: Path) -> None:
    inbox = tmp_path / "bbc.jsonl"
    inbox.write_text("".join(_doc(n) + "\n" for n in range(1, 100)) + "[1, 2]\n", encoding="utf-8")
    odd = tmp_path / "in:100:.jsonl"
    odd.write_text("[3]\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", "--store", f"sqlite:///{tmp_path / 'wf.db'}", str(inbox), str(odd)])
    assert res.exit_code == 0, res.output
    assert "💯" not in res.output
    assert f"{inbox}:100" in res.output and f"{odd}:1" in res.output
    listed = runner.invoke(app, ["dead-letters", "--store", f"sqlite:///{tmp_path / 'wf.db'}"])
    assert "💯" not in listed.output and ":100:" in "".join(listed.output.split())
