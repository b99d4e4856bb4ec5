"""`status` with the broker away still says what the store says (outside trial 55, L6: only the broker's error was
shown, so a desk could not see during an outage whether the alerts already stored went out)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

from .test_stuck_deliveries import stuck

runner = CliRunner()


def _nothing_listens() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_status_with_the_broker_away_shows_the_stores_deliveries_then_the_error(tmp_path: Path) -> None:
    cfg = stuck(tmp_path)  # 9 deliveries outstanding for `pager`
    broker = _nothing_listens()
    res = runner.invoke(app, ["status", "--config", str(cfg), "--broker", broker])
    assert res.exit_code == 1, res.output
    assert "deliveries in" in res.output and "pager" in res.output, res.output
    assert f"Kafka broker {broker} unreachable" in res.output
    assert res.output.index("pager") < res.output.index("unreachable")  # the store's part, then the broker's error

    res = runner.invoke(app, ["status", "--config", str(cfg), "--broker", broker, "--json"])
    assert res.exit_code == 1, res.output
    said = json.loads(res.stdout)
    assert said["deliveries"]["outstanding"] == {"pager": 9}
    assert said["broker_error"].startswith(f"Kafka broker {broker} unreachable")
    assert (said["sources_unread"], said["caught_up"], said["ok"]) == ({}, False, False)


def test_status_says_no_such_host_for_a_broker_name_that_does_not_resolve(tmp_path: Path) -> None:
    # (outside trial 55, L5: `--broker locahost:19392` was a 12 s "Unable to bootstrap"; .invalid never resolves)
    res = runner.invoke(
        app, ["status", "--broker", "wf-nosuch.invalid:19392", "--store", f"sqlite:///{tmp_path / 'wf.db'}"]
    )
    assert res.exit_code == 1, res.output
    assert "Kafka broker wf-nosuch.invalid:19392 unreachable: no such host: wf-nosuch.invalid (" in res.output
    assert "Unable to bootstrap" not in res.output


def test_an_address_that_resolves_is_left_to_the_client() -> None:
    from watchfloor.stream_processors.kafka.clients import unresolved_hosts

    assert unresolved_hosts("127.0.0.1:9092") is None
    assert unresolved_hosts(["wf-nosuch.invalid:9092", "localhost:9092"]) is None  # (the client tries the other)
    assert unresolved_hosts("[::1]:9092,localhost") is None
    said = unresolved_hosts("wf-nosuch.invalid:9092,wf-other.invalid")
    assert said is not None and said.startswith("no such host: wf-nosuch.invalid (") and "wf-other.invalid (" in said


def test_status_with_the_broker_away_still_says_the_workers_late_documents(tmp_path: Path) -> None:
    """They are the store's (kafka.late: the workers' row), as the deliveries are: said while the broker is away."""
    from watchfloor.stream_processors.kafka.late import PASSED_OVER, LateDocument, StoreLateLog
    from watchfloor.stream_processors.stores.sql import SqlStore

    url = f"sqlite:///{tmp_path / 'wf.db'}"
    StoreLateLog(lambda: SqlStore(url), "wf-late-worker").add([LateDocument(0, 4, "inbox/old.jsonl", PASSED_OVER)])
    b = ["status", "--broker", _nothing_listens(), "--prefix", "wf-late", "--store", url]
    res = runner.invoke(app, [*b, "--json"])
    assert res.exit_code == 1, res.output
    assert json.loads(res.stdout)["late_documents"] == {"inbox/old.jsonl": {"passed_over": 1, "dead_lettered": 0}}
    res = runner.invoke(app, b)
    said = " ".join(res.output.split())
    assert "source inbox/old.jsonl: 1 late document passed over (no detection reads them), 0 dead-lettered" in said
    assert "(`watchfloor dead-letters --stage event-time` once `watchfloor archive` stored them)" in said, said
