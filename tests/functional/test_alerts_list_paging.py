"""`alerts list` on a store of any size (trial 18, H1: 40 s and 38,000 table lines at 9.6k alerts; 9.7 s for one
id): the newest alerts first, 50 unless --limit N or --all, and how many more there are; --since; one id found by
the store's indexes (migration 9), with the same answers as the whole-log read it replaces. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.cli.alerts import _listed, _read_alerts, _selected
from watchfloor.schemas.events import Detection, Event, Retraction, detection_event, detection_key, retraction_event
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores import open_store
from watchfloor.stream_processors.stores.migrations import current_version, latest_version
from watchfloor.stream_processors.stores.sql import ALERT_ID_SQL, SqlStore, normalize_url

pytestmark = pytest.mark.functional

runner = CliRunner()
ENV = {"WATCHFLOOR_STORE": "", "COLUMNS": "250"}
NOW = datetime.now(UTC)
A, B, C = "aaaa0000000000000001", "bbbb0000000000000002", "cccc0000000000000003"
A2 = detection_key(A, 2)  # A raised again by the change that withdrew its first raising


def _det(alert_id: str, *, revision: int = 0, hours_ago: float = 1.0) -> Detection:
    return Detection(
        id=alert_id,
        rule="rule-c" if alert_id == C else "rule-ab",
        title=f"alert {alert_id[:4]} r{revision}",
        severity="high",
        fired_at=NOW - timedelta(hours=hours_ago),
        revision=revision,
    )


def _raised(ev: Event, days_ago: float) -> Event:
    return ev.model_copy(update={"received_at": NOW - timedelta(days=days_ago)})


def fill(url: str) -> None:
    """A (withdrawn, then raised again as A2), B, C; A and B raised ten days ago; B sent, C outstanding."""
    st = open_store(url)
    try:
        gone = Retraction(alert_id=A, rule="rule-ab", reason="a late report", revision=1, at=NOW - timedelta(hours=2))
        st.append(
            [
                _raised(detection_event(_det(A, hours_ago=5)), 10),
                _raised(detection_event(_det(B, hours_ago=4)), 10),
                _raised(retraction_event(gone), 0.01),
                _raised(detection_event(_det(A, revision=2, hours_ago=3)), 0.01),
                _raised(detection_event(_det(C, hours_ago=2)), 0.01),
            ]
        )
        st.enqueue([DeliveryRecord(B, "desk", status="sent", seq=2), DeliveryRecord(C, "desk", seq=5)])
    finally:
        st.close()


def listed(url: str, *args: str) -> tuple[list[dict[str, object]], str]:
    res = runner.invoke(app, ["alerts", "list", "--store", url, "--json", *args], env=ENV)
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    return lines, res.stderr


def check_paging(url: str) -> None:
    fill(url)
    every, note = listed(url, "--all")
    assert [(d["delivery_key"], d.get("standing"), d.get("reinstates")) for d in every] == [  # log order, as before
        (A, "withdrawn: a late report; reinstated since", None),
        (B, None, None),
        (A2, None, A),  # the same alert raised again (outside trial 30, F2)
        (C, None, None),
    ]
    assert note == ""
    assert listed(url)[0] == every  # 4 alerts: under the default limit, all of them

    newest, note = listed(url, "--limit", "2")
    assert [d["delivery_key"] for d in newest] == [A2, C]
    assert newest[0]["reinstates"] == A  # its earlier raising, not listed, found by the index of alert ids
    assert "2 alerts, the last raised of 4 (2 more: --limit N or --all" in note
    # The oldest alert listed still says what withdrew it, read from its position on.
    three, _ = listed(url, "--limit", "4")
    assert three == every

    table = runner.invoke(app, ["alerts", "list", "--store", url, "--limit", "1"], env=ENV)
    assert table.exit_code == 0, table.output
    rows = [line for line in table.output.splitlines() if line.startswith("│") and line.split("│")[1].strip()]
    assert [r.split("│")[1].strip() for r in rows] == [C]
    assert "1 alert, the last raised of 4 (3 more: --limit N or --all" in " ".join(table.output.split())
    whole = runner.invoke(app, ["alerts", "list", "--store", url, "--all"], env=ENV)
    ids = [line.split("│")[1].strip() for line in whole.output.splitlines() if line.startswith("│")]
    # newest first: C, A2 (shown by its alert id, its first raising folded into its row: one alert), B
    assert [i for i in ids if i] == [C, A, B]
    assert "(reinstated; withdrawn: a late report earlier)" in " ".join(whole.output.split())
    assert "3 alerts (4 raisings: an alert reinstated is one row) · deliveries: 1 outstanding, 1 sent" in " ".join(
        whole.output.split()
    )

    assert [d["delivery_key"] for d in listed(url, "--since", "1d")[0]] == [A2, C]
    assert [d["delivery_key"] for d in listed(url, "--since", "30d")[0]] == [A, B, A2, C]
    assert [d["delivery_key"] for d in listed(url, "--rule", "rule-ab", "--limit", "2")[0]] == [B, A2]
    assert "2 alerts, the last raised of 3 (1 more" in listed(url, "--rule", "rule-ab", "--limit", "2")[1]
    assert [d["delivery_key"] for d in listed(url, "--undelivered")[0]] == [C]

    # One id: every raising of an alert id, one raising by its delivery key; as the whole-log read found them.
    assert [d["delivery_key"] for d in listed(url, A)[0]] == [A, A2]
    assert [d["delivery_key"] for d in listed(url, A2)[0]] == [A2]
    assert [d["delivery_key"] for d in listed(url, f"<{B}@watchfloor>")[0]] == [B]
    st = open_store(url, create=False)
    try:
        dets, withdrawn = _read_alerts(st)
        every_row = st.deliveries()
        for given in ([A], [A2], [B, C], [A, C]):
            keys, _, unknown = _selected(given, dets, every_row)
            new = _listed(st, given, None, None, None, False)
            assert {k for _, k, _ in new.dets} == keys and not unknown
            assert {k: w for k, w in new.withdrawn.items() if k in keys} == {
                k: w for k, w in withdrawn.items() if k in keys
            }
    finally:
        st.close()
    res = runner.invoke(app, ["alerts", "list", "--store", url, "nosuchalert"], env=ENV)
    assert res.exit_code == 1 and "no alert or delivery with the id nosuchalert" in res.output

    for bad, said in ((["--limit", "0"], "give 1 or more"), (["--limit", "2", "--all"], "not both")):
        res = runner.invoke(app, ["alerts", "list", "--store", url, *bad], env=ENV)
        assert res.exit_code == 1 and said in res.output, res.output
    res = runner.invoke(app, ["alerts", "list", "--store", url, "--since", "yesterday"], env=ENV)
    assert res.exit_code == 1 and "--since 'yesterday': give a duration" in res.output


def test_alerts_list_pages_newest_first_sqlite(tmp_path: Path) -> None:
    check_paging(f"sqlite:///{tmp_path / 'wf.db'}")


@pytest.mark.integration
def test_alerts_list_pages_newest_first_postgres(pg_url: str) -> None:
    check_paging(pg_url)


def test_a_schema_8_store_gets_the_alert_id_index_and_uses_it(tmp_path: Path) -> None:
    """Migration 8 → 9 on a store with detections in it: the index is built, and the look-up of an alert id is a
    seek of it (SQLite's plan), not a walk of every detection."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    fill(url)
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_events_alert_id"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 8"))
    store = SqlStore(url)
    try:
        assert store.migrated is not None and (store.migrated.found, store.migrated.to) == (8, latest_version())
        assert current_version(store.engine) == latest_version()
        assert [se.event.id for se in store.detections_of([A, "nosuch"])] == [A, A2]
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM events WHERE type = 'detection' "
                "AND json_extract(payload, '$.id') = 'x'"
            ).all()
        assert "ix_events_alert_id" in str(plan)
    finally:
        store.close()
        engine.dispose()


