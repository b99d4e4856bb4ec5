"""`alerts list` and `alerts redeliver` find the deliveries of alerts a late report raised (revision > 0), which the
ledger keys by the detection's event id, not its alert id; `redeliver` refuses ids that name nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples"
runner = CliRunner()


def config(tmp_path: Path, retry: str = "") -> Path:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {tmp_path / "inbox.jsonl"}}}
  - {{kind: rss, url: {SAMPLES / "wire_feed.xml"}}}
channels:
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
subscriptions:
  - {{channel: archive}}
{retry}""",
        encoding="utf-8",
    )
    return path


def wf(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"WATCHFLOOR_STORE": "", "COLUMNS": "250"})


def listed(cfg: Path, *extra: str) -> list[dict[str, Any]]:
    res = wf("alerts", "list", "--config", str(cfg), "--json", *extra)
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.output.splitlines()]


@pytest.fixture
def revised(tmp_path: Path) -> Path:
    """Two runs: the second brings an earlier report (the samples' last item) that revises the `troop-engagement`
    alert already sent and raises its follow-up, both at revision 1; their deliveries are given up at once."""
    lines = (SAMPLES / "dprk_russia_2024.jsonl").read_text(encoding="utf-8").splitlines()
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    res = wf("run", "--once", "--config", str(config(tmp_path)))
    assert res.exit_code == 0, res.output
    inbox.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = config(tmp_path, retry="retry: {max_age: 0s}\n")  # a day-long outage, in one look
    res = wf("run", "--once", "--config", str(cfg))
    assert res.exit_code == 3, res.output  # given up in this run
    return cfg


def event_ids(tmp_path: Path) -> dict[str, str]:
    """Detection event id (the delivery key) -> alert id, from the store."""
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}", create=False)
    try:
        return {se.event.id: se.event.payload["id"] for se in st.read(types={EventType.DETECTION.value})}
    finally:
        st.close()


def test_alerts_list_shows_the_deliveries_of_revisions(revised: Path, tmp_path: Path) -> None:
    rows = listed(revised)
    late = [r for r in rows if r.get("revision")]
    assert len(late) == 2 and {r["rule"] for r in late} == {"troop-engagement"}
    keys = event_ids(tmp_path)
    for r in late:
        assert r["deliveries"] == {"archive": "expired"}, r
        assert keys[r["delivery_key"]] == r["id"] and r["delivery_key"] != r["id"]
    assert {r["delivery_details"]["archive"]["kind"] for r in late} == {"revision", "followup"}
    # The alert the revision replaced keeps its own (sent) row and says what replaced it.
    (revision,) = [r for r in late if r["revises"]]
    (replaced,) = [r for r in rows if r["id"] == revision["revises"]]
    assert replaced["deliveries"] == {"archive": "sent"}
    assert replaced["standing"] == f"revised by {revision['id']}"
    assert sum(1 for r in rows if r["deliveries"]) == len(rows)  # every alert was routed to the archive

    undelivered = listed(revised, "--undelivered")
    assert sorted(r["id"] for r in undelivered) == sorted(r["id"] for r in late)

    table = wf("alerts", "list", "--config", str(revised)).output
    assert "archive: expired (revision)" in table and "archive: expired (followup)" in table
    assert table.count("archive: ") == len(rows)  # no alert shown without its delivery ("—")
    # (which of them stand, as a run and a backtest count alerts: the one the revision replaced does not; trial 34, M1)
    counted = f"{len(rows)} alerts, {len(rows) - 1} standing (1 revised by a later one) · deliveries: 2 expired, "
    assert f"{counted}{len(rows) - 2} sent" in " ".join(table.split())


def test_redeliver_maps_alert_ids_to_their_delivery_keys(revised: Path, tmp_path: Path) -> None:
    (revision,) = [r for r in listed(revised) if r.get("revision") and r.get("revises")]
    cfg = config(tmp_path)  # back to the default day
    res = wf("alerts", "redeliver", revision["id"], "--send", "--config", str(cfg))
    assert res.exit_code == 0 and "1 delivery will be sent again" in res.output, res.output
    sent = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sent[-1]["id"] == revision["id"] and sent[-1]["kind"] == "revision"
    # A delivery key names its own rows too (the follow-up's, here).
    (followup,) = [r for r in listed(cfg, "--undelivered")]
    res = wf("alerts", "redeliver", followup["delivery_key"], "--config", str(cfg))
    assert res.exit_code == 0 and "1 delivery will be sent again" in res.output, res.output


