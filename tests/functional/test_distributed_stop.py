"""A worker asked to stop exits within its stop grace even when Faust's stop would wait for ever (an injected
fault: the wait for acknowledgements never ends), with exit code 0 and a line that says so."""

from __future__ import annotations

import time

import pytest

from tests.functional.test_distributed_equivalence import Cluster, assignment, cluster  # noqa: F401

pytestmark = [pytest.mark.functional, pytest.mark.integration, pytest.mark.timeout(180)]

GRACE_S = 5.0


def test_a_stop_that_hangs_ends_after_the_grace(cluster: Cluster) -> None:  # noqa: F811
    cluster.inject_fault("WF_FAULT_STUCK_STOP")
    cluster.env["WATCHFLOOR_STOP_GRACE_S"] = str(GRACE_S)
    w = cluster.worker("w1").start()
    cluster.wait("the worker to own its partitions", lambda: bool(assignment(w)))
    asked = time.monotonic()
    w.stop()  # SIGTERM; stop() would SIGKILL after 30 s
    took = time.monotonic() - asked
    log = w.log.read_text(errors="replace")
    assert "fault injected: the stop waits for ever" in log
    assert w.proc is not None and w.proc.returncode == 0, log[-3000:]
    assert f"the worker did not stop within {GRACE_S:.0f} s; exiting now" in log
    # Not before the grace. No upper bound: a stop that never ended would have been SIGKILLed by stop() after 30 s
    # (returncode -9, refused above), and how long past the grace the exit takes is the machine's load.
    assert took >= GRACE_S, took


def test_a_clean_stop_says_so_last(cluster: Cluster) -> None:  # noqa: F811
    """Outside trial 14, L4: a worker stopped with SIGTERM left no line to tell the stop from a crash."""
    w = cluster.worker("w1").start()
    cluster.wait("the worker to own its partitions", lambda: bool(assignment(w)))
    w.stop()  # SIGTERM
    log = w.log.read_text(errors="replace")
    assert w.proc is not None and w.proc.returncode == 0, log[-3000:]
    assert "worker stopped (SIGTERM)" in log.strip().splitlines()[-1], log[-3000:]
