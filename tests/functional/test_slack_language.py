"""A Slack channel's `language`: the messages' own wording (labels, status lines, buttons) in Russian for a Russian
desk, English as before by default; and the sources of a thread confirmed by several documents of one outlet
(`distinct: document`) said as reports of one source, not "1 independent source" (outside trial 57, MED-3).
Through the config and wiring, the real slack-sdk, against the local Slack-compatible server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, SILENCE_ACTION, UNSUBSCRIBE_ACTION
from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.config import AppConfig, SlackApp, SlackChannel, Subscription
from watchfloor.schemas.events import Detection, Evidence, detection_event
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.wiring import build_dispatcher

pytestmark = pytest.mark.functional

T0 = datetime(2026, 7, 17, 9, 0, tzinfo=UTC)
GROUP = {"party": "RUS"}
CATALOG = AlertCatalog(entity_names={"RUS": "Россия"}, open_periods={"pow-returned": timedelta(days=2)})


def report(n: int, source: str) -> Evidence:
    return Evidence(
        event_id=f"1tv-{n}",
        signal="pow_returned",
        source=source,
        url=f"https://www.1tv.ru/news/2026-07-17/{n}",
        published_at=T0 + timedelta(minutes=n),
        sentence="Домой из украинского плена возвращаются 95 российских военнослужащих.",
        modality="asserted",
    )


def pow_alert(n: int, severity: str, confidence: str, evidence: tuple[Evidence, ...], **kw: Any) -> Detection:
    return Detection(
        id=f"det{n:04d}",
        rule="pow-returned",
        title="Военнопленные вернулись домой",
        severity=severity,  # type: ignore[arg-type]
        tags=("pow",),
        group=GROUP,
        fired_at=max(ev.published_at for ev in evidence),
        confidence=confidence,  # type: ignore[arg-type]
        evidence=evidence,
        **kw,
    )


def one_outlet_thread(server: FakeSlack, channel: SlackChannel, second: str = "Первый канал") -> list[dict[str, Any]]:
    """An unconfirmed alert on one report, then its confirmation (critical) by a second document: of the same outlet
    (`distinct: document`, the engine's corroboration cites both documents), or of `second`. The thread's messages:
    its first (as updated), then its replies."""
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=server.base_url),
        channels=[channel],
        subscriptions=[Subscription(channel=channel.name)],
    )
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"WF_BOT": server.token}, catalog=CATALOG)
    first = report(1, "Первый канал")
    store.append([detection_event(pow_alert(1, "medium", "unconfirmed", (first,)))])
    assert dispatcher.cycle().ok
    store.append([detection_event(pow_alert(2, "critical", "confirmed", (first, report(2, second))))])
    assert dispatcher.cycle().ok
    (root,) = [m for m in server.messages if m.get("thread_ts") in (None, m["ts"])]
    return [root, *server.thread(root["ts"])]


def texts(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in texts(v)]
    if isinstance(obj, list):
        return [t for v in obj for t in texts(v)]
    return []


def said(message: dict[str, Any]) -> str:
    return "\n".join(texts(message["blocks"]))


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    return [(e["action_id"], e["text"]["text"]) for e in actions["elements"]]


def test_a_russian_channel_words_its_messages_in_russian(slack_server: FakeSlack) -> None:
    root, reply = one_outlet_thread(slack_server, SlackChannel(name="desk", channel="#ru-desk", language="ru"))
    first = said(root)
    assert "*Важность*\n:red_circle: КРИТИЧЕСКАЯ" in first and "*Правило*\npow-returned" in first
    assert "*Группа*\nРоссия" in first
    assert "*Источники*\n2 сообщения из 1 источника в ветке" in first
    assert "*Сообщения* (1)" in first  # the evidence heading, with its count
    assert "*Обновлено* · теперь :red_circle: КРИТИЧЕСКАЯ · 2 сообщения из 1 источника и 1 обновление в ветке" in first
    assert "оповещение det0002" in first and "первое: det0001" in first  # the footer
    assert buttons(root) == [
        (ACK_ACTION, "Принято"),
        (SILENCE_ACTION, "Тишина 24 ч"),
        (UNSUBSCRIBE_ACTION, "Отписаться"),
    ]
    answer = said(reply)
    assert "*Обновление* · :red_circle: КРИТИЧЕСКАЯ (была СРЕДНЯЯ) · 2 сообщения из 1 источника в ветке" in answer
    assert "*Новые сообщения* (1)" in answer
    assert reply["text"] == "Обновление: [КРИТИЧЕСКАЯ] Военнопленные вернулись домой (pow-returned)"
    # what the articles and rules said is quoted as written; none of the English wording is left
    assert "Домой из украинского плена возвращаются 95 российских военнослужащих." in answer
    for english in ("Severity", "Rule", "Sources", "Evidence", "Update", "independent", "Acknowledge", "Silence"):
        assert english not in first + answer, english


def test_a_revision_by_a_late_report_is_worded_in_russian(slack_server: FakeSlack) -> None:
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=slack_server.base_url),
        channels=[SlackChannel(name="desk", channel="#ru-desk", language="ru")],
        subscriptions=[Subscription(channel="desk")],
    )
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"WF_BOT": slack_server.token}, catalog=CATALOG)
    store.append([detection_event(pow_alert(1, "medium", "unconfirmed", (report(1, "Первый канал"),)))])
    assert dispatcher.cycle().ok
    # a late report, older than the first: the alert is revised to rest on it, the first one's report held beside it
    late = pow_alert(3, "medium", "unconfirmed", (report(0, "ТАСС"),), revises="det0001", revision=1)
    store.append([detection_event(late)])
    assert dispatcher.cycle().ok
    (root,) = [m for m in slack_server.messages if m.get("thread_ts") in (None, m["ts"])]
    (reply,) = slack_server.thread(root["ts"])
    first = said(root)
    assert "*Пересмотрено* запоздавшим сообщением: теперь оповещение det0003 (см. ветку)" in first
    assert "*Показано ранее* (1)" in first and "они остаются в силе" in first
    answer = said(reply)
    assert "*Пересмотрено* · :large_yellow_circle: СРЕДНЯЯ (не подтверждено)" in answer
    assert "Запоздавшее сообщение изменило это оповещение; сообщение выше теперь показывает" in answer
    for english in ("Revised", "late report", "Told before", "still stand"):
        assert english not in first + answer, english


def test_the_default_is_english_as_before(slack_server: FakeSlack) -> None:
    root, reply = one_outlet_thread(slack_server, SlackChannel(name="desk", channel="#ru-desk"), second="ТАСС")
    first = said(root)
    assert "*Severity*\n:red_circle: CRITICAL" in first and "*Rule*\npow-returned" in first
    assert "*Sources*\n2 independent in the thread" in first and "*Evidence* (1)" in first
    assert "*Updated* · now :red_circle: CRITICAL · 2 independent sources and 1 update in the thread" in first
    assert buttons(root) == [
        (ACK_ACTION, "Acknowledge"),
        (SILENCE_ACTION, "Silence 24h"),
        (UNSUBSCRIBE_ACTION, "Unsubscribe"),
    ]
    assert "*Update* · :red_circle: CRITICAL (was MEDIUM) · 2 independent sources in the thread" in said(reply)
    assert reply["text"] == "Update: [CRITICAL] Военнопленные вернулись домой (pow-returned)"


def test_a_confirmation_by_two_documents_of_one_outlet_says_two_reports(slack_server: FakeSlack) -> None:
    # (before: "1 independent source in the thread" beside CRITICAL, read as "confirmed on a single source")
    root, reply = one_outlet_thread(slack_server, SlackChannel(name="desk", channel="#ru-desk"))
    assert "*Sources*\n2 reports from 1 source in the thread" in said(root)
    assert "now :red_circle: CRITICAL · 2 reports from 1 source and 1 update in the thread" in said(root)
    assert "*Update* · :red_circle: CRITICAL (was MEDIUM) · 2 reports from 1 source in the thread" in said(reply)
    assert "1 independent" not in said(root) + said(reply)


def test_the_slack_sections_language_is_the_default_of_its_channels(slack_server: FakeSlack, tmp_path: Path) -> None:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        "store: memory://\n"
        "slack: {language: ru}\n"
        "channels:\n"
        '  - {type: slack, name: desk, channel: "#ru-desk"}\n'
        '  - {type: slack, name: world, channel: "#world", language: en}\n'
        "subscriptions: [{channel: desk}, {channel: world}]\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert [(ch.name, getattr(ch, "language", None)) for ch in cfg.channels] == [("desk", None), ("world", "en")]
    cfg = cfg.model_copy(update={"slack": cfg.slack.model_copy(update={"base_url": slack_server.base_url})})
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"SLACK_BOT_TOKEN": slack_server.token}, catalog=CATALOG)
    store.append([detection_event(pow_alert(1, "medium", "unconfirmed", (report(1, "Первый канал"),)))])
    assert dispatcher.cycle().ok
    by_channel = {m["channel"]: said(m) for m in slack_server.messages}
    assert "*Важность*" in by_channel["#ru-desk"] and "*Severity*" in by_channel["#world"]


def test_an_unknown_language_is_refused_at_load_naming_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(
        'store: memory://\nchannels:\n  - {type: slack, name: desk, channel: "#ru-desk", language: de}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert "language 'de' is not one Slack messages can be worded in (known: en, ru)" in str(caught.value)
