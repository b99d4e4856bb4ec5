"""One rule set per worker group, on a real broker: a worker started with other rule packs than a running member
of its group is refused (it waits twice its session timeout for that member to leave), names the member and
says what to do; `status` shows which rules each member runs. Same rules join as before (the failover and
equivalence tests run several workers)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("faust")

from tests.functional.test_distributed_commands import cli, start, stop
from tests.functional.test_distributed_commands import prefix as prefix  # a fixture
from watchfloor.stream_processors.kafka.app import ASSIGNMENT_LOG

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
OTHER_RULES = REPO / "tests" / "data" / "rules" / "world_news.yaml"


def test_a_worker_with_other_rules_is_refused_and_status_shows_the_rules(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    b = ["--broker", kafka_bootstrap, "--prefix", prefix]
    assert cli(tmp_path, "topics", "create", *b).returncode == 0
    first_dir, second_dir = tmp_path / "w1", tmp_path / "w2"
    first_dir.mkdir()
    second_dir.mkdir()
    log = tmp_path / "w1.log"
    first = start(first_dir, log, "worker", *b, "--session-timeout", "6")
    try:
        deadline = time.monotonic() + 120
        while ASSIGNMENT_LOG not in log.read_text(errors="replace"):
            assert first.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        st = json.loads(cli(tmp_path, "status", *b, "--json").stdout)
        assert len(st["groups"][0]["rules"]) == 1, st
        fingerprint = st["groups"][0]["rules"][0]

        t0 = time.monotonic()
        res = cli(second_dir, "worker", *b, "--rules", str(OTHER_RULES), "--session-timeout", "6", timeout=180)
        waited = time.monotonic() - t0
        said = " ".join(res.stderr.split())
        assert res.returncode == 1, res.stdout + res.stderr
        assert "running other rules than this worker" in said and f"-rules-{fingerprint}@" in said, said
        assert "start them all with the same --rules" in said or "Stop those workers first" in said, said
        assert "Traceback" not in res.stderr
        # Describing the group each second while it waited: kafka-python's warnings about Faust's member
        # metadata (~2 KB each) are kept out of the log (audit 3, F5).
        assert "Unable to decode member" not in res.stderr + res.stdout, res.stderr[:3000]
        assert waited >= 12  # it waited for the member to leave before giving up

        st = json.loads(cli(tmp_path, "status", *b, "--json").stdout)
        workers = st["groups"][0]
        assert workers["rules"] == [fingerprint] and len(workers["members"]) == 1
    finally:
        code = stop(first)
    assert code == 0, log.read_text()[-3000:]
