"""A backfill's late documents do not drown the dead letters that matter (outside trial 67, MED-4).

A source added after another, with older news, is measured against the other's watermark (docs/architecture.md,
"Watermarks per origin"): its documents are beyond the lateness. Those no detection reads (nearly all of a backfill:
no signal, or one no rule takes) are counted on `run`'s line and in status, not dead-lettered; those a detection
reads are event-time reports "late", and the one dated in the future stays a dead letter whatever it says.
`watchfloor dead-letters --last N` says what all that match are, by stage and kind. Real `run --once` processes on a
SQLite store, with the bundled rules.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.functional.test_distributed_commands import cli  # the subprocess CLI helper

ENGAGED = "North Korean troops killed in heavy fighting in Kursk, officials say"  # troop_engagement: a rule reads it
DENIED = "Kremlin denies North Korean troops are fighting in Kursk"  # a signal, negated: no rule takes that reading


def lines(name: str, items: list[tuple[str, str]]) -> str:
    return "".join(
        json.dumps({"type": "news.article", "id": f"{name}-{i}", "published_at": at, "source": name, "title": title})
        + "\n"
        for i, (at, title) in enumerate(items)
    )


def backfilled(
    tmp_path: Path, backfill: list[tuple[str, str]], typo: str
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """A desk that ran once on a source of October 2025, then on it and an older source added later (`backfill`,
    then one document dated 2099 titled `typo`): its documents are late against the first one's watermark. The
    older source, the config and the second run's result."""
    new, old = tmp_path / "new.jsonl", tmp_path / "old.jsonl"
    new.write_text(
        lines("new", [("2025-10-01T08:00:00+00:00", "Markets rose"), ("2025-10-02T08:00:00+00:00", "Markets fell")]),
        encoding="utf-8",
    )
    old.write_text(lines("old", backfill) + lines("typo", [("2099-01-01T00:00:00+00:00", typo)]), encoding="utf-8")
    cfg = tmp_path / "wf.yaml"
    store = f"store: 'sqlite:///{tmp_path / 'wf.db'}'\n"
    cfg.write_text(store + f"sources:\n  - {{kind: jsonl, path: '{new}'}}\n", encoding="utf-8")
    assert cli(tmp_path, "run", "--once", "--config", str(cfg)).returncode == 0
    cfg.write_text(
        store + f"sources:\n  - {{kind: jsonl, path: '{new}'}}\n  - {{kind: jsonl, path: '{old}'}}\n", encoding="utf-8"
    )
    res = cli(tmp_path, "run", "--once", "--config", str(cfg))
    assert res.returncode == 0, res.stderr
    return old, cfg, res


def test_a_backfill_dead_letters_only_its_late_reports_a_detection_reads(tmp_path: Path) -> None:
    backfill = [(f"2023-09-0{d}T08:00:00+00:00", f"Markets update {d}") for d in range(1, 6)]
    backfill += [("2023-09-06T08:00:00+00:00", DENIED), ("2023-09-07T08:00:00+00:00", ENGAGED)]
    backfill += [("2023-09-08T08:00:00+00:00", ENGAGED.replace("heavy", "fierce"))]
    old, cfg, res = backfilled(tmp_path, backfill, "Markets update")  # (the typo: no signal, still a dead letter)
    said = " ".join(res.stderr.split())
    assert f"3 event-time reports ({old}: 2 late, 1 dated in the future)" in said, said
    assert f"6 late documents passed over (no detection reads them: {old} 6)" in said, said

    listed = cli(tmp_path, "dead-letters", "--config", str(cfg), "--stage", "event-time")
    assert listed.returncode == 0, listed.stderr
    text = " ".join(listed.stdout.split())
    assert text.count("late: document old-") == 2 and "late: document old-6 " in text, text
    assert "late: document old-7 " in text and "dated in the future: document typo-0 " in text, text
    assert "old-0" not in text and "old-5 " not in text  # no signal; a signal no rule takes: passed over

    status = cli(tmp_path, "status", "--config", str(cfg), "--json")
    assert json.loads(status.stdout)["late_documents"] == {str(old): {"passed_over": 6, "dead_lettered": 2}}, status
    status = cli(tmp_path, "status", "--config", str(cfg))
    said = " ".join(status.stderr.split())
    assert (
        f"source {old}: 6 late documents passed over (no detection reads them), 2 dead-lettered "
        "(`watchfloor dead-letters --stage event-time`)" in said
    ), said


def test_dead_letters_says_what_the_rest_are_by_kind(tmp_path: Path) -> None:
    """`watchfloor dead-letters --last N` showed "the newest N of 5363", the one report dated 2099 lost among them;
    it says what they all are, by stage and kind."""
    _, cfg, res = backfilled(tmp_path, [(f"2023-09-0{d}T08:00:00+00:00", ENGAGED) for d in range(1, 6)], "typo 0")
    assert "5 late" in res.stderr, res.stderr
    listed = cli(tmp_path, "dead-letters", "--config", str(cfg), "--last", "2")
    assert listed.returncode == 0, listed.stderr
    text = " ".join(listed.stdout.split())
    assert "the newest 2 of 6" in text, text
    assert "of the 6: 5 event-time: late, 1 event-time: dated in the future (--stage, --origin narrow" in text, text
