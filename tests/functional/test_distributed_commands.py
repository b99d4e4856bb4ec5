"""The distributed commands as a newcomer meets them, on a real broker, each in a fresh directory.

`topics create|check`, `produce FILE --once` (no config: the file is what it sends), `worker`, `archive`,
`notify --once` and `status --wait`: each works with defaults only (the store's parent directory is made),
each on its own topic prefix, and a worker started before its topics exist names the command that creates
them. Subprocesses run `python -m watchfloor.cli`, the installed entry point's module.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.kafka import topic_prefix
from tests.fixtures.log_lines import unstamped

pytest.importorskip("faust")

from watchfloor.cli import app
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors.fingerprint import release

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "distributed" / "dprk_russia.jsonl"


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    e["PYTHONUNBUFFERED"] = "1"
    e["PYTHONPATH"] = str(REPO)
    return {**e, **extra}


def cli(cwd: Path, *args: str, timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchfloor.cli", *args],
        cwd=cwd,
        env=env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(cwd: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """A long-running command, keeping a heartbeat file in its directory (as docker-compose sets it up)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "watchfloor.cli", *args],
            cwd=cwd,
            env=env(WATCHFLOOR_HEARTBEAT=str(cwd / "heartbeat")),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM, and SIGKILL if that did not end it within a minute (None then): no process outlives a test."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        return None


