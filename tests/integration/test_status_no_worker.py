"""`status` with no worker running and nothing waiting: still "caught up" (nothing is behind), with a note that new
documents will wait (outside trial 55, L2: "caught up", exit 0, and nothing said of the missing worker)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.kafka import topic_prefix
from watchfloor.cli import app
from watchfloor.stream_processors.kafka.topics import ensure_topics

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture
def prefix(kafka_admin: Any, kafka_bootstrap: str) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-noworker") as p:
        ensure_topics(kafka_bootstrap, p, 2)
        yield p


def test_status_caught_up_with_no_worker_running_notes_that_new_documents_will_wait(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    b = ["--broker", kafka_bootstrap, "--prefix", prefix, "--store", f"sqlite:///{tmp_path / 'wf.db'}"]
    res = runner.invoke(app, ["status", *b])
    assert res.exit_code == 0, res.output  # the verdict is the lag's: nothing waits
    assert f"pipeline {prefix}: caught up" in res.output
    assert f"note: no worker is running in group {prefix}-worker: new documents will wait" in res.output

    res = runner.invoke(app, ["status", *b, "--json"])
    assert res.exit_code == 0, res.output
    said = json.loads(res.stdout)
    assert (said["caught_up"], said["workers_running"]) == (True, 0)


def test_status_of_a_mistyped_prefix_says_which_pipelines_the_broker_has(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """Outside trial 60, LOW-2: `status --prefix TYPO` said "behind (topics missing)" with none of the "a mistyped
    --prefix?" the worker says for the same typo."""
    typo = prefix + "x"
    b = ["--broker", kafka_bootstrap, "--prefix", typo, "--store", f"sqlite:///{tmp_path / 'wf.db'}"]
    res = runner.invoke(app, ["status", *b])
    flat = " ".join(res.output.split())
    assert res.exit_code == 3, res.output
    assert f"pipeline {typo}: behind (topics missing; this broker has the topics of" in flat, flat
    assert f"{prefix}" in flat.split("this broker has the topics of", 1)[1] and "a mistyped --prefix?" in flat


def test_status_notes_no_worker_when_the_only_member_was_killed(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """Outside trial 86, F6: the group's only member killed (kill -9: a member until its session times out), `status`
    said "caught up" without the note, though `--json` said `workers_running: 0`."""
    import socket
    import subprocess
    import sys

    from tests.integration.test_kafka_mixed_group import members_named
    from watchfloor.schemas.topics import TopicNames
    from watchfloor.stream_processors.kafka.rules_guard import client_id

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)  # a pid that ran and is gone (reaped)
    group = f"{prefix}-worker"
    killed = client_id(group, socket.gethostname(), dead, "5ee9db9e6365-v0.1.0")
    b = ["--broker", kafka_bootstrap, "--prefix", prefix, "--store", f"sqlite:///{tmp_path / 'wf.db'}"]
    with members_named(kafka_bootstrap, group, TopicNames(prefix).documents, [killed]):
        res = runner.invoke(app, ["status", *b], env={"COLUMNS": "250"})
        assert res.exit_code == 0, res.output
        assert f"pipeline {prefix}: caught up" in res.output
        assert f"note: no worker is running in group {group}: new documents will wait" in res.output, res.output
        said = json.loads(runner.invoke(app, ["status", *b, "--json"]).stdout)
        assert (said["caught_up"], said["workers_running"]) == (True, 0)
