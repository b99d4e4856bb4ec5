"""The Slack app in a channel with `language: ru` (outside trial 62), end to end as tests/integration/test_slack_app.py
runs it (`watchfloor serve` in a subprocess, Slack's signed requests, the local Slack-compatible server), with a
Russian desk's pack: what is posted in the channel for everyone when a silence starts or ends is Russian and names
the Russian button, a group reads as the alerts show it whether silenced by the button or by `group=` (M3); `help`
names the buttons as they read in the channel and a place the pack knows, and `rules` shows every title template
alike, its placeholders named (M5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.blockkit import readable
from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import DESK, Env, Served, ephemeral, posted_alerts, slack, stop
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, SILENCE_ACTION, button_value

pytestmark = pytest.mark.integration

PACK = """
version: 2
name: desk-ru
language: ru
entities:
  KURSKOBL: {name: Курская область, kind: place, aliases: [Курская область]}
  SUDZHA: {name: Суджа, kind: place, aliases: [Суджа]}
  DUMA: {name: Государственная дума, kind: organization, aliases: [Госдума, Государственная дума]}
signals:
  ratified:
    match: {all: [{any: ["ратифи*"]}, {any: [договор, соглашение]}]}
    near: 12
    capture: {body: {entities: [DUMA]}}
  strike:
    match: {any: [удар, обстрел, атака]}
    near: 8
    capture: {place: {kind: place}}
detections:
  - id: ru-ratified
    title: "Договор ратифицирован {body:instrumental}"
    severity: high
    pattern: {any: ratified}
    group_by: [body]
  - id: ru-strike
    title: "Удар по {place:dative}{place_suffix}"
    severity: low
    pattern: {any: strike}
    group_by: [place]
"""

ARTICLE = {
    "type": "news.article",
    "id": "ru-1",
    "published_at": "2026-12-06T09:00:00+00:00",
    "source": "РИА Пример",
    "url": "https://ria.example/a1",
    "title": "Обстрел Суджи",
    "body": "Утром ВСУ нанесли удар по Судже, сообщили местные власти.",
}


@pytest.fixture
def env(tmp_path: Path, slack_server: base.FakeSlack) -> Env:
    """test_slack_app's environment, its config made a Russian desk's: the pack above, `language: ru`."""
    e: Env = base.env.__wrapped__(tmp_path, slack_server)  # type: ignore[attr-defined]
    pack = tmp_path / "ru_pack.yaml"
    pack.write_text(PACK, encoding="utf-8")
    text = e.config.read_text(encoding="utf-8")
    text = text.replace("rules: [builtin:dprk_russia]", f"rules: [{pack}]")
    text = text.replace("slack:\n", "slack:\n  language: ru\n").replace(
        "subscriptions: []", "subscriptions: [{channel: desk}]"
    )
    e.config.write_text(text, encoding="utf-8")
    return e


@pytest.fixture
def served(env: Env) -> Iterator[Served]:
    s = env.start("serve", "--config", str(env.config), "--port", "0")
    try:
        yield s
    finally:
        stop(s)


def said_in_desk(env: Env, since: int) -> list[str]:
    """What was posted in #desk for everyone since message `since`, its date tokens read as their fallback."""
    return [readable(str(m["text"])) for m in env.slack.messages[since:] if env.slack.channel_id(m["channel"]) == DESK]


def test_a_silence_is_said_in_russian_in_a_russian_channel(env: Env, served: Served) -> None:
    env.inbox.write_text(json.dumps(ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
    ran = env.cli("run", "--once", "--config", str(env.config))
    assert ran.returncode == 0, ran.stderr
    assert posted_alerts(env), ran.stderr + ran.stdout
    (message, alert), *_ = posted_alerts(env)
    det = alert["detection"]
    assert det["group"] == {"place": "SUDZHA"}
    app = slack(env, served)
    before = len(env.slack.messages)
    value = button_value(alert["id"], det["rule"], "desk", det["group"])
    assert app.block_action(SILENCE_ACTION, value, message=message, channel_id=DESK).status == 200
    (by_button,) = env.control().silences()
    (said,) = said_in_desk(env, before)
    until = f"{by_button.ends_at:%Y-%m-%d %H:%M} UTC"
    assert said.startswith(
        f":mute: Тишина: `ru-strike` (Суджа) в этом канале на 24 ч, до {until} — включил(а) <@U0ALICE001> кнопкой "
        f"*Тишина 24 ч* на оповещении. (`{by_button.id}`; `/watchfloor unsilence {by_button.id}` снимает её)"
    ), said

    # the command: the group shown as the button's is (its entity's name, no key), the duration in Russian words
    before = len(env.slack.messages)
    reply = ephemeral(
        app.slash_command("silence ru-strike group=Курская область for 2h ложная тревога", channel_id=DESK)
    )
    assert reply.startswith(":mute: Silenced"), reply  # (the answer to whoever typed it stays English)
    (by_command,) = [s for s in env.control().silences() if s.id != by_button.id]
    (said,) = said_in_desk(env, before)
    until = f"{by_command.ends_at:%Y-%m-%d %H:%M} UTC"
    assert said == (
        f":mute: Тишина: `ru-strike` (Курская область) в этом канале на 2 ч, до {until} — включил(а) <@U0ALICE001>: "
        f"«ложная тревога». (`{by_command.id}`; `/watchfloor unsilence {by_command.id}` снимает её)"
    )
    before = len(env.slack.messages)
    ephemeral(app.slash_command(f"unsilence {by_command.id}", channel_id=DESK))
    assert said_in_desk(env, before) == [
        f":loud_sound: Тишина `{by_command.id}` (`ru-strike` (Курская область)) в этом канале снята — снял(а) "
        "<@U0ALICE001>: оповещения снова приходят сюда."
    ]


def test_help_and_rules_match_what_a_russian_channel_shows(env: Env, served: Served) -> None:
    app = slack(env, served)
    helped = ephemeral(app.slash_command("help", channel_id=DESK))
    assert helped.endswith("Alerts have buttons: Принято, Тишина 24 ч, Отписаться."), helped
    assert "`where place=Суджа`: only alerts placed in Суджа" in helped and "Kursk" not in helped, helped
    listed = ephemeral(app.slash_command("rules", channel_id=DESK))
    # every template alike: a placeholder named, its case form not shown raw, a suffix dropped
    assert "• `ru-ratified` *Договор ратифицирован [body]* (high)" in listed, listed
    assert "• `ru-strike` *Удар по [place]* (low)" in listed, listed
    assert "{" not in listed


def test_an_acknowledge_click_is_said_in_russian_on_the_message(env: Env, served: Served) -> None:
    """Outside trial 62, L4: "Acknowledged by @alice at …" next to Russian fields."""
    env.inbox.write_text(json.dumps(ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
    assert env.cli("run", "--once", "--config", str(env.config)).returncode == 0
    (message, alert), *_ = posted_alerts(env)
    det = alert["detection"]
    value = button_value(alert["id"], det["rule"], "desk", det["group"])
    assert slack(env, served).block_action(ACK_ACTION, value, message=message, channel_id=DESK).status == 200
    (update,) = env.slack.requests_for("chat.update")
    (line,) = [b for b in update.body["blocks"] if b.get("block_id") == "wf_acknowledged"]
    assert readable(line["elements"][0]["text"]).startswith(":white_check_mark: Принято: <@U0ALICE001>, 20"), line
