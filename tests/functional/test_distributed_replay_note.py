"""`backtest --from-store` says what it cannot reproduce of a store Kafka workers raised the alerts of.

Outside trial 11, M2: the docs promised that the producer's store, replayed in log order, gives exactly what the
distributed run raised; the standing alerts match, but the raises and revisions on the way follow each correlate
partition's read order, which no store records. The replay now says so in one line, before it runs, for a store
`produce` relayed from (a real broker) and for one `archive` filled; an embedded store's replay says nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.kafka import topic_prefix
from watchfloor.backtest import ARCHIVED_NOTE, FED_WORKERS_NOTE
from watchfloor.cli import app
from watchfloor.schemas.events import EventType
from watchfloor.wiring import open_store

pytestmark = [pytest.mark.functional, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "distributed" / "dprk_russia.jsonl"


def backtest(url: str) -> Any:
    res = CliRunner().invoke(app, ["backtest", "--from-store", url, "--order", "log"])
    assert res.exit_code == 0, res.output
    return res


def embedded_store(tmp_path: Path) -> str:
    """DATA through `ingest` and `run --once`: an embedded run's store."""
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    (tmp_path / "embedded.yaml").write_text(f"store: {url}\nsources: []\n")
    res = CliRunner().invoke(app, ["ingest", str(DATA), "--store", url])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(tmp_path / "embedded.yaml")])
    assert res.exit_code == 0, res.output
    return url


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    with topic_prefix(kafka_admin, "wf-rnote") as p:
        yield p


@pytest.mark.integration
def test_the_producers_store_says_the_way_to_the_alerts_is_not_replayed(
    kafka_bootstrap: str, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # produce keeps its spool under var/ of the working directory
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    res = CliRunner().invoke(
        app, ["produce", str(DATA), "--broker", kafka_bootstrap, "--prefix", prefix, "--once", "--store", url]
    )
    assert res.exit_code == 0, res.output
    said = backtest(url).output
    assert FED_WORKERS_NOTE in said, said
    assert said.count("note: ") == 1, said


def test_an_archived_store_says_so_and_an_embedded_one_says_nothing(tmp_path: Path) -> None:
    url = embedded_store(tmp_path)
    said = backtest(url).output
    assert "note: " not in said, said  # the embedded log replays exactly: nothing to warn of
    # What `archive` keeps of a distributed run: the documents and the detections, no marks, no checkpoint.
    src = open_store(url, create=False)
    archived = open_store(f"sqlite:///{tmp_path / 'archived.db'}")
    try:
        kept = [
            se.event
            for se in src.read(0, limit=10_000)
            if se.event.type in {"news.article", "official.statement", EventType.DETECTION.value}
        ]
        assert any(ev.type == EventType.DETECTION.value for ev in kept)
        archived.append(kept)
    finally:
        src.close()
        archived.close()
    said = backtest(f"sqlite:///{tmp_path / 'archived.db'}").output
    assert ARCHIVED_NOTE in said, said
