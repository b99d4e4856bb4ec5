"""On real 2023 world news, the backtest's fast path (msgspec line check, JSON line gate, event times
for ruled-out documents) gives exactly the alerts of the plain path: every document built and run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from watchfloor.backtest import read_events
from watchfloor.producers.jsonl import read_jsonl
from watchfloor.schemas.events import DeadLetter, Document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import JsonLineGate
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules

PACK = Path(__file__).resolve().parents[1] / "data" / "rules" / "world_news.yaml"
FEEDS = ("aljazeera_all_https", "rt_news", "guardian_world")

try:
    import hyperscan  # noqa: F401

    SCANNERS = ["re2", "hyperscan"]
except ImportError:
    SCANNERS = ["re2"]


def as_input(rec: dict[str, Any], feed: str) -> dict[str, Any]:
    """A raw capture as our input contract; the description is kept with its HTML (the gate must
    cope with entities)."""
    out: dict[str, Any] = {
        "type": "news.article",
        "published_at": rec["date_published"],
        "source": {"name": feed, "url": rec.get("source"), "kind": "feed"},
        "title": rec.get("title") or "",
        "body": rec.get("description") or "",
    }
    if rec.get("link"):
        out["url"] = rec["link"]
    return out


@pytest.fixture(scope="module")
def corpus(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("news2023") / "three_feeds.jsonl"
    with open(path, "wb") as out:
        for i, feed in enumerate(FEEDS):
            with gzip.open(shared_data / "news_rss_2023" / f"{feed}.jsonl.gz", "rb") as f:
                for line in f:
                    if not line.strip():
                        continue
                    obj = as_input(orjson.loads(line), feed)
                    # One feed written as Python's json does by default: \\u escapes for non-ASCII.
                    raw = json.dumps(obj).encode() if i == 1 else orjson.dumps(obj)
                    out.write(raw + b"\n")
    return path


@pytest.mark.parametrize("scanner", SCANNERS)
def test_fast_backtest_equals_the_plain_one_on_real_news(corpus: Path, scanner: str) -> None:
    _packs, compiled = load_rules([str(PACK)])
    assert compiled.json_gate is not None, "the pack should be gated (no regex-only signal)"
    gate = JsonLineGate(list(compiled.json_gate.words), scanner=scanner)

    # The first version of each id, as the live ingest keeps it (the feeds repeat some URLs): the backtest
    # reader leaves the repeats out too.
    every_doc = [x for x in read_jsonl(corpus) if isinstance(x, Document)]
    ids: set[str] = set()
    plain_docs = [d for d in every_doc if not (d.id in ids or ids.add(d.id))]  # type: ignore[func-returns-value]
    assert len(plain_docs) < len(every_doc), "the corpus should repeat some ids"
    plain = replay(plain_docs, Engine(compiled))

    loaded = read_events([str(corpus)], gate=gate)
    assert not loaded.errors
    ruled_out = sum(1 for d in loaded.documents if isinstance(d, float))
    assert ruled_out > len(plain_docs) // 2, "the gate should rule most of the news out"
    fast = replay(loaded.documents, Engine(compiled))

    assert len(plain.detections) > 100, "the pack should be busy on this news"
    assert {d.rule for d in plain.detections} >= {"missile", "missile-count", "ceasefire-no-strike"}
    assert [d.model_dump() for d in fast.detections] == [d.model_dump() for d in plain.detections]
    assert (fast.documents, fast.signals, len(fast.late)) == (plain.documents, plain.signals, len(plain.late))
    bad_lines = sum(1 for x in read_jsonl(corpus) if isinstance(x, DeadLetter))
    repeats = len(every_doc) - len(plain_docs)  # each one already seen, or a dead letter (other content)
    assert bad_lines <= len(loaded.dead_letters) <= bad_lines + repeats
