"""The correlate agent with detections over detections (no broker): its own code over a simulated correlate topic.

Each correlate partition is a log the extract side appends to (routed signals, watermarks) and the agent appends to
as well (input alerts' changes keyed by their derived groups, its forwarded watermarks: agents.Correlate). Batches of
random size are taken from random partitions by agents with the audit on (every state record compared, the table
read back after each batch); some batches fail after their outputs were sent and before their state was written
(the `encode` seam raises: a worker stopped there), and are read again by a new agent from the table, so every
output of theirs is sent twice. The alerts that stand (the detections topic, each event once, as the store keeps
it) must be the embedded runner's.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.fixtures.correlate_compose import extracted, run_agents
from tests.unit.test_partition_compose import COMPOSED, MIXED, documents, embedded, engine, key


@pytest.mark.parametrize("seed", range(3))
def test_the_agent_raises_the_embedded_alerts_with_batches_read_twice(seed: int, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(MIXED, encoding="utf-8")
    specs = [str(COMPOSED), str(mixed)]
    docs = documents(seed + 20)
    want = sorted(map(key, embedded(specs, docs)))
    assert {"closure-confirmed", "both-closed", "reopened-after-closure"} <= {k[1] for k in want}
    eng = engine(specs)
    topic, _ = run_agents(eng, extracted(eng, docs), random.Random(seed), fail_rate=0.1, audit=True)
    assert sorted(map(key, topic.standing())) == want
