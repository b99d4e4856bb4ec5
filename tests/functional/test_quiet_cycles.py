"""A live `run` says every cycle that did something, and of the quiet ones (nothing new, nothing failed, nothing
waiting to be delivered) one line per ten minutes with how many it stands for: operator audit F8, where a quiet
week was a summary line a minute."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchfloor.cli._common import QuietCycles, app_config
from watchfloor.cli.run import _cycle, source_origins
from watchfloor.web.activity import HeartbeatRecorder
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.functional


def item(n: int) -> str:
    return json.dumps(
        {
            "type": "news.article",
            "id": f"quiet-{n}",
            "source": "Harbour Gazette",
            "published_at": f"2024-05-0{n}T09:00:00+00:00",
            "title": f"Ferry timetable {n}",
            "body": "The ferry keeps its summer timetable.",
        }
    )


def test_quiet_cycles_are_one_line_per_ten_minutes_and_busy_ones_every_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(item(1) + "\n", encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {inbox}}}
channels:
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
subscriptions:
  - {{channel: archive}}
""",
        encoding="utf-8",
    )
    conf = app_config(cfg)
    pipeline = EmbeddedPipeline(conf)
    heartbeat = HeartbeatRecorder(pipeline.store, sources=source_origins(conf.sources))
    now = [0.0]
    lines = QuietCycles(every=600, clock=lambda: now[0])

    def cycle(after: float) -> list[str]:
        now[0] += after
        capsys.readouterr()
        _cycle(pipeline, heartbeat, lines)
        return [x for x in capsys.readouterr().err.splitlines() if x.startswith("polled ")]

    try:
        assert len(cycle(0)) == 1  # a new document: said
        assert [cycle(60) for _ in range(5)] == [[]] * 5  # quiet: nothing for ten minutes
        (said,) = cycle(600)
        assert said.startswith("polled 1 source: 0 new documents") and "(and 5 quiet polls since" in said
        with inbox.open("a", encoding="utf-8") as f:
            f.write(item(2) + "\n")
        (busy,) = cycle(1)  # something new is said at once, however soon after the last line
        assert busy.startswith("polled 1 source: 1 new document") and "quiet poll" not in busy
        assert cycle(1) == []
    finally:
        heartbeat.flush()
        pipeline.close()


def test_a_quiet_cycle_is_said_when_no_line_came_for_a_while() -> None:
    now = [0.0]
    lines = QuietCycles(every=10, clock=lambda: now[0])
    assert lines.line("first", quiet=True) == "first"  # the first line is always said
    now[0] = 9.9
    assert lines.line("quiet", quiet=True) is None
    now[0] = 10.0
    assert lines.line("quiet", quiet=True) is not None
    assert lines.line("busy", quiet=False) == "busy"


def test_an_optional_source_not_there_is_said_once_until_its_file_appears() -> None:
    """Outside trial 84, F7: a live `produce` said an optional backfill source "not there yet" at every poll (48 lines
    in 4 minutes). It is said once, again only after the file came and went."""
    lines = QuietCycles()
    assert lines.newly_absent(["inbox/backfill.jsonl"]) == ["inbox/backfill.jsonl"]
    assert lines.newly_absent(["inbox/backfill.jsonl"]) == []
    assert lines.newly_absent(iter(["inbox/backfill.jsonl", "inbox/other.jsonl"])) == ["inbox/other.jsonl"]
    assert lines.newly_absent([]) == []  # both files came
    assert lines.newly_absent(["inbox/backfill.jsonl"]) == ["inbox/backfill.jsonl"]  # and one went again
