"""docs/kafka.md stays true to the code it summarises: the metrics it names exist, the tools it runs are known to
scripts/kafka-local, and its topics table says what topic_specs makes."""

from __future__ import annotations

import re
from pathlib import Path

from watchfloor.stream_processors.kafka.topics import DEFAULT_PARTITIONS, topic_specs

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "kafka.md").read_text(encoding="utf-8")


def test_every_metric_named_is_one_serve_exposes() -> None:
    source = (ROOT / "watchfloor" / "web" / "metrics.py").read_text(encoding="utf-8")
    named = set(re.findall(r"`(watchfloor_[a-z_]+)", DOC))
    assert named
    missing = {m for m in named if f'"{m.removesuffix("_total")}"' not in source}
    assert not missing, missing


def test_every_tool_run_is_one_kafka_local_knows() -> None:
    script = (ROOT / "scripts" / "kafka-local").read_text(encoding="utf-8")
    tools = set(re.findall(r"kafka-local tool (kafka-[a-z-]+)", DOC))
    assert tools
    assert all(f"        {t})" in script for t in tools), tools


def test_the_topics_table_says_what_is_made() -> None:
    assert f"(default {DEFAULT_PARTITIONS})" in DOC
    for spec in topic_specs("PREFIX", DEFAULT_PARTITIONS):
        row = next(line for line in DOC.splitlines() if line.startswith(f"| `{spec.name}`"))
        retention = spec.config.get("retention.ms")
        said = {"-1": "forever", str(7 * 86400_000): "7 days", str(365 * 86400_000): "a year"}[retention or ""]
        assert said in row, row
        if spec.partitions == 1:
            assert "| 1 |" in row, row
