"""Every real feed capture in ../shared/data/rss_samples either ingests or is reported cleanly; none raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.producers.publish import ingest
from watchfloor.producers.rss import fetch_feed
from watchfloor.schemas.events import DeadLetter, Document
from watchfloor.stream_processors.stores.memory import MemoryStore

pytestmark = pytest.mark.data


def _check(path: Path) -> tuple[str, str]:
    """-> (outcome, detail); raises AssertionError when the result breaks the contract."""
    result = fetch_feed(str(path))
    if result.error is not None:
        assert result.items == [], "a feed-level error comes with no items"
        assert result.error.reason and result.error.url == str(path)
        return "reported", result.error.reason
    for item in result.items:
        if isinstance(item, Document):
            # every document passes full validation (parse_document skips the second pass)
            Document.model_validate(item.model_dump())
            assert item.title or item.body
            assert item.published_at.utcoffset() is not None
            assert item.source.name and item.source.kind == "feed"
        else:
            assert isinstance(item, DeadLetter) and item.reason and item.origin == str(path)
    docs, dead = result.documents, result.dead_letters
    assert docs or dead, "a readable feed with no entries should not be in this sample set"
    summary = ingest(MemoryStore(), result.items, str(path))
    assert summary.accepted == len(docs) and summary.dead_lettered == len(dead)
    if docs:
        extra = f", {len(dead)} dead-lettered" if dead else ""
        warn = " (read leniently)" if result.warnings else ""
        return "ingested", f"{len(docs)} document(s){extra}, {result.version}{warn}"
    return "reported", f"{len(dead)} dead letter(s): {dead[0].reason}"


def test_every_sample_ingests_or_is_reported(shared_data: Path) -> None:
    root = shared_data / "rss_samples"
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if not files:
        pytest.skip(f"no feed samples under {root}")
    rows: list[tuple[str, str, str]] = []
    failures: list[str] = []
    for path in files:
        name = str(path.relative_to(root))
        try:
            outcome, detail = _check(path)
        except Exception as e:  # collect them all, then fail once with the list
            failures.append(f"{name}: {type(e).__name__}: {e}")
            outcome, detail = "FAILED", str(e)
        rows.append((name, outcome, detail))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'sample':<{width}}  outcome   detail")
    for name, outcome, detail in rows:
        print(f"{name:<{width}}  {outcome:<8}  {detail[:110]}")
    ingested = sum(1 for r in rows if r[1] == "ingested")
    reported = sum(1 for r in rows if r[1] == "reported")
    print(f"{len(rows)} samples: {ingested} ingested, {reported} reported, {len(failures)} failed")

    assert not failures, "\n".join(failures)
    assert ingested > reported  # most captures are real, readable feeds
