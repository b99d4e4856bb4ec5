"""Syndicated copies in real news (../shared/data, the 2023 RSS corpus): AP stories that ABC News and The
Washington Post both carried are one story; Al Jazeera's daily "list of key events" pages are not."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path

import pytest

from watchfloor.stream_processors.engine.stories import (
    independent,
    same_story,
    similarity,
    story_signature,
    word_similarity,
)
from watchfloor.stream_processors.engine.text import tokens

pytestmark = pytest.mark.data


def _items(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        pytest.skip(f"{path} not found")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _sig(o: dict[str, str]) -> str:
    return story_signature(tokens(f"{o.get('title') or ''} {o.get('description') or ''}"))


def test_wire_copies_are_one_story_and_templates_are_not(shared_data: Path) -> None:
    corpus = shared_data / "news_rss_2023"
    abc = {o["title"]: o for o in _items(corpus / "abc_topstories.jsonl.gz") if o.get("title")}
    wapo = [o for o in _items(corpus / "washingtonpost_world.jsonl.gz") if o.get("title") in abc]
    assert len(wapo) > 100  # AP copies: the same title in both feeds
    copies = [similarity(_sig(abc[o["title"]]), _sig(o)) for o in wapo[:200]]
    share = sum(s >= 0.7 for s in copies) / len(copies)
    assert share > 0.75, share  # the rest: the same headline over a different summary
    # Two copies and one report of another outlet: two independent reports.
    o = wapo[0]
    other = next(x for x in _items(corpus / "bbc_news.jsonl.gz") if x.get("title"))
    reports = [("ABC News", _sig(abc[o["title"]])), ("The Washington Post", _sig(o)), ("BBC", _sig(other))]
    assert independent(reports) == 2

    key_events = sorted(
        (o for o in _items(corpus / "aljazeera_all_http.jsonl.gz") if "List of key events" in (o.get("title") or "")),
        key=lambda o: o.get("date_published") or "",
    )
    assert len(key_events) > 50
    near = [similarity(_sig(a), _sig(b)) for a, b in pairwise(key_events[:60])]
    assert max(near) < 0.7, max(near)  # look-alike days, different news
    # Short texts, nearly every word shared, but another day number: not short copies either.
    days = [_sig(o) for o in key_events[:60]]
    assert not any(same_story(a, b) for a, b in pairwise(days) if a != b)
    assert sum((word_similarity(a, b) or 0.0) >= 0.6 for a, b in pairwise(days)) > 10  # the words alone would join them
