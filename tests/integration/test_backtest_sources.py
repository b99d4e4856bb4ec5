"""Scored backtests from a SQL store and from a REAL Kafka broker give the file's scores; the Kafka read
knows its total (end - start offsets) for the progress bar."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import document_event
from watchfloor.schemas.inputs import parse_document

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring"
TRUTH = ["--labels", str(DATA / "labels.csv"), "--label-map", str(DATA / "label_map.yaml")]


def documents() -> list[Any]:
    lines = (DATA / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [parse_document(orjson.loads(line)) for line in lines if line.strip()]


def scores(*args: str, tmp_path: Path, name: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    res = CliRunner().invoke(app, ["backtest", *args, *TRUTH, "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    return {"scores": data["scores"]["per_rule"], "alerts": sorted(a["id"] for a in data["alerts"])}


def test_scores_from_a_store_equal_the_files(tmp_path: Path) -> None:
    from watchfloor.stream_processors.stores import open_store

    url = f"sqlite:///{tmp_path / 'events.db'}"
    st = open_store(url)
    st.append([document_event(d) for d in documents()])
    st.close()
    from_file = scores(str(DATA / "events.jsonl"), tmp_path=tmp_path, name="file")
    from_store = scores("--from-store", url, tmp_path=tmp_path, name="store")
    assert from_store == from_file
    assert from_file["scores"]["troops-deployed"]["fp"] == 1


@pytest.fixture
def topic(kafka_bootstrap: str, kafka_admin: Any, tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("kafka")
    from watchfloor.schemas.topics import TopicNames as Topics
    from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

    prefix = f"wf-scored-{uuid.uuid4().hex[:8]}"
    with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
        pub.ensure_topics()
        docs = documents()
        assert pub.publish([document_event(d) for d in docs]).sent == len(docs)
    yield Topics(prefix).documents
    try:
        kafka_admin.delete_topics(Topics(prefix).all(), timeout_ms=30_000)
    except Exception as exc:  # best effort
        print(f"could not delete {prefix} topics: {exc!r}")


def test_scores_from_kafka_equal_the_files_and_the_read_knows_its_total(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    from watchfloor.stream_processors.kafka.reader import KafkaReplayStats, replay_from_kafka

    from_file = scores(str(DATA / "events.jsonl"), tmp_path=tmp_path, name="file")
    from_kafka = scores("--from-kafka", topic, "--bootstrap", kafka_bootstrap, tmp_path=tmp_path, name="kafka")
    assert from_kafka == from_file
    stats = KafkaReplayStats()
    got = list(replay_from_kafka(kafka_bootstrap, topic, datetime(2000, 1, 1, tzinfo=UTC), stats=stats))
    assert len(got) == len(documents())
    assert stats.expected == stats.records >= len(got)  # documents and the publisher's watermark records


def test_reading_kafka_on_a_terminal_shows_records_of_the_total_learnt_on_the_way(
    kafka_bootstrap: str, topic: str, tmp_path: Path
) -> None:
    import re

    from tests.functional.terminal import run_on_terminal
    from watchfloor.stream_processors.kafka.reader import KafkaReplayStats, replay_from_kafka

    stats = KafkaReplayStats()
    list(replay_from_kafka(kafka_bootstrap, topic, datetime(2000, 1, 1, tzinfo=UTC), stats=stats))
    code, frames = run_on_terminal(["backtest", "--from-kafka", topic, "--bootstrap", kafka_bootstrap])
    assert code == 0, frames
    n = stats.records  # documents and the publisher's watermark records
    done = [f for f in frames if re.search(rf"^\W*reading {re.escape(topic)} .*100%\s+{n}/{n}\s.*ETA", f)]
    assert done, frames


def dated_alerts(*args: str, tmp_path: Path, name: str) -> list[tuple[str, str, tuple[str, ...]]]:
    out = tmp_path / f"{name}.json"
    res = CliRunner().invoke(app, ["backtest", *args, "--rules", "builtin:dprk_russia", "--json", str(out)])
    assert res.exit_code == 0, res.output
    alerts = json.loads(out.read_text())["alerts"]
    return sorted((a["id"], a["fired_at"], tuple(e["event_id"] for e in a["evidence"])) for a in alerts)


def test_a_document_dated_in_the_future_counts_at_its_receive_time_from_kafka_as_live(
    kafka_bootstrap: str, kafka_admin: Any, tmp_path: Path
) -> None:
    """Outside trial 40, M4: a document dated more than the skew after it was received (a typo: 2099) counts at its
    receive time live and in `backtest --from-store`; `--from-kafka` took it at the time of the replay, so the alert it
    completes fired at another time (same id). The receive time travels in the record's envelope (received_at)."""
    from datetime import timedelta

    from watchfloor.schemas.topics import TopicNames as Topics
    from watchfloor.stream_processors.kafka.publisher import KafkaPublisher
    from watchfloor.stream_processors.stores import open_store

    data = Path(__file__).resolve().parents[1] / "data" / "distributed" / "dprk_russia.jsonl"
    events = []
    for line in data.read_text(encoding="utf-8").splitlines():
        doc = parse_document(orjson.loads(line))
        received = doc.published_at + timedelta(minutes=20)
        if doc.id == "dist-018":  # a typo in the year: received in 2024, dated in 2099
            doc = doc.model_copy(update={"published_at": doc.published_at.replace(year=2099)})
        events.append(document_event(doc, origin=str(data), received_at=received))
    url = f"sqlite:///{tmp_path / 'live.db'}"
    st = open_store(url)
    st.append(events)
    st.close()
    prefix = f"wf-future-{uuid.uuid4().hex[:8]}"
    try:
        with KafkaPublisher(kafka_bootstrap, prefix, spool_path=tmp_path / "spool.jsonl") as pub:
            pub.ensure_topics()
            assert pub.publish(events).sent == len(events)
        from_store = dated_alerts("--from-store", url, tmp_path=tmp_path, name="store")
        assert any("dist-018" in evidence and fired.startswith("2024-12-18") for _, fired, evidence in from_store)
        topic = Topics(prefix).documents
        kafka = dated_alerts("--from-kafka", topic, "--bootstrap", kafka_bootstrap, tmp_path=tmp_path, name="kafka")
        assert kafka == from_store
    finally:
        try:
            kafka_admin.delete_topics(Topics(prefix).all(), timeout_ms=30_000)
        except Exception as exc:  # best effort
            print(f"could not delete {prefix} topics: {exc!r}")
