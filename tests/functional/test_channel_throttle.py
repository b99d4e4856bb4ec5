"""A channel's throttle (`throttle: 2 per 1h`) as a timeline, on a real SQLite store file, through the real
slack-sdk to the local Slack-compatible server and a real JSONL file channel: the first alerts of a window are
posted, the rest held and listed in one summary when the window ends; follow-ups of posted alerts are never held;
a held alert withdrawn before its summary is left out; two dispatchers (two processes) on one store decide alike
and send nothing twice; `alerts list` says where each held alert is told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, Clock, lines, slack
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import Digest
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.throttle import HELD, summary_id
from watchfloor.cli import app
from watchfloor.cli.alerts import delivery_summary
from watchfloor.schemas.config import AppConfig, Subscription, ThrottleSpec
from watchfloor.schemas.events import Detection, Event, Evidence, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

T0 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # a window of `2 per 1h` is 07:00-08:00 UTC
SPEC = ThrottleSpec(max=2, per=timedelta(hours=1))
SUBS = [Subscription(channel="desk"), Subscription(channel="archive")]


def raised(n: int, minute: int, *, severity: str = "high", route: str | None = None) -> Event:
    """The detection event of alert `n`, raised at T0 + `minute` (the log's receive time), one group per alert
    unless `route` puts it in another's story."""
    det = Detection(
        id=f"det{n:04d}",
        rule="shells-shipped",
        title=f"Rail cars said to carry shells westward (#{n})",
        severity=severity,  # type: ignore[arg-type]
        tags=("dprk",),
        group={"route": route or f"R{n}"},
        fired_at=T0 + timedelta(minutes=minute),
    )
    return detection_event(det).model_copy(update={"received_at": T0 + timedelta(minutes=minute)})


def withdrawn(n: int, minute: int) -> Event:
    r = Retraction(
        alert_id=f"det{n:04d}",
        rule="shells-shipped",
        group={"route": f"R{n}"},
        reason="the report was corrected",
        revision=1,
        at=T0 + timedelta(minutes=minute),
    )
    return retraction_event(r)


def dispatcher(store: Store, server: FakeSlack, archive: Path, clock: Clock) -> AlertDispatcher:
    notifiers = {"desk": slack(server, name="desk"), "archive": FileNotifier("archive", archive)}
    throttles = {"desk": SPEC, "archive": SPEC}
    return AlertDispatcher(store, notifiers, SUBS, RETRY, now=clock, throttles=throttles)


def top_level(server: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in server.messages if not m.get("thread_ts") or m.get("thread_ts") == m["ts"]]


def run_timeline(tmp_path: Path, server: FakeSlack, processes: int) -> tuple[Store, Path, Clock, list[AlertDispatcher]]:
    """The timeline; each cycle is run by the next of `processes` dispatchers in turn (and, with two, the other
    runs one right after it: the same detections handled by both)."""
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    archive = tmp_path / "archive.jsonl"
    clock = Clock(T0)
    ds = [dispatcher(store, server, archive, clock) for _ in range(processes)]
    turn = [0]

    def cycle() -> None:
        first = ds[turn[0] % len(ds)]
        turn[0] += 1
        first.cycle()
        for other in ds:
            if other is not first:
                other.cycle()

    # t0 = 07:05: three alerts raised at 07:01-07:03 -> two posted in each channel, the third held
    store.append([raised(1, 1), raised(2, 2), raised(3, 3)])
    clock.at = T0 + timedelta(minutes=5)
    cycle()
    assert len(top_level(server)) == 2 and len(lines(archive)) == 2
    assert store.delivery_status("det0003", "desk") == HELD and store.delivery_status("det0003", "archive") == HELD

    # t1 = 07:20: a follow-up of alert 1 (its story: a thread reply, never held), and three new alerts: held
    store.append([raised(11, 20, route="R1"), raised(4, 21, severity="low"), raised(5, 22, severity="critical")])
    store.append([raised(6, 23, severity="medium")])
    clock.at = T0 + timedelta(minutes=25)
    cycle()
    assert len(top_level(server)) == 2  # still two top-level posts this hour
    assert [store.delivery_status(f"det{n:04d}", "desk") for n in (4, 5, 6)] == [HELD] * 3
    assert store.delivery_status("det0011", "desk") == "sent"  # the reply went
    (reply,) = server.thread(top_level(server)[0]["ts"])
    assert "#11" in json.dumps(reply)

    # t2 = 07:40: alert 6 is withdrawn while held: nothing to withdraw in the channel, and it is left out
    store.append([withdrawn(6, 40)])
    clock.at = T0 + timedelta(minutes=40)
    cycle()
    assert len(top_level(server)) == 2 and len(server.messages) == 3

    # 07:59: the window is open, no summary yet; the live loops wake when it ends
    clock.at = T0 + timedelta(minutes=59)
    cycle()
    assert len(server.messages) == 3
    assert ds[0].next_due() == pytest.approx(60)

    # t3 = 08:00: the window ended -> one summary per channel, by severity, alert 6 left out
    clock.at = T0 + timedelta(hours=1)
    cycle()
    return store, archive, clock, ds


@pytest.mark.parametrize("processes", [1, 2])
def test_a_throttled_channel_posts_the_first_and_summarises_the_rest(
    tmp_path: Path, slack_server: FakeSlack, processes: int
) -> None:
    slack_server.channels = {"#dprk-russia"}
    store, archive, clock, ds = run_timeline(tmp_path, slack_server, processes)
    key = summary_id("desk", 0)
    (summary,) = slack_server.messages_for(key)
    assert summary["text"].startswith("3 more alerts held by this channel's throttle (2 per 1h)"), summary["text"]
    shown = json.dumps(summary["blocks"])
    assert shown.index("#5") < shown.index("#3") < shown.index("#4")  # critical, high, low
    assert "#6" not in shown and "1 withdrawn" in shown
    assert len(top_level(slack_server)) == 3  # two alerts and the summary: nothing else, nothing twice
    assert all(len(slack_server.messages_for(f"det{n:04d}")) == 1 for n in (1, 2, 11))
    assert all(slack_server.messages_for(f"det{n:04d}") == [] for n in (3, 4, 5, 6))

    got = lines(archive)  # the file channel: the same decisions
    assert [g["kind"] for g in got] == ["alert", "alert", "followup", "digest"]
    digest = got[-1]["digest"]
    assert digest["throttle"] == "2 per 1h" and digest["withdrawn"] == 1
    assert [a["id"] for a in digest["alerts"]] == ["det0005", "det0003", "det0004"]
    assert got[-1]["key"] == summary_id("archive", 0)
    assert (store.delivery_status(key, "desk"), store.delivery_status(summary_id("archive", 0), "archive")) == (
        "sent",
        "sent",
    )

    # the next window: a new alert is posted, and no second summary of the same alerts
    store.append([raised(7, 65)])
    clock.at = T0 + timedelta(hours=1, minutes=6)
    for d in ds:
        d.cycle()
    assert len(slack_server.messages_for("det0007")) == 1 and len(slack_server.messages_for(key)) == 1
    assert len(top_level(slack_server)) == 4

    # `alerts list`: held, and in which summary; nothing undelivered once the summaries are sent
    store.close()
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(f"store: {url}\nchannels:\n  - {{type: console, name: desk, throttle: 2 per 1h}}\n")
    runner = CliRunner()
    res = runner.invoke(app, ["alerts", "list", "--json", "--config", str(cfg)], env={"WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0, res.output
    rows = {r["delivery_key"]: r for r in map(json.loads, res.output.splitlines()) if "delivery_key" in r}
    assert rows["det0003"]["deliveries"] == {"desk": HELD, "archive": HELD}
    assert rows["det0003"]["delivery_details"]["desk"]["detail"] == f"in throttle summary {key} (sent)"
    withdrawal = rows["det0006"]["withdrawal"]["desk"]
    assert withdrawal["status"] == "suppressed" and "while held by the channel's throttle" in withdrawal["detail"]
    assert rows["det0001"]["deliveries"] == {"desk": "sent", "archive": "sent"}
    res = runner.invoke(app, ["alerts", "list", "--undelivered", "--config", str(cfg)], env={"WATCHFLOOR_STORE": ""})
    assert res.exit_code == 0 and "0 alerts" in res.output, res.output


def test_held_alerts_are_undelivered_until_their_summary_is_sent(tmp_path: Path) -> None:
    """Before the window ends a held alert is waiting (`--undelivered` lists it); `redeliver` says why it is not
    sent alone."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    store = open_store(url)
    clock = Clock(T0 + timedelta(minutes=10))
    notifiers = {"archive": FileNotifier("archive", tmp_path / "a.jsonl")}
    d = AlertDispatcher(
        store, notifiers, [Subscription(channel="archive")], RETRY, now=clock, throttles={"archive": SPEC}
    )
    store.append([raised(1, 1), raised(2, 2), raised(3, 3)])
    d.cycle()
    store.close()
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(f"store: {url}\nchannels:\n  - {{type: file, name: archive, path: a.jsonl, throttle: 2 per 1h}}\n")
    runner = CliRunner()
    env = {"WATCHFLOOR_STORE": "", "COLUMNS": "250"}
    res = runner.invoke(app, ["alerts", "list", "--undelivered", "--json", "--config", str(cfg)], env=env)
    assert [json.loads(x)["delivery_key"] for x in res.output.splitlines()] == ["det0003"], res.output
    assert "held by this channel's throttle (2 per 1h)" in res.output
    res = runner.invoke(app, ["alerts", "redeliver", "det0003", "--config", str(cfg)], env=env)
    assert res.exit_code == 0 and "1 held by the channel's throttle" in res.output, res.output


def test_the_config_takes_a_throttle_on_any_channel_and_says_where_a_bad_one_is(tmp_path: Path) -> None:
    from watchfloor.config import ConfigError, load_config

    good = tmp_path / "good.yaml"
    good.write_text(
        "channels:\n  - {type: console, name: desk, throttle: 10 per 1h}\n  - {type: file, name: log, path: x.jsonl}\n"
    )
    cfg = load_config(good)
    assert isinstance(cfg, AppConfig) and cfg.channels[0].throttle == ThrottleSpec(max=10, per=timedelta(hours=1))
    assert cfg.channels[1].throttle is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels:\n  - type: console\n    name: desk\n    throttle: 10 an hour\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert f"{bad}:4:" in str(e.value) and "write 'N per DURATION'" in str(e.value), str(e.value)
    typo = tmp_path / "typo.yaml"
    typo.write_text("channels:\n  - type: console\n    name: desk\n    throtle: 10 per 1h\n")
    with pytest.raises(ConfigError) as e:
        load_config(typo)
    assert f"{typo}:4:" in str(e.value) and "throtle" in str(e.value), str(e.value)


def decisions(store: Store) -> dict[tuple[str, str], str]:
    return {(r.alert_id, r.channel): r.status for r in store.deliveries() if r.kind == "alert"}


@pytest.mark.parametrize("page", [5000, 2])
def test_two_processes_and_any_clock_decide_the_same_alerts_held(tmp_path: Path, page: int) -> None:
    """The same detections handled by two dispatchers: B (its clock two hours ahead) takes in the first four and
    loses the race to commit them (as a pass does when another commits first), then A takes in all; and B alone.
    The held alerts are the same every way: the decision is the log's, not the clock's or the order of processes."""
    events = [raised(1, 1), raised(2, 2), raised(3, 50), raised(4, 59), raised(5, 61), raised(6, 62), raised(7, 63)]
    events.insert(3, raised(8, 30, route="R1"))  # a follow-up: not counted
    # (the count reads the channel's rows a page at a time, and then only the new ones: here also 2 at a time,
    # each dispatcher's `count_page`)

    def fresh(name: str, minutes: int) -> tuple[Store, AlertDispatcher]:
        store = open_store(f"sqlite:///{tmp_path / name}")
        store.append(events)
        notifiers = {"archive": FileNotifier("archive", tmp_path / f"{name}.jsonl")}
        clock = Clock(T0 + timedelta(minutes=minutes))
        subs = [Subscription(channel="archive")]
        d = AlertDispatcher(store, notifiers, subs, RETRY, now=clock, throttles={"archive": SPEC}, count_page=page)
        return store, d

    one, a = fresh("one.db", 70)
    a.intake()
    expected = decisions(one)
    assert [k for (k, _), s in sorted(expected.items()) if s == HELD] == ["det0003", "det0004", "det0007"]

    two, a2 = fresh("two.db", 70)
    b = AlertDispatcher(
        two,
        {"archive": FileNotifier("archive", tmp_path / "b.jsonl")},
        [Subscription(channel="archive")],
        RETRY,
        now=Clock(T0 + timedelta(hours=3)),
        throttles={"archive": SPEC},
        count_page=page,
    )
    table = b.routing.routing()
    for se in two.read(0, types={"detection", "retraction"})[:4]:  # B's pass, never committed
        rows, _ = b._take(se, table)
        two.enqueue(b._stamped(rows))
    assert two.checkpoint_position("alerts") == 0
    a2.intake()
    assert decisions(two) == expected

    three, b3 = fresh("three.db", 60 * 24)  # a day late: the same
    b3.intake()
    assert decisions(three) == expected

    # a process started later counts the rows already in the ledger (pages of them) before its first decision
    one.append([raised(9, 64), raised(10, 125)])
    later = AlertDispatcher(
        one,
        {"archive": FileNotifier("archive", tmp_path / "later.jsonl")},
        [Subscription(channel="archive")],
        RETRY,
        now=Clock(T0 + timedelta(hours=3)),
        throttles={"archive": SPEC},
        count_page=page,
    )
    later.intake()
    assert (one.delivery_status("det0009", "archive"), one.delivery_status("det0010", "archive")) == (
        HELD,
        "outstanding",
    )


def test_a_revision_of_a_held_alert_is_an_alert_of_its_own_held_too(tmp_path: Path) -> None:
    """A late report revises a held alert: there is no message to reply under, so the revision is a new alert,
    counted like any (here the window is full: held), and the summary lists it, leaving the revised one out."""
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    archive = tmp_path / "archive.jsonl"
    clock = Clock(T0 + timedelta(minutes=30))
    d = AlertDispatcher(
        store,
        {"archive": FileNotifier("archive", archive)},
        [Subscription(channel="archive")],
        RETRY,
        now=clock,
        throttles={"archive": SPEC},
    )
    store.append([raised(1, 1), raised(2, 2), raised(3, 3)])
    d.cycle()
    revision = Detection(
        id="det0033",
        rule="shells-shipped",
        title="Rail cars said to carry shells westward (#3, revised)",
        severity="critical",
        group={"route": "R3"},
        fired_at=T0 + timedelta(minutes=3),
        revises="det0003",
        revision=1,
    )
    event = detection_event(revision).model_copy(update={"received_at": T0 + timedelta(minutes=31)})
    store.append([event])
    d.cycle()
    (row,) = store.deliveries(alert_ids={event.id})
    assert (row.kind, row.status) == ("alert", HELD)  # not a reply to a message that does not exist
    assert len(lines(archive)) == 2
    clock.at = T0 + timedelta(hours=1)
    d.cycle()
    summary = lines(archive)[-1]["digest"]
    assert [a["id"] for a in summary["alerts"]] == ["det0033"] and summary["revised"] == 1


def test_alerts_held_before_the_throttle_was_taken_out_of_the_config_are_still_told(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    archive = tmp_path / "archive.jsonl"
    clock = Clock(T0 + timedelta(minutes=10))
    notifiers = {"archive": FileNotifier("archive", archive)}
    subs = [Subscription(channel="archive")]
    before = AlertDispatcher(store, notifiers, subs, RETRY, now=clock, throttles={"archive": SPEC})
    store.append([raised(1, 1), raised(2, 2), raised(3, 3)])
    before.cycle()
    assert store.delivery_status("det0003", "archive") == HELD
    after = AlertDispatcher(store, notifiers, subs, RETRY, now=clock)  # restarted with no throttle
    store.append([raised(4, 11), raised(5, 12)])
    after.cycle()
    assert [x["key"] for x in lines(archive)] == ["det0001", "det0002", "det0004", "det0005"]
    clock.at = T0 + timedelta(hours=1)
    after.cycle()
    summary = lines(archive)[-1]
    assert summary["kind"] == "digest" and summary["digest"]["throttle"] == "2 per 1h"
    assert [a["id"] for a in summary["digest"]["alerts"]] == ["det0003"]


def test_every_dispatcher_the_config_makes_has_its_throttles(tmp_path: Path) -> None:
    """`run`, `notify` and `alerts redeliver --send` (build_dispatcher) and `worker --dispatch` (dispatcher_factory)
    throttle alike: the decision must come out the same in each."""
    from watchfloor.wiring import build_dispatcher, dispatcher_factory

    cfg = AppConfig.model_validate(
        {
            "store": f"sqlite:///{tmp_path / 'wf.db'}",
            "channels": [
                {"type": "file", "name": "archive", "path": str(tmp_path / "a.jsonl"), "throttle": "2 per 1h"},
                {"type": "console", "name": "console"},
            ],
        }
    )
    store = open_store(cfg.store)
    try:
        assert build_dispatcher(cfg, store).throttles == {"archive": SPEC}
        assert dispatcher_factory(cfg)(store).throttles == {"archive": SPEC}
    finally:
        store.close()


def test_a_summary_after_an_outage_says_which_report_each_line_is(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Outside trial 19, L4: alerts of one title held after an outage were listed as identical lines. Each line now
    names its report (source, linked to the article in Slack) and its alert id, in Slack (real slack-sdk) and in the
    file channel's record; an alert whose report has no link still names its source."""
    slack_server.channels = {"#dprk-russia"}
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    archive = tmp_path / "archive.jsonl"
    clock = Clock(T0)
    outlets = [("Coastal Observer", "https://observer.example.org/a/1"), ("Harbour Wire", None)]
    events = []
    for n in range(1, 6):  # five alerts of one title and group, raised 07:01-07:05, each from its own report
        source, url = outlets[n % 2]
        at = T0 + timedelta(minutes=n)
        ev = Evidence(
            event_id=f"doc{n}", signal="shipped", source=f"{source} {n}", url=url and f"{url}{n}", published_at=at,
            sentence="Rail cars were seen carrying shells westward.",
        )  # fmt: skip
        det = Detection(
            id=f"det{n:04d}", rule="shells-shipped", title="Rail cars said to carry shells westward", severity="high",
            group={"route": f"R{n}"}, fired_at=at, evidence=(ev,),
        )  # fmt: skip
        events.append(detection_event(det).model_copy(update={"received_at": at}))
    store.append(events)
    d = dispatcher(store, slack_server, archive, clock)
    clock.at = T0 + timedelta(minutes=10)
    d.cycle()
    clock.at = T0 + timedelta(hours=1)
    d.cycle()
    (summary,) = slack_server.messages_for(summary_id("desk", 0))
    text = "\n".join(b["text"]["text"] for b in summary["blocks"] if b["type"] == "section")
    shown = [line for line in text.splitlines() if "Rail cars" in line]
    assert len(shown) == 3 and len(set(shown)) == 3  # alerts 3, 4, 5 were held
    for n in (3, 4, 5):
        (line,) = [x for x in shown if f"alert `det{n:04d}`" in x]
        if n % 2:  # a Harbour Wire report: no link, its name
            assert f" · Harbour Wire {n} · " in line and "<http" not in line, line
        else:
            assert f"<https://observer.example.org/a/1{n}|Coastal Observer {n}>" in line, line
    record = lines(archive)[-1]["digest"]
    assert [(a["id"], a["source"], a["url"]) for a in record["alerts"]] == [
        ("det0003", "Harbour Wire 3", None),
        ("det0004", "Coastal Observer 4", "https://observer.example.org/a/14"),
        ("det0005", "Harbour Wire 5", None),
    ]
    plain = Digest.from_payload(store.deliveries(alert_ids={summary_id("desk", 0)})[0].payload)
    assert plain is not None and plain.lines()[1].endswith(
        "· Coastal Observer 4 https://observer.example.org/a/14 · alert det0004"
    )  # what console and email show
    assert all(not e.sentence for a in plain.detections for e in a.evidence)  # the ledger keeps no sentence


@pytest.mark.parametrize(
    ("language", "footer"),
    [
        ("en", "held, then 1 withdrawn and 1 revised (its revision is listed above): not listed · throttle summary "),
        (
            "ru",
            "не в списке: отозвано после задержки — 1; пересмотрено после задержки — 1 (пересмотр — в списке выше) "
            "· сводка ограничения ",
        ),
    ],
)
def test_a_summary_listing_the_revision_of_a_held_alert_says_so(
    tmp_path: Path, slack_server: FakeSlack, language: str, footer: str
) -> None:
    """Outside trial 62, M4: the summary listed the revision of a held alert and its footer said "the revision is told
    on its own" (nothing else was posted), in English in a Russian channel."""
    from watchfloor.alerts.notifiers.slack import SlackNotifier

    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock(T0 + timedelta(minutes=30))
    desk = SlackNotifier("desk", "#desk", slack_server.token, base_url=slack_server.base_url, language=language)
    d = AlertDispatcher(
        store, {"desk": desk}, [Subscription(channel="desk")], RETRY, now=clock, throttles={"desk": SPEC}
    )
    store.append([raised(1, 1), raised(2, 2), raised(3, 3), raised(4, 4)])
    d.cycle()
    revision = Detection(
        id="det0033",
        rule="shells-shipped",
        title="Rail cars said to carry shells westward (#3, revised)",
        severity="critical",
        group={"route": "R3"},
        fired_at=T0 + timedelta(minutes=3),
        revises="det0003",
        revision=1,
    )
    event = detection_event(revision).model_copy(update={"received_at": T0 + timedelta(minutes=31)})
    store.append([event, withdrawn(4, 32)])
    d.cycle()
    assert len(slack_server.messages) == 2  # the window's two; the rest held
    clock.at = T0 + timedelta(hours=1)
    d.cycle()
    summary = slack_server.messages[-1]
    assert len(slack_server.messages) == 3 and "det0033" in json.dumps(summary["blocks"], ensure_ascii=False)
    (context,) = [b for b in summary["blocks"] if b["type"] == "context"]
    assert context["elements"][0]["text"].startswith(footer), context


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_revision_of_an_alert_the_throttle_held_says_what_it_revises(
    tmp_path: Path, slack_server: FakeSlack, language: str
) -> None:
    """Outside trial 62, L7: in a throttled channel whose story had only been in a throttle summary, a late report's
    revision of the held alert was posted as a new top-level message with no line saying what it was (the other
    channels had it as a revision reply)."""
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    clock = Clock(T0)
    notifier = SlackNotifier("desk", "#desk", slack_server.token, base_url=slack_server.base_url, language=language)
    one = ThrottleSpec(max=1, per=timedelta(hours=1))
    d = AlertDispatcher(
        store, {"desk": notifier}, [Subscription(channel="desk")], RETRY, now=clock, throttles={"desk": one}
    )
    store.append([raised(1, 1), raised(2, 2)])
    clock.at = T0 + timedelta(minutes=5)
    d.cycle()
    assert store.delivery_status("det0002", "desk") == HELD
    clock.at = T0 + timedelta(hours=1)
    d.cycle()  # the summary lists det0002
    late = Detection(
        id="det0003",
        rule="shells-shipped",
        title="Rail cars said to carry shells westward (#2, earlier report)",
        severity="medium",
        tags=("dprk",),
        group={"route": "R2"},
        fired_at=T0 + timedelta(minutes=1, seconds=30),
        revises="det0002",
        revision=1,
    )
    store.append([detection_event(late).model_copy(update={"received_at": T0 + timedelta(minutes=70)})])
    clock.at = T0 + timedelta(minutes=70)
    d.cycle()
    (message,) = [m for m in top_level(slack_server) if "det0003" in json.dumps(m, ensure_ascii=False)]
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    if language == "en":
        assert "Revises alert det0002 (held by this channel's throttle)" in shown
    else:
        assert "Пересматривает оповещение det0002 (его задержало ограничение этого канала)" in shown


def test_a_throttle_summary_is_counted_as_one_not_as_a_digest(tmp_path: Path) -> None:
    """Outside trial 64, LOW-4: `alerts list` said "1 alert(s) already posted" of a `1 per 1h` throttle, and the
    cycle line "1 digest(s) sent" of the throttle summary sent when the window ended (no digest was subscribed)."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    store = open_store(url)
    clock = Clock(T0 + timedelta(minutes=10))
    one = ThrottleSpec(max=1, per=timedelta(hours=1))
    notifiers = {"archive": FileNotifier("archive", tmp_path / "a.jsonl")}
    d = AlertDispatcher(
        store, notifiers, [Subscription(channel="archive")], RETRY, now=clock, throttles={"archive": one}
    )
    store.append([raised(1, 1), raised(2, 2)])
    d.cycle()
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(f"store: {url}\nchannels:\n  - {{type: file, name: archive, path: a.jsonl, throttle: 1 per 1h}}\n")
    env = {"WATCHFLOOR_STORE": "", "COLUMNS": "250"}
    res = CliRunner().invoke(app, ["alerts", "list", "--json", "--config", str(cfg)], env=env)
    (held,) = [json.loads(x) for x in res.output.splitlines() if '"det0002"' in x]
    assert "(1 per 1h): 1 alert already posted in the window" in held["delivery_details"]["archive"]["detail"], held
    clock.at = T0 + timedelta(hours=1)  # the window ends: its summary goes
    line = delivery_summary(d.cycle(), d)
    assert "1 throttle summary sent" in line and "digest" not in line, line
    store.close()
    res = CliRunner().invoke(app, ["alerts", "list", "--config", str(cfg)], env=env)
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "· 1 throttle summary" in flat and "digest(s)" not in flat, res.output