@pytest.mark.integration
def test_a_schema_8_postgres_store_gets_the_alert_id_index(pg_url: str) -> None:
    fill(pg_url)
    engine = create_engine(normalize_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_events_alert_id"))
        conn.execute(text("UPDATE watchfloor_schema SET version = 8"))
    store = SqlStore(pg_url)
    try:
        assert store.migrated is not None and (store.migrated.found, store.migrated.to) == (8, latest_version())
        assert [se.event.id for se in store.detections_of([A])] == [A, A2]
        with store.engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: make the planner show it can use it
            plan = conn.exec_driver_sql(
                f"EXPLAIN SELECT * FROM events WHERE type = 'detection' AND {ALERT_ID_SQL['postgresql']} = 'x'"
            ).all()
        assert "ix_events_alert_id" in str(plan)
    finally:
        store.close()
        engine.dispose()


def test_since_lists_an_alert_committed_before_one_stamped_earlier(tmp_path: Path) -> None:
    """Raise times are not in commit order to the second: under Kafka, notify stamps each detection with its correlate
    record's time, and records of two partitions (two workers' clocks) land in the store in the order they arrive.
    An alert stamped after --since, committed just before one stamped before it, is listed: the read back from the
    head does not end at the first alert older than --since, but once past a margin (SINCE_SKEW) before it."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    since = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    st = open_store(url)
    try:
        st.append(
            [
                detection_event(_det(A)).model_copy(update={"received_at": since - timedelta(hours=2)}),
                detection_event(_det(B)).model_copy(update={"received_at": since + timedelta(seconds=5)}),
                detection_event(_det(C)).model_copy(update={"received_at": since - timedelta(seconds=3)}),
            ]
        )
    finally:
        st.close()
    got, _ = listed(url, "--since", "2026-12-02T10:00Z")
    assert [d["delivery_key"] for d in got] == [B]
