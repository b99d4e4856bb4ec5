"""`watchfloor ingest` only records documents and `notify` only delivers detections: on an embedded store whose
documents no `run` has processed, both say so, with the command that detects them (outside trial 9, F3). A store
the distributed runtime feeds (its relay published from it, or an archive of the workers' detections) says
nothing: its workers detect."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.producers.relay import RELAY_PROCESSOR
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

FEED = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "wire_feed.xml"
runner = CliRunner()
HINT = "2 documents in the store not through detection yet: `watchfloor run` detects and delivers them"


def config(tmp_path: Path, name: str) -> Path:
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / name}.db\nrules: [builtin:dprk_russia]\n"
        f"channels: [{{type: file, name: archive, path: {tmp_path / name}.jsonl}}]\n"
        "subscriptions: [{channel: archive}]\n",
        encoding="utf-8",
    )
    return cfg


def wf(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_ingest_then_notify_names_the_command_that_detects(tmp_path: Path) -> None:
    c = ["--config", str(config(tmp_path, "wf"))]
    assert HINT in wf("ingest", str(FEED), *c)
    out = wf("notify", "--once", *c)
    assert "0 detections taken in" in out and f"warning: {HINT}" in out
    assert "not through detection" not in wf("run", "--once", *c)
    assert "not through detection" not in wf("notify", "--once", *c)
    assert "not through detection" not in wf("ingest", str(FEED), *c)  # nothing new: nothing to say


def test_a_store_the_distributed_runtime_feeds_says_nothing(tmp_path: Path) -> None:
    embedded = ["--config", str(config(tmp_path, "embedded"))]
    wf("ingest", str(FEED), *embedded)
    wf("run", "--once", *embedded)
    # produce's store: its relay has published the documents to Kafka, where the workers detect them
    produced = ["--config", str(config(tmp_path, "produced"))]
    wf("ingest", str(FEED), *produced)
    st = open_store(f"sqlite:///{tmp_path / 'produced'}.db")
    try:
        st.commit(RELAY_PROCESSOR, Checkpoint(st.read(0, limit=10)[-1].position, None), [])
    finally:
        st.close()
    assert "not through detection" not in wf("notify", "--once", *produced)
    # archive's store: the documents and the workers' detections (no caught-up marks: the relay made watermarks of
    # them, which the archive does not keep), and no embedded pass; first the documents alone (nothing matched yet)
    archived = ["--config", str(config(tmp_path, "archived"))]
    src, dst = open_store(f"sqlite:///{tmp_path / 'embedded'}.db"), open_store(f"sqlite:///{tmp_path / 'archived'}.db")
    try:
        documents = [s.event for s in src.read(0, types={EventType.NEWS_ARTICLE.value})]
        detections = [s.event for s in src.read(0, types={EventType.DETECTION.value})]
        assert documents and detections
        dst.append(documents)
        assert "not through detection" not in wf("notify", "--once", *archived)
        dst.append(detections)
    finally:
        src.close()
        dst.close()
    out = wf("notify", "--once", *archived)
    assert "not through detection" not in out and f"{len(detections)} detections taken in" in out
