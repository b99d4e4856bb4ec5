"""A backfill's late reports do not hide the one dated in the future (outside trial 67, MED-4).

A source added after another, with older news, is measured against the other's watermark (docs/architecture.md,
"Watermarks per origin"): each of its documents is an event-time report "late", one per document, in `run` as in the
Kafka workers. `watchfloor dead-letters --last N` showed "the newest N of 5363", the one report dated 2099 lost among
them; it now says what they all are, by stage and kind. Real `run --once` processes on a SQLite store.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.functional.test_distributed_commands import cli  # the subprocess CLI helper


def lines(name: str, dates: list[str]) -> str:
    return "".join(
        json.dumps(
            {"type": "news.article", "id": f"{name}-{i}", "published_at": at, "source": name, "title": f"{name} {i}"}
        )
        + "\n"
        for i, at in enumerate(dates)
    )


def test_dead_letters_says_what_the_rest_are_by_kind(tmp_path: Path) -> None:
    new, old = tmp_path / "new.jsonl", tmp_path / "old.jsonl"
    new.write_text(lines("new", ["2025-10-01T08:00:00+00:00", "2025-10-02T08:00:00+00:00"]), encoding="utf-8")
    old.write_text(lines("old", [f"2023-09-0{d}T08:00:00+00:00" for d in range(1, 6)]), encoding="utf-8")
    with old.open("a", encoding="utf-8") as f:
        f.write(lines("typo", ["2099-01-01T00:00:00+00:00"]))
    cfg = tmp_path / "wf.yaml"
    store = f"store: 'sqlite:///{tmp_path / 'wf.db'}'\n"
    cfg.write_text(store + f"sources:\n  - {{kind: jsonl, path: '{new}'}}\n", encoding="utf-8")
    assert cli(tmp_path, "run", "--once", "--config", str(cfg)).returncode == 0
    # the older source added later: its documents are late against the first one's watermark
    cfg.write_text(
        store + f"sources:\n  - {{kind: jsonl, path: '{new}'}}\n  - {{kind: jsonl, path: '{old}'}}\n", encoding="utf-8"
    )
    res = cli(tmp_path, "run", "--once", "--config", str(cfg))
    assert res.returncode == 0, res.stderr
    assert "5 late" in res.stderr, res.stderr
    listed = cli(tmp_path, "dead-letters", "--config", str(cfg), "--last", "2")
    assert listed.returncode == 0, listed.stderr
    text = " ".join(listed.stdout.split())
    assert "the newest 2 of 6" in text, text
    assert "of the 6: 5 event-time: late, 1 event-time: dated in the future (--stage, --origin narrow" in text, text
