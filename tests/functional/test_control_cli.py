"""`watchfloor subscriptions` and `watchfloor silences`: the Slack operations from the command line, recorded in
the same log and applied by the pipeline's next cycle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import Delivery, EventType
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("", encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""
store: sqlite:///{tmp_path / "wf.db"}
sources: [{{kind: jsonl, path: {inbox}}}]
channels:
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
  - {{type: console, name: console}}
subscriptions:
  - {{channel: console, min_severity: critical}}
""",
        encoding="utf-8",
    )
    open_store(f"sqlite:///{tmp_path / 'wf.db'}").close()  # the store a `run` made: list commands never make one
    return cfg


def wf(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_subscriptions_list_add_remove(config: Path) -> None:
    c = ["--config", str(config)]
    rows = [json.loads(line) for line in wf("subscriptions", "list", *c, "--json").splitlines()]
    assert [(r["channel"], r["managed_by"], r["min_severity"]) for r in rows] == [("console", "config", "critical")]
    out = wf("subscriptions", "add", "archive", "--rule", "treaty-ratified", "--min", "high", "--author", "kim", *c)
    sub_id = out.split(": ")[1].strip()
    assert out.startswith("subscribed: sub-")
    assert wf("subscriptions", "add", "archive", "-r", "treaty-ratified", "--min", "high", *c).startswith("already")
    wf("subscriptions", "add", "slack:C0SOMEWHERE", "--tag", "troops", "--digest", "daily 07:30 Asia/Seoul", *c)
    assert wf("subscriptions", "list", *c).rstrip().endswith("3 subscriptions")
    rows = {r["id"]: r for r in map(json.loads, wf("subscriptions", "list", *c, "--json").splitlines())}
    assert rows[sub_id]["by"] == {"via": "cli", "user": "kim", "name": "kim"}
    assert {r["digest"] for r in rows.values()} == {None, "daily 07:30 Asia/Seoul"}
    assert wf("subscriptions", "remove", sub_id, *c).strip() == f"removed {sub_id}"
    rows = [json.loads(line) for line in wf("subscriptions", "list", *c, "--json").splitlines()]
    assert sorted(r["channel"] for r in rows) == ["console", "slack:C0SOMEWHERE"]

    config_sub = next(r["id"] for r in rows if r["managed_by"] == "config")
    res = runner.invoke(app, ["subscriptions", "remove", config_sub, *c])
    assert res.exit_code == 1 and "managed by the config file" in res.output
    for bad, why in [
        (["nowhere"], "unknown channel 'nowhere'"),
        (["archive", "-r", "no-such-rule"], "unknown rule no-such-rule"),
        (["archive", "--min", "urgent"], "--min must be one of"),
        (["archive", "--digest", "weekly"], "bad digest: 'weekly': only daily digests: write 'daily HH:MM"),
        (["archive", "--digest", "daily 8:60"], "bad digest 'daily 8:60': '8:60': a time HH:MM, from 00:00 to 23:59"),
        (["archive", "--digest", "Daily 08:00"], "'Daily': write it 'daily', in lower case"),
    ]:
        res = runner.invoke(app, ["subscriptions", "add", *bad, *c])
        assert res.exit_code == 1 and why in res.output, res.output


def test_subscriptions_add_says_a_wider_subscription_already_covers_it_and_adds_nothing(config: Path) -> None:
    """Outside trial 85, F10: `subscriptions add` added a subscription the channel's wider one already covered (the
    Slack command refuses it): clutter in `subscriptions list`, nothing more sent. A narrower one is not added now."""
    c = ["--config", str(config)]
    wider = wf("subscriptions", "add", "archive", *c).split(": ")[1].strip()
    out = " ".join(wf("subscriptions", "add", "archive", "--rule", "treaty-ratified", "--min", "high", *c).split())
    assert out.startswith(f"already covered: {wider} sends archive every alert this asks for; nothing was added"), out
    assert wf("subscriptions", "list", *c).rstrip().endswith("2 subscriptions")  # the config's and the wider one
    wf("subscriptions", "add", "archive", "--digest", "daily 07:30", *c)  # a digest is another thing: added
    assert wf("subscriptions", "list", *c).rstrip().endswith("3 subscriptions")
    wf("subscriptions", "remove", wider, *c)
    assert wf("subscriptions", "add", "archive", "-r", "treaty-ratified", *c).startswith("subscribed: sub-")


def test_silences_list_add_remove_and_the_pipeline_obeys(config: Path, tmp_path: Path) -> None:
    c = ["--config", str(config)]
    wf("subscriptions", "add", "archive", *c)
    sil = wf("silences", "add", "treaty-ratified", "-g", "RUS", "-d", "2h", "-m", "Duma noise", "-a", "kim", *c).strip()
    assert sil.startswith("sil-")
    later = wf("silences", "add", "*", "--start", "2099-01-01T00:00:00+00:00", "-d", "1d", *c).strip()
    rows = {r["id"]: r for r in map(json.loads, wf("silences", "list", "--json", *c).splitlines())}
    assert rows[sil]["state"] == "active" and rows[sil]["group"] == {"*": "RUS"} and rows[sil]["reason"] == "Duma noise"
    assert rows[later]["state"] == "pending"
    assert wf("silences", "list", *c).rstrip().endswith("2 silences")

    past = wf("silences", "add", "treaty-signed", "--start", "2020-01-01T00:00:00+00:00", "-d", "1h", *c).strip()

    # the pipeline, started after: the silence holds back both Russian ratifications on every channel
    (tmp_path / "inbox.jsonl").write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    wf("run", "--once", *c)
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    deliveries = [Delivery.model_validate(se.event.payload) for se in st.read(0, types={EventType.DELIVERY.value})]
    # ...and records that the silence of 2020 lapsed (once, at its end, by watchfloor itself)
    (lapsed,) = [se.event.payload for se in st.read(0, types={"silence.expired"})]
    st.close()
    assert (lapsed["id"], lapsed["at"], lapsed["by"]["via"]) == (past, "2020-01-01T01:00:00Z", "system")
    suppressed = [d for d in deliveries if d.status == "suppressed"]
    assert len(suppressed) == 2 and {d.detail for d in suppressed} == {f"silenced by {sil}"}
    assert sum(1 for d in deliveries if d.status == "sent") == 7
    listed = [json.loads(line) for line in wf("alerts", "list", "--json", *c).splitlines()]
    assert sum(1 for r in listed if r["deliveries"] == {"archive": "suppressed"}) == 2
    assert sum(1 for r in listed if r["silenced_by"] == {"archive": sil}) == 2

    assert wf("silences", "expire", later, *c).strip() == f"expired {later}"
    assert wf("silences", "remove", sil, *c).strip() == f"expired {sil}"
    assert wf("silences", "list", "--json", *c).strip() == ""
    ended = {r["id"]: r for r in map(json.loads, wf("silences", "list", "--json", "--expired", *c).splitlines())}
    assert {r["state"] for r in ended.values()} == {"expired"} and set(ended) == {sil, later, past}
    assert ended[past]["expired"]["reason"] == "reached its end" and ended[past]["expired"]["by"]["via"] == "system"
    assert (
        ended[sil]["expired"]["by"]["via"] == "cli" and ended[sil]["expired"]["reason"] == "watchfloor silences remove"
    )
    wide = runner.invoke(app, ["silences", "list", "--expired", *c], env={"COLUMNS": "300"})
    table = wide.output
    assert "(lapsed)" in table and "(ended early by" in table
    res = runner.invoke(app, ["silences", "remove", sil, *c])
    assert res.exit_code == 1 and "already ended" in res.output
    # A silence drops, it does not delay (README, "silences"): its alerts are not sent when it ends, not even on
    # purpose, by `alerts redeliver` (which says why) or its --route (for alerts no subscription routed).
    held = next(r["id"] for r in listed if r["silenced_by"] == {"archive": sil})
    for extra in ([], ["--route"]):
        again = runner.invoke(app, ["alerts", "redeliver", held, "--channel", "archive", "--send", *extra, *c])
        assert f"1 suppressed, never sent (silenced by {sil})" in again.output, again.output
    assert held not in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8")
    (row,) = [json.loads(line) for line in wf("alerts", "list", held, "--json", *c).splitlines()]
    assert row["deliveries"] == {"archive": "suppressed"}
    res = runner.invoke(app, ["silences", "add", "treaty-signed", "-d", "forever", *c])
    assert res.exit_code == 1 and "bad duration" in res.output


def test_silences_add_refuses_a_channel_that_routes_nothing(config: Path) -> None:
    """`--channel` names a routing channel: the config's, or a slack:ID that a subscription names. Anything else
    (a typo) is refused, naming the known ones, and records no silence (outside trial 14, M2)."""
    c = ["--config", str(config)]
    res = runner.invoke(app, ["silences", "add", "treaty-signed", "--channel", "archvie", *c])
    assert res.exit_code == 1, res.output
    assert "unknown channel 'archvie' (did you mean 'archive'?): use one of archive, console" in res.output
    res = runner.invoke(app, ["silences", "add", "treaty-signed", "--channel", "slack:C0NOBODY", *c])
    assert res.exit_code == 1 and "unknown channel 'slack:C0NOBODY'" in res.output, res.output
    assert "or slack:CHANNEL_ID" not in res.output  # only a subscribed one will do here
    assert wf("silences", "list", "--json", *c).strip() == ""

    wf("subscriptions", "add", "slack:C0DESK", *c)  # subscribed from the CLI (or Slack): now a routing channel
    assert wf("silences", "add", "treaty-signed", "--channel", "slack:C0DESK", *c).startswith("sil-")
    assert wf("silences", "add", "treaty-signed", "--channel", "archive", *c).startswith("sil-")
    rows = [json.loads(line) for line in wf("silences", "list", "--json", *c).splitlines()]
    assert sorted(r["channel"] for r in rows) == ["archive", "slack:C0DESK"]
    # subscriptions add still takes any slack:ID (that is how a Slack channel is subscribed), with a near match said
    res = runner.invoke(app, ["subscriptions", "add", "consle", *c])
    assert res.exit_code == 1 and "unknown channel 'consle' (did you mean 'console'?)" in res.output, res.output


def test_alerts_ack_records_what_the_slack_button_records_and_alerts_list_shows_it(
    config: Path, tmp_path: Path
) -> None:
    """An email, webhook or console desk acknowledges from the command line: the same `alert.acknowledged` event
    the Slack button appends (ControlLog.acknowledge), by any id `alerts list` takes; `alerts list` (table and
    --json) says who acknowledged and when, whichever way it was done (outside trial 14, M3)."""
    from watchfloor.alerts.control import ControlLog
    from watchfloor.schemas.control import Actor

    c = ["--config", str(config)]
    wf("subscriptions", "add", "archive", *c)
    (tmp_path / "inbox.jsonl").write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    wf("run", "--once", *c)
    listed = [json.loads(line) for line in wf("alerts", "list", "--json", *c).splitlines()]
    assert len(listed) >= 3 and all(r["acknowledged"] == [] for r in listed)
    first, second, third = listed[0], listed[1], listed[2]
    wide = runner.invoke(app, ["alerts", "list", *c], env={"COLUMNS": "300"}).output
    assert "acknowledged" not in wide  # no column while nothing is acknowledged

    said = wf("alerts", "ack", first["id"], "--by", "kim", "--note", "calling the Seoul desk", *c)
    assert said.startswith(f"acknowledged {first['id']} by kim (via cli) at ") and "calling the Seoul desk" in said
    assert wf("alerts", "ack", first["id"], "--by", "lee", *c).startswith(f"already acknowledged: {first['id']} by kim")
    # by the Message-ID a mail reader has, for a channel the alert went to
    said = wf("alerts", "ack", f"<{second['delivery_key']}@watchfloor>", "--channel", "archive", *c)
    assert said.startswith(f"acknowledged {second['id']} by ")
    # the Slack button's way (alerts.slackapp.clicks.acknowledge calls this)
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    ControlLog(st).acknowledge(
        third["id"], by=Actor(via="slack", user="U1", name="alice"), channel="archive", slack_channel="C1"
    )
    events = [se.event.payload for se in st.read(0, types={"alert.acknowledged"})]
    st.close()
    assert [(e["alert_id"], e["by"]["via"]) for e in events] == [
        (first["id"], "cli"),
        (second["id"], "cli"),
        (third["id"], "slack"),
    ]
    assert events[0]["note"] == "calling the Seoul desk" and "note" not in events[1]  # older readers read it

    rows = {r["id"]: r for r in map(json.loads, wf("alerts", "list", "--json", *c).splitlines())}
    (kim,) = rows[first["id"]]["acknowledged"]
    assert (kim["by"], kim["via"], kim["note"]) == ("kim", "cli", "calling the Seoul desk")
    assert kim["at"].endswith("+00:00") and "channel" not in kim
    assert rows[second["id"]]["acknowledged"][0]["channel"] == "archive"
    assert [(a["by"], a["channel"]) for a in rows[third["id"]]["acknowledged"]] == [("alice", "archive")]
    assert rows[third["id"]]["acknowledged"][0]["user"] == "U1" and "user" not in kim  # (trial 29, F7)
    wide = runner.invoke(app, ["alerts", "list", *c], env={"COLUMNS": "400"}).output
    assert "acknowledged" in wide and "kim (via cli) at " in wide and "alice (via slack) in archive at " in wide

    for bad, why in [
        (["no-such-alert"], "no alert with the id no-such-alert"),
        ([first["id"], "--channel", "archvie"], "unknown channel 'archvie' (did you mean 'archive'?)"),
        ([first["id"], "--note", "x" * 501], "an acknowledgement's note is at most 500 characters"),
    ]:
        res = runner.invoke(app, ["alerts", "ack", *bad, *c])
        assert res.exit_code == 1 and why in res.output, res.output


def test_an_ack_in_a_channel_says_the_acknowledgement_another_channel_showed_already(
    config: Path, tmp_path: Path
) -> None:
    """Outside trial 81, F8: Slack shows a click in one channel on every message of the alert, but `alerts ack
    --channel` of another channel answered a plain "acknowledged", as if no one had taken it. It says who had."""
    from watchfloor.alerts.control import ControlLog
    from watchfloor.schemas.control import Actor

    c = ["--config", str(config)]
    wf("subscriptions", "add", "archive", *c)
    (tmp_path / "inbox.jsonl").write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    wf("run", "--once", *c)
    first = json.loads(wf("alerts", "list", "--json", *c).splitlines()[0])["id"]
    st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    ControlLog(st).acknowledge(first, by=Actor(via="slack", user="U1", name="bob"), channel="archive")
    st.close()
    said = " ".join(wf("alerts", "ack", first, "--channel", "console", "--by", "kim", *c).split())
    assert said.startswith(f"acknowledged {first} by kim (via cli) in console at "), said
    assert "(its messages already showed bob (via slack) in archive at " in said and "recorded for console too)" in said
    again = " ".join(wf("alerts", "ack", first, "--channel", "archive", "--by", "kim", *c).split())
    assert again.startswith(f"already acknowledged: {first} by bob"), again


def test_alerts_ack_of_an_alert_never_posted_says_so(config: Path, tmp_path: Path) -> None:
    """Outside trial 30, F2: an alert no channel was sent (here: none subscribed at its severity; there, a revision
    went in its place) was acknowledged without a word, while the desk's message was of another alert."""
    c = ["--config", str(config)]
    (tmp_path / "inbox.jsonl").write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    wf("run", "--once", *c)
    first = json.loads(wf("alerts", "list", "--json", *c).splitlines()[0])
    said = wf("alerts", "ack", first["id"], "--by", "kim", *c)
    assert said.startswith(f"acknowledged {first['id']} by kim") and "it was never posted to a channel" in said, said