def count(db: Path, type_: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("select count(*) from events where type = ?", (type_,)).fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-cmd") as p:
        yield p


def test_produce_without_sources_says_what_to_give() -> None:
    res = CliRunner().invoke(app, ["produce", "--broker", "127.0.0.1:1"])
    assert res.exit_code == 1
    assert "nothing to publish" in res.output and "--demo" in res.output


def test_worker_before_its_topics_names_the_command_that_creates_them(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    (tmp_path / "wf.yaml").write_text("kafka: {wait_for_topics: 0}\n")
    res = cli(tmp_path, "worker", "--config", "wf.yaml", "--broker", kafka_bootstrap, "--prefix", prefix)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"watchfloor topics create --broker {kafka_bootstrap} --prefix {prefix}" in res.stderr
    assert "Traceback" not in res.stderr


def test_worker_with_dispatch_checks_its_channels_at_start(
    kafka_bootstrap: str, prefix: str, tmp_path: Path, slack_server: Any
) -> None:
    """Like run and notify, `worker --dispatch` says at start what is wrong with a channel (here a revoked
    token), and goes on to start (here: it stops at the missing topics, after the check)."""
    slack_server.channels = {"#desk"}
    (tmp_path / "wf.yaml").write_text(
        "kafka: {wait_for_topics: 0}\n"
        "channels:\n"
        "  - {type: slack, name: desk, channel: '#desk', token_env: WF_TEST_SLACK,"
        f" base_url: '{slack_server.base_url}'}}\n"
        f"  - {{type: file, name: archive, path: '{tmp_path / 'alerts.jsonl'}'}}\n"
        "subscriptions: [{channel: desk}, {channel: archive}]\n"
    )
    args = ["worker", "--dispatch", "--config", "wf.yaml", "--broker", kafka_bootstrap, "--prefix", prefix]
    res = cli(tmp_path, *args, WF_TEST_SLACK="xoxb-revoked-long-ago")
    assert res.returncode == 1, res.stdout + res.stderr  # the topics are missing
    said = " ".join(res.stderr.split())
    assert "channel desk: check failed" in said and "invalid_auth" in said, said
    assert "xoxb-revoked-long-ago" not in said
    assert "channel archive: appends to" in said


def test_fresh_directories_topics_produce_worker_archive_status_notify(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    names = TopicNames(prefix)
    producer_dir, worker_dir, archive_dir, notify_dir = (tmp_path / d for d in ("p", "w", "a", "n"))
    for d in (producer_dir, worker_dir, archive_dir, notify_dir):
        d.mkdir()
    b = ["--broker", kafka_bootstrap, "--prefix", prefix]

    res = cli(tmp_path, "topics", "check", *b)
    assert res.returncode == 1 and "watchfloor topics create" in res.stderr, res.stderr
    res = cli(tmp_path, "topics", "create", *b)
    assert res.returncode == 0, res.stderr
    assert all(f"{t}" in res.stdout for t in names.all()) and "5 topics created" in res.stderr
    assert cli(tmp_path, "topics", "create", *b).stderr.count("0 topics created") == 1  # idempotent
    assert cli(tmp_path, "topics", "check", *b).returncode == 0

    # produce: the file given is what it sends (no --config: nothing bundled); its outbox is var/watchfloor.db.
    res = cli(producer_dir, "produce", str(DATA), *b, "--once")
    assert res.returncode == 0, res.stderr
    assert "24 new documents, 0 already seen, 0 dead letters · 24 sent to Kafka\n" in res.stderr, res.stderr
    assert (
        count(producer_dir / "var" / "watchfloor.db", "news.article")
        + count(producer_dir / "var" / "watchfloor.db", "official.statement")
        == 24
    )

    worker = start(worker_dir, tmp_path / "worker.log", "worker", *b, "--session-timeout", "6")
    archive = start(archive_dir, tmp_path / "archive.log", "archive", *b)
    try:
        res = cli(tmp_path, "status", *b, "--wait", "120", "--json", timeout=180)
        assert res.returncode == 0, res.stdout + res.stderr + (tmp_path / "worker.log").read_text()[-3000:]
        st = json.loads(res.stdout)
        assert st["caught_up"] and not st["missing"]
        workers, archiver = st["groups"]
        assert workers["group"] == f"{prefix}-worker" and len(workers["members"]) == 1 and workers["lag"] == 0
        assert {t["topic"] for t in workers["topics"]} == {names.documents, names.correlate, names.detections}
        archived = {names.documents, names.detections, names.dead_letters, names.correlate}  # the correlate records too
        assert {t["topic"] for t in archiver["topics"]} == archived
        wanted = st["topics"][names.detections]
        assert wanted > 0
        assert count(worker_dir / "var" / "watchfloor.db", "detection") == wanted  # the worker's own store
        assert (worker_dir / "var" / "faust" / f"{prefix}-worker").is_dir()  # its data dir, under var/
        deadline = time.monotonic() + 60
        while count(archive_dir / "var" / "watchfloor.db", "detection") < wanted:
            assert time.monotonic() < deadline, (tmp_path / "archive.log").read_text()[-3000:]
            time.sleep(0.2)
        for d in (worker_dir, archive_dir):  # what the containers' health checks ask
            res = cli(d, "health", "--heartbeat", str(d / "heartbeat"), "--max-age", "30")
            assert res.returncode == 0, res.stdout + res.stderr
        # Now that the archive runs, the pipeline has caught up when it has too.
        res = cli(tmp_path, "status", *b, "--wait", "60")
        assert res.returncode == 0, res.stdout + res.stderr
        assert "caught up" in res.stderr and "never ran" not in res.stdout
    finally:
        codes = stop(archive), stop(worker)  # both, whatever failed above
    assert codes[0] == 0, (tmp_path / "archive.log").read_text()[-3000:]
    assert codes[1] == 0, (tmp_path / "worker.log").read_text()[-3000:]

    # notify in a fresh directory: makes its store's directory, delivers nothing, exits 0.
    res = cli(notify_dir, "notify", "--once")
    assert res.returncode == 0, res.stderr
    assert (notify_dir / "var" / "watchfloor.db").exists()


def test_archive_says_what_it_reads_what_it_archived_and_no_start_up_noise(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """Trial 6 M4: the archive's whole output was kafka-python's start-up warnings ("No partition metadata for
    topic …" for topics that exist). It says what it reads and where it writes, its partitions once assigned,
    what it archived when a burst of records ends, and its totals at exit."""
    b = ["--broker", kafka_bootstrap, "--prefix", prefix]
    assert cli(tmp_path, "topics", "create", *b).returncode == 0
    res = cli(tmp_path, "produce", str(DATA), *b, "--once", "--store", f"sqlite:///{tmp_path / 'outbox.db'}")
    assert res.returncode == 0, res.stderr
    # each process names the release it runs on its start line (outside trial 86, F3)
    started = f" · watchfloor {release()}"
    assert started in " ".join(res.stderr.split()), res.stderr
    archive_dir = tmp_path / "a"
    archive_dir.mkdir()
    log = tmp_path / "archive.log"
    archive = start(archive_dir, log, "archive", *b)
    db = archive_dir / "var" / "watchfloor.db"
    try:
        deadline = time.monotonic() + 60
        while sum(archived_counts(log.read_text())) < 24:  # said at the end of the burst
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        code = stop(archive)
    said = "\n".join(unstamped(log.read_text()))  # (each line starts with the UTC time: log_times)
    assert code == 0, said
    names = TopicNames(prefix)
    topics = f"{names.documents}, {names.detections}, {names.dead_letters}, {names.correlate}"
    assert f"watchfloor archive {prefix}-archive: {topics} on {kafka_bootstrap} -> sqlite:///" in said, said
    assert started in said.split("watchfloor archive ", 1)[1].splitlines()[0], said
    assert "reading 8 partitions: " in said and f"{names.documents} 3" in said, said  # documents, correlate: 3
    assert sum(archived_counts(said)) == 24, said  # the burst's lines, each with what came since the one before
    assert count(db, "news.article") + count(db, "official.statement") == 24
    last = said.rstrip().splitlines()[-1]
    totals = re.fullmatch(
        r"archive stopped: archived 24 new events \((\d+) records read, 0 already in the store, 0 refused as dead "
        r"letters, (\d+) watermarks not kept\)",
        last,
    )
    assert totals is not None, said
    assert int(totals[1]) == 24 + int(totals[2]), said  # the counts add up to the records read (trial 7, L8)
    assert "No partition metadata" not in said, said


def archived_counts(said: str) -> list[int]:
    said = "\n".join(unstamped(said))  # (archive's lines start with the UTC time, as the program prints them)
    return [int(n) for n in re.findall(r"^archived (\d+) new events \(\d+ records read", said, re.M)]


def test_archive_on_the_producers_own_store_says_why_it_adds_nothing(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """Trial 11 L6: in the walkthrough `produce` and the archive share `var/watchfloor.db`, so the archive finds
    every document there already and said `archived 0 new events (…); 0 in all`, which reads as broken. It says
    that the store already holds all of them, and when that is so."""
    b = ["--broker", kafka_bootstrap, "--prefix", prefix]
    assert cli(tmp_path, "topics", "create", *b).returncode == 0
    res = cli(tmp_path, "produce", str(DATA), *b, "--once")  # the default store, var/watchfloor.db
    assert res.returncode == 0, res.stderr
    log = tmp_path / "archive.log"
    archive = start(tmp_path, log, "archive", *b)  # the same default store
    try:
        deadline = time.monotonic() + 60
        while "already holds" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        code = stop(archive)
    said = "\n".join(unstamped(log.read_text()))  # (each line starts with the UTC time: log_times)
    assert code == 0, said
    why = (
        ": the store already holds all 24 events read, as when `produce` and the workers write to this store "
        "themselves (archive then has nothing to add; it is for a store they do not write)"
    )
    assert re.search(
        r"^archived 0 new events \(\d+ records read, 24 already in the store, .*\)" + re.escape(why), said, re.M
    ), said
    assert said.rstrip().splitlines()[-1].startswith("archive stopped: archived 0 new events ("), said
    assert said.rstrip().endswith(why), said


def test_topics_delete_removes_the_pipelines_topics_and_groups_and_waits_for_its_processes(
    kafka_bootstrap: str, kafka_admin: Any, prefix: str, tmp_path: Path
) -> None:
    """Trial 11 L7: no command deleted a pipeline's topics or consumer groups. `topics delete` says what it would
    delete, refuses while a group has members, and with --yes deletes the prefix's topics (the workers' changelog
    too) and groups, and nothing of a pipeline whose prefix merely starts the same."""
    from watchfloor.stream_processors.kafka.topics import ensure_changelog, ensure_topics

    b = ["--broker", kafka_bootstrap, "--prefix", prefix]
    assert cli(tmp_path, "topics", "create", *b).returncode == 0
    ensure_changelog(kafka_bootstrap, f"{prefix}-worker", 3)  # as a worker makes it
    neighbour = ensure_topics(kafka_bootstrap, f"{prefix}x")  # another pipeline, same leading text
    try:
        assert cli(tmp_path, "produce", str(DATA), *b, "--once").returncode == 0
        log = tmp_path / "archive.log"
        archive = start(tmp_path, log, "archive", *b)  # a consumer group with a member, then with offsets
        try:
            deadline = time.monotonic() + 60
            while "reading 8 partitions" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            busy = cli(tmp_path, "topics", "delete", *b, "--yes")
            assert busy.returncode == 1, busy.stdout + busy.stderr
            assert "nothing deleted: consumer groups still have members" in busy.stderr, busy.stderr
            assert f"{prefix}-archive: {prefix}-archive" in busy.stderr, busy.stderr
        finally:
            assert stop(archive) == 0
        names = TopicNames(prefix)
        ours = [*names.all(), f"{prefix}-worker-correlate-state-changelog"]
        dry = cli(tmp_path, "topics", "delete", *b)
        assert dry.returncode == 0, dry.stderr
        assert sorted(ln.split()[0] for ln in dry.stdout.splitlines() if " topic " in ln) == sorted(ours), dry.stdout
        assert f"{prefix}-archive  consumer group  would delete" in dry.stdout, dry.stdout
        assert "nothing deleted yet; run again with --yes" in dry.stderr, dry.stderr
        assert set(ours) <= set(kafka_admin.list_topics())  # type: ignore[attr-defined]

        res = cli(tmp_path, "topics", "delete", *b, "--yes")
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"6 topics and 1 consumer group of {prefix} on {kafka_bootstrap} deleted" in res.stderr, res.stderr
        deadline = time.monotonic() + 30
        while set(ours) & set(kafka_admin.list_topics()):  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "topics still listed"
            time.sleep(0.5)
        assert set(neighbour) <= set(kafka_admin.list_topics())  # type: ignore[attr-defined]
        again = cli(tmp_path, "topics", "delete", *b, "--yes")
        assert again.returncode == 0, again.stderr
        assert "no topics and no consumer groups" in again.stderr, again.stdout + again.stderr
    finally:
        kafka_admin.delete_topics(neighbour, timeout_ms=30_000)  # type: ignore[attr-defined]


def test_a_live_notify_names_its_release_on_its_start_line(tmp_path: Path) -> None:
    """Outside trial 86, F3: a running `notify` said nowhere which release it was started with (`--version` of an
    install upgraded in place names the new one)."""
    log = tmp_path / "notify.log"
    proc = start(tmp_path, log, "notify", "--store", f"sqlite:///{tmp_path / 'wf.db'}", "--interval", "1")
    try:
        deadline = time.monotonic() + 60  # (a bound on a broken start, not a timing assertion)
        while "watchfloor notify" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        assert stop(proc) == 0, log.read_text()
    said = [line for line in log.read_text().splitlines() if "watchfloor notify delivers from" in line]
    assert said and said[0].endswith(f" · watchfloor {release()}"), log.read_text()
