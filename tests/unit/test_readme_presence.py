"""What the README tells an operator watching `status` through an upgrade is what the code does (outside trial 76:
F2, a `run --once` said to be listed 15 minutes that never is; F4, no upgrade procedure to follow)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.web.activity import HeartbeatRecorder, heartbeat
from watchfloor.web.health import ProcessGone, processes_gone, processes_seen

README = Path(__file__).resolve().parents[2] / "README.md"
T0 = datetime(2026, 12, 7, 13, 51, 2, tzinfo=UTC)


def prose() -> str:
    return " ".join(README.read_text(encoding="utf-8").split())


def test_a_run_once_that_ends_cleanly_leaves_no_record_as_the_readme_says() -> None:
    store = MemoryStore()
    once = HeartbeatRecorder(store, every=0.0, process="h:7:x:b", live=False, command="run --once", release="1")
    once.start(T0)
    once.cycle(T0, 1.0, {})
    once.stop()
    hb = heartbeat(store)
    assert processes_seen(hb, T0, may_live=lambda _: True) == []
    assert processes_gone(hb, T0, may_live=lambda _: False) == []
    text = prose()
    assert "a `run --once` within 15 minutes" not in text
    assert "A `run --once` is in effect not listed, even from cron beside live runs" in text


def test_the_readme_quotes_the_killed_run_line_as_status_writes_it() -> None:
    gone = ProcessGone("desk-1:4311:x:b", "desk-1", "4311", "run", "1.0.0+1a2b3c4d5e", T0.isoformat(), 5.0, True)
    assert f'"{gone.describe()}"' in prose()


def test_the_readme_has_a_numbered_upgrade_procedure() -> None:
    section = README.read_text(encoding="utf-8").split("### Upgrading a running desk\n", 1)[1].split("\n### ", 1)[0]
    steps = re.findall(r"^(\d)\. ", section, flags=re.MULTILINE)
    assert steps == ["1", "2", "3", "4", "5"]
    text = " ".join(section.split())
    for told in ("watchfloor --version", "backup", "one at a time", "their releases differ", "The way back"):
        assert told in text, told
    assert '"Upgrading a busy store"' in text and '"Backups"' in text  # it points to the paragraphs that say why


def test_the_upgrade_procedure_says_kafka_workers_are_stopped_all_at_once_and_what_status_says_meanwhile() -> None:
    # Outside trial 78, F1 + F3: the steps said "one at a time" for every process, while a new worker beside an old
    # one waits and exits 1 (docs/kafka.md: "Old and new workers never in one group"), and the gap was not told.
    section = README.read_text(encoding="utf-8").split("### Upgrading a running desk\n", 1)[1].split("\n### ", 1)[0]
    text = " ".join(section.split())
    kafka = " ".join((README.parent / "docs" / "kafka.md").read_text(encoding="utf-8").split())
    assert "Old and new workers never in one group" in kafka and "Stop all the old workers, then start the new" in kafka
    assert '"Old and new workers never in one group"' in text, text
    assert "stop all the old workers, then start the new ones" in text, text
    assert "a gap with no worker at all" in text and "nothing is lost" in text, text
    # what `status` says during the gap, as it words it
    from types import SimpleNamespace

    from watchfloor.cli.status import behind_reasons

    empty = SimpleNamespace(group="PREFIX-worker", role="workers", lag=12, members=[], started=True)
    st = SimpleNamespace(caught_up=False, missing=[], prefix_note="", groups=[empty])
    assert f"behind ({', '.join(behind_reasons(st))})" in text, text
