"""`watchfloor status` of an embedded deployment (no broker in the config): the store's backlog and delivery ledger,
with the exit codes the distributed status has (outside trial 12, M3: it asked for a Kafka broker, exit 1)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.ledger import settle_row
from watchfloor.cli import app
from watchfloor.config import load_config
from watchfloor.wiring import open_store

from .test_stuck_deliveries import SAMPLES, stuck

pytestmark = pytest.mark.functional
runner = CliRunner()


def test_embedded_status_counts_a_given_up_delivery_without_a_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = stuck(tmp_path)  # 9 alerts for a webhook nothing answers: outstanding
    res = runner.invoke(app, ["status", "--config", str(cfg)])
    assert res.exit_code == 3, res.output
    said = " ".join(res.output.split())
    assert "behind (9 deliveries outstanding)" in said and "Kafka" not in said
    st = open_store(load_config(cfg).store)
    try:
        rows = st.deliveries(statuses={"outstanding"})
        for r in rows[1:]:
            settle_row(st, r.alert_id, r.channel, "sent")
        settle_row(st, rows[0].alert_id, rows[0].channel, "expired", "given up: maybe delivered")
    finally:
        st.close()
    res = runner.invoke(app, ["status", "--config", str(cfg), "--wait", "2"])
    assert res.exit_code == 3, res.output
    said = " ".join(res.output.split())
    assert "caught up, but 1 delivery given up (expired, not delivered: re-send with `watchfloor alerts " in said
    assert "1 delivery given up (expired): watchfloor alerts list --undelivered" in said
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    got = json.loads(res.stdout)
    assert res.exit_code == 3 and got["caught_up"] is True and got["ok"] is False
    assert got["deliveries"]["expired"] == {"pager": 1} and got["deliveries"]["given_up"] == 1
    assert got["deliveries"]["expired_maybe_delivered"] == 0
    assert got["documents_unread"] == 0 and got["detections_not_taken_in"] == 0


def test_a_delivery_given_up_that_may_have_got_through_is_not_called_undelivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside trial 23, M3-5: a post that landed (a 500 after it was made), given up by retry.attempts, was told as
    "expired, not delivered: re-send with `watchfloor alerts redeliver --all-expired --send`", which skips it."""
    from watchfloor.stream_processors.ports import Settlement

    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = stuck(tmp_path)
    st = open_store(load_config(cfg).store)
    try:
        rows = st.deliveries(statuses={"outstanding"})
        for r in rows[2:]:
            settle_row(st, r.alert_id, r.channel, "sent")
        settle_row(st, rows[0].alert_id, rows[0].channel, "expired", "given up: HTTP 404")
        later = time.time() + 3600  # past its backoff
        [claimed] = st.claim_deliveries("crashed", later, 30)
        outcome = Settlement("expired", "given up: HTTP 500 after the post", attempts=2, unsure=True)
        assert st.settle_delivery(claimed.alert_id, claimed.channel, "crashed", outcome, later)
    finally:
        st.close()
    res = runner.invoke(app, ["status", "--config", str(cfg)])
    said = " ".join(res.output.split())
    assert (
        "caught up, but 2 deliveries given up (expired: 1 not delivered, 1 may have got through (not confirmed; "
        "`watchfloor alerts list --undelivered` names them): `watchfloor alerts redeliver --all-expired --send` "
        "re-sends the 1 not delivered; `watchfloor alerts redeliver --all-expired --include-unconfirmed --send` "
        "re-sends them all, looking for each that may have got through in its Slack channel or file first"
    ) in said, said
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    assert json.loads(res.stdout)["deliveries"]["expired_maybe_delivered"] == 1


def test_embedded_status_is_caught_up_or_says_what_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        "rules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {SAMPLES}}}]\n"
        "channels: [{type: file, name: desk, path: " + str(tmp_path / "alerts.jsonl") + "}]\n"
        "subscriptions: [{channel: desk}]\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["ingest", str(SAMPLES), "--store", f"sqlite:///{tmp_path / 'wf.db'}"]).exit_code == 0
    res = runner.invoke(app, ["status", "--config", str(cfg), "--wait", "1"])  # ingested, never run: behind
    assert res.exit_code == 1, res.output
    assert "documents not yet read by the rules" in " ".join(res.output.split())
    assert runner.invoke(app, ["run", "--once", "--config", str(cfg)]).exit_code == 0
    res = runner.invoke(app, ["status", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "none outstanding, none expired" in said and ": caught up" in said and "Kafka" not in said
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True


def test_a_missing_store_is_an_error_of_the_embedded_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    res = runner.invoke(app, ["status", "--store", f"sqlite:///{tmp_path / 'none.db'}"])
    assert res.exit_code == 1 and "cannot be read" in res.output, res.output


def test_embedded_status_says_the_sources_whose_polls_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside trial 14, L5: `status` said "caught up", exit 0, while 9 sources failed. A failing source is said with
    its error; one failing longer than health.source_failing (what makes /healthz degraded) makes the verdict not ok,
    exit 3."""
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    missing = tmp_path / "gone" / "feed.xml"

    def config(extra: str = "") -> Path:
        cfg = tmp_path / "wf.yaml"
        cfg.write_text(
            f"store: sqlite:///{tmp_path / 'wf.db'}\n"
            "rules: [builtin:dprk_russia]\n"
            f'sources: [{{kind: jsonl, path: {SAMPLES}}}, {{kind: rss, url: "{missing.as_uri()}"}}]\n' + extra,
            encoding="utf-8",
        )
        return cfg

    cfg = config()
    ran = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert ran.exit_code == 4, ran.output  # a source failed
    res = runner.invoke(app, ["status", "--config", str(cfg)])
    said = " ".join(res.output.split())
    assert res.exit_code == 0, res.output  # failing for seconds: retried, not yet a problem
    assert f"source {missing.as_uri()}: failing for" in said, said
    assert "not ok after 30m (health.source_failing)" in said, said
    got = json.loads(runner.invoke(app, ["status", "--config", str(cfg), "--json"]).stdout)
    assert got["ok"] is True and got["sources_failing"][missing.as_uri()]["past_threshold"] is False, got

    cfg = config("health: {source_failing: 0s}\n")
    res = runner.invoke(app, ["status", "--config", str(cfg)])
    said = " ".join(res.output.split())
    assert res.exit_code == 3, res.output
    assert "caught up; 1 source failing for longer than 0s" in said, said
    got = json.loads(runner.invoke(app, ["status", "--config", str(cfg), "--json"]).stdout)
    assert got["caught_up"] is True and got["ok"] is False, got
    assert got["sources_failing"][missing.as_uri()]["past_threshold"] is True, got
