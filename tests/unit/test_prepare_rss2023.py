"""benchmarks/prepare_rss2023.py: `--help` says where it reads the corpus and how to point it elsewhere (it
prepared instead, or failed on absent data: outside trial 13, L1); a corpus in its feeds' own fields becomes
input a backtest reads."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

from watchfloor.schemas.events import Document
from watchfloor.schemas.inputs import parse_document

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "prepare_rss2023.py"


def _run(tmp_path: Path, *args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WATCHFLOOR_DATA": str(data), "WATCHFLOOR_BENCH_CACHE": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_help_says_where_it_reads_and_how_to_point_it(tmp_path: Path) -> None:
    res = _run(tmp_path, "--help", data=tmp_path / "nowhere")
    assert res.returncode == 0, res.stderr
    assert "WATCHFLOOR_DATA" in res.stdout and "WATCHFLOOR_BENCH_CACHE" in res.stdout
    assert f"Here it reads {tmp_path / 'nowhere' / 'news_rss_2023'}" in res.stdout
    assert "already in the log with" in res.stdout  # the re-issued links a backtest then skips, explained
    assert not (tmp_path / "cache").exists()  # a --help prepares nothing, makes nothing


def test_absent_data_names_the_variable(tmp_path: Path) -> None:
    res = _run(tmp_path, data=tmp_path / "nowhere")
    assert res.returncode == 2
    assert "WATCHFLOOR_DATA" in res.stderr


def test_a_feed_in_its_own_fields_is_prepared_for_backtest(tmp_path: Path) -> None:
    corpus = tmp_path / "data" / "news_rss_2023"
    corpus.mkdir(parents=True)
    items = [
        {
            "source": "https://example.org/harbour.rss",
            "link": "https://example.org/news/1",
            "title": "Harbour at Lindo closed to ships",
            "date_published": "2023-05-02 08:00:00+00:00",
            "description": "<p>Pilots said the <b>harbour</b> stays shut.</p>",
        },
        {
            "source": "https://example.org/harbour.rss",
            "link": "https://example.org/news/2",
            "title": "Lindo harbour opens again",
            "date_published": "2023-05-04 10:30:00+00:00",
            "description": "Ferries sailed at dawn.",
        },
        {
            "source": "https://example.org/harbour.rss",
            "link": "https://example.org/news/3",
            "title": "Storm closes Lindo again",
            "date_published": "2023-05-06 09:00:00+00:00",
            # paragraphs stay apart, as the feed reader keeps them (outside trial 44, M4: joined, a paragraph
            # without a full stop ran into the next one's sentence)
            "description": "<p>Storm warning for the coast</p><p>Pilots closed the harbour.</p>",
        },
    ]
    with gzip.open(corpus / "quay_post.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(i) + "\n" for i in items)
    res = _run(tmp_path, data=tmp_path / "data")
    assert res.returncode == 0, res.stderr
    out = Path(res.stdout.strip())
    lines = [json.loads(x) for x in (out / "quay_post.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(x["type"], x["published_at"], x["source"]["name"], x["body"]) for x in lines] == [
        ("news.article", "2023-05-02T08:00:00+00:00", "quay_post", "Pilots said the harbour stays shut."),
        ("news.article", "2023-05-04T10:30:00+00:00", "quay_post", "Ferries sailed at dawn."),
        (
            "news.article",
            "2023-05-06T09:00:00+00:00",
            "quay_post",
            "Storm warning for the coast\n\nPilots closed the harbour.",
        ),
    ]
    assert all(isinstance(parse_document(x), Document) for x in lines)  # the input contract a backtest reads
