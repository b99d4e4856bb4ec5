"""`rules explain` on real news (audit F10): the engine's screen decides which documents are explained and changes
nothing in their explanations; on a terminal it draws progress bars. The whole 2023 corpus was checked the same
way when this was written (BENCHMARKS.md, "`rules explain` over a year of news"); here two feeds and the key days."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from watchfloor.schemas.events import Document
from watchfloor.schemas.inputs import InputError, parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.explain_detections import explain_corpus, explain_documents
from watchfloor.stream_processors.rulefile import load_rules

from .terminal import run_on_terminal

ROOT = Path(__file__).resolve().parents[2]
NATO = ROOT / "docs" / "examples" / "nato_accession.yaml"
EVENTS = ROOT / "tests" / "data" / "scoring" / "events.jsonl"


def _documents(shared_data: Path) -> list[Document]:
    docs = [
        parse_document(json.loads(line))
        for line in (shared_data / "dprk_russia_2024" / "keydays.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for feed in ("rt_news", "nyt_world"):
        path = shared_data / "news_rss_2023" / f"{feed}.jsonl.gz"
        if not path.exists():
            pytest.skip(f"{path} not found")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                o = json.loads(line)
                try:
                    docs.append(
                        parse_document(
                            {
                                "type": "news.article",
                                "published_at": o.get("date_published"),
                                "source": feed,
                                "title": o.get("title") or "",
                                "body": o.get("description") or "",
                                "url": o.get("link"),
                            }
                        )
                    )
                except InputError:
                    continue
    return docs


@pytest.mark.data
@pytest.mark.parametrize("pack", ["builtin:dprk_russia", str(NATO)])
def test_the_screen_leaves_every_explanation_as_it_was(shared_data: Path, pack: str) -> None:
    docs = _documents(shared_data)
    rules = load_rules([pack])[1]
    screened, closing, summary = explain_corpus(Engine(rules), docs)
    full, closing_full, summary_full = explain_corpus(Engine(rules), docs, screen=False)
    assert [e.to_json() for e in screened] == [e.to_json() for e in full]
    assert closing == closing_full and summary == summary_full
    assert 0 < summary.explained < summary.read / 10 and summary.signals
    # And as explain read every document in full before (explain_documents).
    every, _closing = explain_documents(Engine(rules), docs)
    shown = {e.document_id for e in screened}
    assert [e.to_json() for e in every if e.document_id in shown] == [e.to_json() for e in screened]
    assert all(not (e.signals or e.detections) for e in every if e.document_id not in shown)


def test_a_terminal_shows_the_reading_and_the_explaining() -> None:
    code, frames = run_on_terminal(["rules", "explain", "--rules", "builtin:dprk_russia", str(EVENTS)])
    assert code == 0, frames
    n = sum(1 for line in EVENTS.read_text(encoding="utf-8").splitlines() if line.strip())
    eta = r"ETA (\d+:\d\d:\d\d|-:--:--)"
    assert any(re.search(rf"^\W*reading .*kB.*{eta}$", f) for f in frames), frames
    assert any(re.search(rf"^\W*explaining .*100%\s+{n}/{n}\s.*{eta}$", f) for f in frames), frames
    assert any(f.startswith(f"{n} document{'' if n == 1 else 's'} read") for f in frames), frames
