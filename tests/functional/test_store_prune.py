"""`watchfloor store prune` end to end, on a SQLite file and on PostgreSQL: a store with old and new documents after
`run`, pruned; then its rows and size, a re-ingested old article (a duplicate), `run` again (no alert twice),
`status` and `backtest --from-store` (which name the pruned range). Filler items are in our own words."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.stores.sql import normalize_url

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
runner = CliRunner()
FILLER = 300  # old articles with long bodies: what a prune gives back


def line(i: str, when: datetime, title: str, body: str) -> str:
    item = {"type": "news.article", "id": i, "published_at": when.isoformat(), "source": "Valley Courier"}
    return json.dumps({**item, "title": title, "body": body}) + "\n"


def desk(tmp_path: Path, store: str) -> Path:
    old = tmp_path / "old.jsonl"
    body = "The council met again to discuss the harvest and the new bridge over the river. " * 30
    old.write_text(
        "".join(
            line(f"filler-{i}", datetime(2024, 5, 1, tzinfo=UTC) + timedelta(minutes=i), f"Council notes {i}", body)
            for i in range(FILLER)
        ),
        encoding="utf-8",
    )
    new = tmp_path / "new.jsonl"
    recent = datetime.now(UTC) - timedelta(days=1)
    new.write_text(line("fresh-1", recent, "Market day draws crowds", "Stalls sold apples and honey."), "utf-8")
    cfg = tmp_path / "desk.yaml"
    cfg.write_text(
        f"store: '{store}'\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {SAMPLES}}}\n  - {{kind: jsonl, path: {old}}}\n"
        f"  - {{kind: jsonl, path: {new}}}\n"
        f"channels:\n  - {{type: file, name: file, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "subscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    return cfg


def invoke(*args: str, code: int = 0) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == code, res.output
    return " ".join(res.output.split())


def documents(store: str) -> list[tuple[int, str, dict[str, object]]]:
    engine = create_engine(normalize_url(store))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT position, id, payload FROM events WHERE type IN ('news.article', 'official.statement') "
                    "ORDER BY position"
                )
            ).all()
    finally:
        engine.dispose()
    return [(int(p), str(i), json.loads(str(payload))) for p, i, payload in rows]


def on_disk(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.db'}"
    if not os.environ.get("WATCHFLOOR_TEST_PG_URL"):
        pytest.skip("WATCHFLOOR_TEST_PG_URL is not set")
    return str(request.getfixturevalue("pg_url"))


def test_prune_keeps_every_event_drops_old_text_and_nothing_is_sent_twice(tmp_path: Path, store_url: str) -> None:
    cfg = desk(tmp_path, store_url)
    sent = tmp_path / "alerts.jsonl"
    invoke("run", "--once", "--config", str(cfg))
    alerts = sent.read_text().splitlines()
    assert alerts  # the samples raise alerts
    before = documents(store_url)
    assert len(before) == 12 + FILLER + 1
    size = on_disk(tmp_path / "desk.db") if store_url.startswith("sqlite") else 0

    said = invoke("store", "prune", "--older-than", "30", "--dry-run", "--config", str(cfg))
    assert f"would remove the text of {12 + FILLER} documents" in said, said
    assert documents(store_url) == before

    said = invoke("store", "prune", "--older-than", "30", "--vacuum", "--config", str(cfg))
    assert f"removed the text of {12 + FILLER} documents" in said, said
    after = documents(store_url)
    # Every event where it was, with its id; the old ones without their text, the new one whole.
    assert [(p, i) for p, i, _ in after] == [(p, i) for p, i, _ in before]
    for (_, i, was), (_, _, now) in zip(before, after, strict=True):
        if i == "fresh-1":
            assert now == was
        else:
            assert "title" not in now and "body" not in now and now["published_at"] == was["published_at"]
    if store_url.startswith("sqlite"):
        assert "VACUUM" in said
        assert on_disk(tmp_path / "desk.db") < size * 0.6, (size, on_disk(tmp_path / "desk.db"))
    again = invoke("store", "prune", "--older-than", "30", "--config", str(cfg))
    assert "removed the text of 0 documents" in again, again

    # An old article read again, one with its headline edited since: duplicates, nothing new in the log.
    reread = tmp_path / "reread.jsonl"
    first, second = SAMPLES.read_text().splitlines()[:2]
    edited = json.loads(second)
    edited["title"] += " (updated)"
    reread.write_text(first + "\n" + json.dumps(edited) + "\n", encoding="utf-8")
    said = invoke("ingest", str(reread), "--store", store_url)
    assert "0 new documents, 2 already in the log, 0 dead letters" in said, said
    assert len(documents(store_url)) == len(after)
    invoke("run", "--once", "--config", str(cfg))
    assert sent.read_text().splitlines() == alerts  # no alert sent twice

    said = invoke("status", "--store", store_url, code=0)
    assert "retention: documents dated before" in said and f"were pruned (their text removed: {12 + FILLER}" in said
    res = runner.invoke(app, ["status", "--store", store_url, "--json"])
    pruned = json.loads(res.stdout)["pruned"]
    assert pruned["documents"] == 12 + FILLER and pruned["finished"] and pruned["up_to_position"] >= len(before)
    said = invoke("backtest", "--from-store", store_url, code=1)
    assert "at log positions 1–" in said and "were pruned" in said and "--allow-pruned" in said, said
    said = invoke("backtest", "--from-store", store_url, "--allow-pruned")
    assert "warning: documents dated before" in said, said


def test_run_with_retention_days_prunes_what_it_has_read_at_most_once_a_day(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    cfg = desk(tmp_path, store)
    cfg.write_text(cfg.read_text() + "retention_days: 30\n", encoding="utf-8")
    said = invoke("run", "--once", "--config", str(cfg))
    # Read by the engine in this cycle, then pruned at its end: the old ones, not the new one.
    assert f"retention: the text of {12 + FILLER} documents older than 30 days removed" in said, said
    assert [i for _, i, p in documents(store) if "body" in p] == ["fresh-1"]
    # Within the day: not again (the record's last run says when), and an old article read later keeps its text.
    later = tmp_path / "later.jsonl"
    later.write_text(line("late-1", datetime(2024, 1, 5, tzinfo=UTC), "Old minutes found", "Filed late."), "utf-8")
    invoke("ingest", str(later), "--store", store)
    said = invoke("run", "--once", "--config", str(cfg))
    assert "retention:" not in said, said
    assert sorted(i for _, i, p in documents(store) if "body" in p) == ["fresh-1", "late-1"]


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_retention_days_is_checked_at_load(tmp_path: Path, value: str) -> None:
    cfg = desk(tmp_path, f"sqlite:///{tmp_path / 'desk.db'}")
    cfg.write_text(cfg.read_text() + f"retention_days: {value}\n", encoding="utf-8")
    said = invoke("store", "prune", "--older-than", "30", "--config", str(cfg), code=1)
    at = len(cfg.read_text().splitlines())  # the last line: FILE:LINE:COL of the value
    assert f"{cfg}:{at}:17:" in said, said


def test_an_interrupted_prune_says_so_keeps_what_it_did_and_a_rerun_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of a prune: the batch in hand rolls back, those before it stay done and recorded; `status`
    and `backtest --from-store` name the range as interrupted; a re-run finishes it."""
    from watchfloor import retention
    from watchfloor.stream_processors.stores.sql import SqlStore

    store = f"sqlite:///{tmp_path / 'desk.db'}"
    cfg = desk(tmp_path, store)
    invoke("run", "--once", "--config", str(cfg))
    real = SqlStore.strip_documents
    calls = 0

    def interrupted(self: SqlStore, *args: object, **kw: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return real(self, *args, **{**kw, "limit": 100})  # type: ignore[arg-type]

    monkeypatch.setattr(SqlStore, "strip_documents", interrupted)
    said = invoke("store", "prune", "--older-than", "30", "--config", str(cfg))
    assert "store prune stopped (Ctrl-C): 200 documents pruned in this run; run it again to finish" in said, said
    assert sum("body" not in p for _, _, p in documents(store)) == 200
    said = invoke("status", "--store", store)
    assert "(the last prune was interrupted; run it again)" in said, said
    monkeypatch.setattr(SqlStore, "strip_documents", real)
    said = invoke("store", "prune", "--older-than", "30", "--config", str(cfg))
    assert f"removed the text of {12 + FILLER - 200} documents" in said, said
    assert [i for _, i, p in documents(store) if "body" in p] == ["fresh-1"]
    from watchfloor.stream_processors.stores import open_store

    st = open_store(store)
    try:
        got = retention.pruned_range(st)
        assert got is not None and got.finished and got.documents == 12 + FILLER
    finally:
        st.close()


def test_a_relay_target_gone_for_good_holds_prunes_back_until_forgotten(tmp_path: Path, store_url: str) -> None:
    """A Kafka pipeline this store was relayed to went away early: its `kafka-relay:PREFIX` checkpoint held every
    prune back at its position, and no command could remove it. `store prune` now names the command, and `store
    forget-relay` forgets it: only a relay checkpoint, only one no `produce` still moves."""
    from tests.unit.test_relay import RecordingPublisher
    from watchfloor.producers.relay import KafkaRelay
    from watchfloor.wiring import open_store

    cfg = desk(tmp_path, store_url)
    invoke("ingest", str(SAMPLES), "--store", store_url)
    st = open_store(store_url, create=False)
    try:
        KafkaRelay(st, RecordingPublisher(), target="kafka-relay:gone").run_once()
        relayed = st.checkpoint_position("kafka-relay:gone")
    finally:
        st.close()
    invoke("run", "--once", "--config", str(cfg))  # the engine reads everything, the filler too
    held = sum(1 for p, i, _ in documents(store_url) if p <= relayed and i != "fresh-1")
    assert 0 < held < FILLER

    said = invoke("store", "prune", "--older-than", "30", "--config", str(cfg))
    assert f"held by the checkpoint kafka-relay:gone at {relayed:,})" in said, said
    assert "if that pipeline is gone for good, `watchfloor store forget-relay kafka-relay:gone` lets prunes" in said
    assert f"removed the text of {held} documents" in said, said

    said = invoke("store", "forget-relay", "engine", "--config", str(cfg), code=1)
    assert (
        f"no relay checkpoint 'kafka-relay:engine'; the relay checkpoints it has: kafka-relay:gone at {relayed:,}"
        in (said)
    ), said
    said = invoke("store", "forget-relay", "gone", "--dry-run", "--config", str(cfg))
    assert f"would forget the relay checkpoint kafka-relay:gone (at log position {relayed:,})" in said, said
    said = invoke("store", "forget-relay", "kafka-relay:gone", "--config", str(cfg))
    assert f"forgot the relay checkpoint kafka-relay:gone (at log position {relayed:,})" in said, said
    said = invoke("store", "forget-relay", "gone", "--config", str(cfg), code=1)
    assert "the relay checkpoints it has: none" in said, said

    said = invoke("store", "prune", "--older-than", "30", "--config", str(cfg))
    assert "held by the checkpoint engine at" in said and "forget-relay" not in said, said
    assert f"removed the text of {12 + FILLER - held} documents" in said, said
    assert [i for _, i, p in documents(store_url) if "body" in p] == ["fresh-1"]