def test_redeliver_refuses_ids_that_name_no_alert(revised: Path) -> None:
    (followup,) = [r for r in listed(revised) if r.get("revision") and not r.get("revises")]
    res = wf("alerts", "redeliver", "no-such-alert", followup["id"], "f00ba4", "--config", str(revised))
    assert res.exit_code == 1, res.output
    assert "no-such-alert, f00ba4" in res.output and "deliveries will be sent again" not in res.output
    assert listed(revised, "--undelivered")  # nothing was changed: the known id's delivery is still given up
    assert followup["deliveries"] == {"archive": "expired"}


def test_alerts_list_tells_an_attempt_in_flight_and_one_interrupted(revised: Path, tmp_path: Path) -> None:
    """Operator audit: a delivery whose process was killed mid-send read "0 attempt(s)". The attempt not settled
    yet is told: being sent now (a live process holds its lease), or interrupted (its process is gone)."""
    import time

    from watchfloor.alerts.dispatcher import dispatcher_id

    assert wf("alerts", "redeliver", "--all-expired", "--config", str(revised)).exit_code == 0
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}", create=False)
    try:
        now = time.time()
        live, gone = dispatcher_id(), dispatcher_id().split(":")
        gone[1] = "999999999"  # a pid of this host no process has: killed mid-send
        (sending,) = st.claim_deliveries(live, now, 600, limit=1)
        # (by key: a claim does not pass over a row of the channel another dispatcher is sending, trial 46, MED-2)
        free = next(r for r in st.deliveries(statuses={"outstanding"}) if r.lease_owner is None)
        killed = st.claim_delivery(free.alert_id, free.channel, ":".join(gone), now, 600)
        assert killed is not None
    finally:
        st.close()
    details = {
        r["delivery_key"]: r["delivery_details"]["archive"]
        for r in listed(revised)
        if r["delivery_key"] in {sending.alert_id, killed.alert_id}
    }
    assert details[sending.alert_id]["attempt_in_flight"] == "sending"
    assert details[killed.alert_id]["attempt_in_flight"] == "interrupted"
    whole = wf("alerts", "list", "--config", str(revised)).output
    # The deliveries column's lines, in order: a cell's words read on whatever its width (a standing column beside it
    # since outside trial 81, F1)
    column = [line.split("│")[6] for line in whole.splitlines() if line.startswith("│")]
    table = " ".join(" ".join(column).split())
    assert "0 attempts and one being sent now" in table, table
    assert "0 attempts and one interrupted (its process" in table, table
    assert "may have got through" in table and "due now" in table
    assert "may have got through: looked for in the file" in table, table  # (the cell wraps after it)
    assert "email" not in whole and "Message-ID" not in whole, whole  # a file channel's row (outside trial 15, L2)


@pytest.mark.parametrize(
    ("channel", "said"),
    [
        ("{type: slack, name: archive, channel: '#desk'}", "may have got through: looked for in the channel before"),
        (
            "{type: email, name: archive, to: [desk@example.org], from: wf@example.org, host: mail.example.org}",
            "may have got through: sent again with the same Message-ID (a mailbox cannot be looked in)",
        ),
    ],
)
def test_an_interrupted_delivery_is_told_what_its_own_channel_type_does_next(
    revised: Path, tmp_path: Path, channel: str, said: str
) -> None:
    """Outside trial 15, L2: a Slack row said "(email cannot be looked in: sent again with the same Message-ID)". What
    comes after an attempt that may have got through is told by the row's own channel type, from the config."""
    assert wf("alerts", "redeliver", "--all-expired", "--config", str(revised)).exit_code == 0
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}", create=False)
    try:
        st.claim_deliveries(":".join(["elsewhere", "999999999", "x", "y"]), 0.0, 1.0, limit=1)  # its lease ran out
    finally:
        st.close()
    text = revised.read_text(encoding="utf-8")
    start = text.index("  - {type: file, name: archive")
    end = text.index("\n", start)
    revised.write_text(text[:start] + f"  - {channel}" + text[end:], encoding="utf-8")
    table = " ".join(wf("alerts", "list", "--undelivered", "--config", str(revised)).output.replace("│", " ").split())
    assert said in table, table
    if "slack" in channel:
        assert "email" not in table and "Message-ID" not in table, table
