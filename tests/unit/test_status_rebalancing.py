"""`status --broker` says when the broker is rebalancing the workers' group (outside trial 80, F2)."""

from __future__ import annotations

from watchfloor.cli.status import rebalancing_notes
from watchfloor.stream_processors.kafka.status import GroupStatus, PipelineStatus


def test_a_rebalancing_workers_group_gets_a_note_and_a_stable_one_none() -> None:
    # Right after a worker's SIGTERM the verdict said "caught up", exit 0, beside `PreparingRebalance · 1 member`,
    # and nothing said that the group's partitions were being handed out again.
    member = "t80-worker-host-1-rules-5ee9db9e6365-v0.1.0@127.0.0.1"
    groups = [
        GroupStatus("t80-worker", "workers", "PreparingRebalance", members=[member], started=True),
        GroupStatus("t80-archive", "archive", "PreparingRebalance", members=[], started=True),
    ]
    st = PipelineStatus("127.0.0.1:9", "t80", topics={}, missing=[], groups=groups)
    notes = rebalancing_notes(st)
    assert notes == [
        "group t80-worker is rebalancing (PreparingRebalance, 1 member): a worker joined or left and its partitions "
        "are being handed out again; look again once it is Stable"
    ]
    groups[0].state = "Stable"
    assert rebalancing_notes(st) == []
    groups[0].state = "CompletingRebalance"
    assert len(rebalancing_notes(st)) == 1
