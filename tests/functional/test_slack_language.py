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
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.notifiers.slack_blocks import own_reason
from watchfloor.alerts.notifiers.wording import wording
from watchfloor.alerts.slackapp.buttons import ACK_ACTION, SILENCE_ACTION, UNSUBSCRIBE_ACTION
from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.config import AppConfig, SlackApp, SlackChannel, Subscription
from watchfloor.schemas.events import Detection, Evidence, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.engine.corrections import correction_reason, restatement_reason
from watchfloor.stream_processors.engine.correlate import late_report_reason
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


def first_message(server: FakeSlack) -> dict[str, Any]:
    """The thread's first message as the channel shows it now (updated in place)."""
    (root,) = [m for m in server.messages if m.get("thread_ts") in (None, m["ts"])]
    return root


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
    root = first_message(server)
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
    # the evidence heading, with its count: the first alert's, under a footer that names the newest first (outside
    # trial 64, LOW-2: "(1)" under the CRITICAL alert's id read as a one-report CRITICAL)
    assert "*Сообщения первого оповещения* (1)" in first
    assert "*Обновлено* · теперь :red_circle: КРИТИЧЕСКАЯ · 2 сообщения из 1 источника и 1 обновление в ветке" in first
    assert "оповещение det0002" in first and "первое: det0001" in first  # the footer
    assert buttons(root) == [
        (ACK_ACTION, "Принято"),
        (SILENCE_ACTION, "Тишина 24 ч"),
        (UNSUBSCRIBE_ACTION, "Отписаться"),
    ]
    answer = said(reply)
    severity = ":red_circle: КРИТИЧЕСКАЯ (подтверждено, раньше СРЕДНЯЯ)"
    assert f"*Обновление* · {severity} · 2 сообщения из 1 источника" in answer
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
    root = first_message(slack_server)
    (reply,) = slack_server.thread(root["ts"])
    first = said(root)
    assert "*Пересмотрено* запоздавшим сообщением: теперь оповещение det0003 (см. ветку)" in first
    assert "*Показано ранее* (1)" in first
    # Outside trial 62, L7: «более позднее сообщение» of a report dated earlier, read later; «Показаны… они» of one
    # report; «придержаны как повторы», opaque
    assert (
        "Показано здесь до того, как сообщение, полученное позже, пересмотрело это оповещение: оно остаётся в силе — "
        "сохранено как повтор пересмотренного оповещения, и ветка по-прежнему его учитывает."
    ) in first
    answer = said(reply)
    assert "*Пересмотрено* · :large_yellow_circle: СРЕДНЯЯ (не подтверждено)" in answer
    assert "Запоздавшее сообщение изменило это оповещение; сообщение выше теперь показывает" in answer
    for english in ("Revised", "late report", "Told before", "still stand"):
        assert english not in first + answer, english


def test_the_default_is_english_as_before(slack_server: FakeSlack) -> None:
    root, reply = one_outlet_thread(slack_server, SlackChannel(name="desk", channel="#ru-desk"), second="ТАСС")
    first = said(root)
    assert "*Severity*\n:red_circle: CRITICAL" in first and "*Rule*\npow-returned" in first
    assert "*Sources*\n2 independent in the thread" in first and "*Evidence of the first alert* (1)" in first
    assert "alert det0002" in first and "first: det0001" in first  # (the footer names the newest alert first)
    assert "*Updated* · now :red_circle: CRITICAL · 2 independent sources and 1 update in the thread" in first
    assert buttons(root) == [
        (ACK_ACTION, "Acknowledge"),
        (SILENCE_ACTION, "Silence 24h"),
        (UNSUBSCRIBE_ACTION, "Unsubscribe"),
    ]
    assert "*Update* · :red_circle: CRITICAL (confirmed, was MEDIUM) · 2 independent sources in the" in said(reply)
    assert reply["text"] == "Update: [CRITICAL] Военнопленные вернулись домой (pow-returned)"


def test_a_confirmation_by_two_documents_of_one_outlet_says_two_reports(slack_server: FakeSlack) -> None:
    # (before: "1 independent source in the thread" beside CRITICAL, read as "confirmed on a single source")
    root, reply = one_outlet_thread(slack_server, SlackChannel(name="desk", channel="#ru-desk"))
    assert "*Sources*\n2 reports from 1 source in the thread" in said(root)
    assert "now :red_circle: CRITICAL · 2 reports from 1 source and 1 update in the thread" in said(root)
    assert "*Update* · :red_circle: CRITICAL (confirmed, was MEDIUM) · 2 reports from 1 source in" in said(reply)
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


EDITED = datetime(2026, 12, 6, 23, 58, 22, tzinfo=UTC)
EDITED_TOKEN = f"<!date^{int(EDITED.timestamp())}^{{date_num}} {{time}}|2026-12-06 23:58 UTC>"
MINUTE_TOKEN = f"<!date^{int(EDITED.replace(second=0).timestamp())}^{{date_num}} {{time}}|2026-12-06 23:58 UTC>"


def corrected_desk(server: FakeSlack, language: str, reason: str) -> tuple[MemoryStore, AlertDispatcher]:
    """A channel in `language` told an unconfirmed alert, its confirmation (det0002), and a correction by the
    publisher that revises the confirmation back onto the first report (det0003) and withdraws it with `reason`:
    the store and dispatcher, for a test to go on."""
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=server.base_url),
        channels=[SlackChannel(name="desk", channel="#ru-desk", language=language)],
        subscriptions=[Subscription(channel="desk")],
    )
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"WF_BOT": server.token}, catalog=CATALOG)
    first = report(1, "Первый канал")
    store.append([detection_event(pow_alert(1, "medium", "unconfirmed", (first,)))])
    assert dispatcher.cycle().ok
    store.append([detection_event(pow_alert(2, "critical", "confirmed", (first, report(2, "ТАСС"))))])
    assert dispatcher.cycle().ok
    revised = pow_alert(3, "medium", "unconfirmed", (first,), revises="det0001", revision=1, cause=reason)
    gone = Retraction(alert_id="det0002", rule="pow-returned", group=GROUP, reason=reason, revision=1, at=EDITED)
    store.append([detection_event(revised), retraction_event(gone)])
    assert dispatcher.cycle().ok
    return store, dispatcher


def corrected_thread(server: FakeSlack, language: str, reason: str) -> tuple[list[dict[str, Any]], str]:
    """corrected_desk's thread: its messages (first as updated, then replies), and the withdrawal's notification
    text."""
    corrected_desk(server, language, reason)
    root = first_message(server)
    replies = server.thread(root["ts"])
    (withdrawal,) = [m for m in replies if " — " in m["text"]]  # (the notification of a withdrawal says why)
    return [root, *replies], withdrawal["text"]


def test_a_correction_by_the_publisher_is_worded_in_russian_with_a_date_token(slack_server: FakeSlack) -> None:
    """Outside trial 62, H3: the reason watchfloor writes for a withdrawal or revision by a publisher's edit was
    English in a Russian channel, its time bare UTC text where every other time is a date token."""
    reason = correction_reason("РИА Пример", "https://ria.example/a10", EDITED)
    messages, text = corrected_thread(slack_server, "ru", reason)
    shown = "\n".join(said(m) for m in messages)
    worded = (
        f"исправлено издателем: материал https://ria.example/a10 (РИА Пример) изменён {EDITED_TOKEN}, и в новом "
        "тексте больше нет того, на чём основывалось оповещение"
    )
    assert f"*Отозвано*: {worded}" in shown  # the withdrawal
    assert f"Оповещение изменено: {worded}; сообщение выше" in shown  # the revision's reply
    assert "corrected by the publisher" not in shown and "edited item" not in shown
    # a notification cannot show the token: its UTC text (to the minute, as other notification times)
    assert text == (
        "Отозвано: Военнопленные вернулись домой — исправлено издателем: материал https://ria.example/a10 (РИА "
        "Пример) изменён 2026-12-06 23:58 UTC, и в новом тексте больше нет того, на чём основывалось оповещение"
    )


def test_the_other_reasons_watchfloor_writes_are_worded_in_russian_and_a_quoted_one_stays() -> None:
    words = wording("ru")
    restated = restatement_reason("ТАСС", "t-1", EDITED, "hedged", "asserted")
    assert own_reason(restated, words) == (
        f"исправлено издателем: материал t-1 (ТАСС) изменён {EDITED_TOKEN}, и новый текст подаёт то, на чём "
        "основывалось оповещение, как утверждение, а не как предположение"
    )
    late = late_report_reason("doc-7", EDITED.replace(second=0))
    assert own_reason(late, words) == (
        f"запоздавшее сообщение (doc-7, {MINUTE_TOKEN}) изменило историю этой группы: это оповещение не было бы поднято"
    )
    # the same reason as a store written before holds it, its time in ISO form
    before = late.replace("2026-12-06 23:58 UTC", EDITED.isoformat())
    assert before != late and own_reason(before, words) == (
        f"запоздавшее сообщение (doc-7, {EDITED_TOKEN}) изменило историю этой группы: это оповещение не было бы поднято"
    )
    composed = (
        f"its input alert det0009 (troops) was withdrawn: {late} (it was listed in this channel's throttle summary)"
    )
    assert own_reason(composed, words) == (
        f"отозвано входное оповещение det0009 (troops): запоздавшее сообщение (doc-7, {MINUTE_TOKEN}) изменило "
        "историю этой группы: это оповещение не было бы поднято (оно было в сводке ограничения этого канала)"
    )
    # someone else's reason is quoted as written; English is the reason itself
    assert own_reason("ложное сообщение <см. ТАСС>", words) is None
    assert own_reason(restated, wording("en")) is None


def test_an_english_channel_keeps_the_correction_as_the_engine_wrote_it(slack_server: FakeSlack) -> None:
    reason = correction_reason("Harbour Wire", "hw-1", EDITED)
    messages, text = corrected_thread(slack_server, "en", reason)
    shown = "\n".join(said(m) for m in messages)
    assert f"*Withdrawn*: {reason}" in shown and "at 2026-12-06 23:58:22 UTC, and the new text" in shown
    assert f"This alert changed: {reason}; the message above" in shown
    assert text == f"Withdrawn: Военнопленные вернулись домой — {reason}"


def test_capture_labels_are_russian_for_known_names_and_as_written_for_others(slack_server: FakeSlack) -> None:
    """Outside trial 62, M2: `*Place*`, `*Party*` in a Russian message."""
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=slack_server.base_url),
        channels=[
            SlackChannel(name="desk", channel="#ru-desk", language="ru"),
            SlackChannel(name="world", channel="#world"),
        ],
        subscriptions=[Subscription(channel="desk"), Subscription(channel="world")],
    )
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"WF_BOT": slack_server.token}, catalog=CATALOG)
    attributes = {"place": ("Курская область",), "party": ("КНДР",), "border_post": ("Суджа",)}
    det = pow_alert(1, "medium", "unconfirmed", (report(1, "Первый канал"),), attributes=attributes)
    store.append([detection_event(det)])
    assert dispatcher.cycle().ok
    shown = {slack_server.channel_id(m["channel"]): said(m) for m in slack_server.messages}
    russian, english = shown[FakeSlack.channel_id("#ru-desk")], shown[FakeSlack.channel_id("#world")]
    assert "*Место*\nКурская область" in russian and "*Сторона*\nКНДР" in russian
    assert "*Border post*\nСуджа" in russian  # a name no table knows: as English shows it
    assert "*Place*\nКурская область" in english and "*Party*\nКНДР" in english and "*Border post*" in english


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_first_message_keeps_saying_why_the_story_fell_back(slack_server: FakeSlack, language: str) -> None:
    """Outside trial 62, L6: once the withdrawal of the CRITICAL confirmation was told, the first message read
    "Updated · now MEDIUM (unconfirmed) · …" alone: why the story fell back was only in the thread."""
    reason = correction_reason("РИА Пример", "https://ria.example/a10", EDITED)
    (root, *_), _ = corrected_thread(slack_server, language, reason)
    (status,) = [line for line in said(root).split("\n") if line.startswith(("*Обновлено*", "*Updated*"))]
    if language == "ru":
        assert status == (
            "*Обновлено* · теперь :large_yellow_circle: СРЕДНЯЯ (не подтверждено) · 1 независимый источник и 3 "
            "обновления в ветке · после отзыва оповещения det0002 (КРИТИЧЕСКАЯ): исправлено издателем: материал "
            f"https://ria.example/a10 (РИА Пример) изменён {EDITED_TOKEN}, и в новом тексте больше нет того, на чём "
            "основывалось оповещение"
        )
    else:
        assert status == (
            "*Updated* · now :large_yellow_circle: MEDIUM (unconfirmed) · 1 independent source and 3 updates in the "
            f"thread · after alert det0002, CRITICAL, was withdrawn: {reason}"
        )
    # the revision's rewrite of it, which says the same reason itself, named the withdrawal without saying it twice
    opening = ("*Пересмотрено* (", "*Revised* (")
    (revised,) = [line for u in slack_server.updates for line in said(u).split("\n") if line.startswith(opening)]
    if language == "ru":
        assert revised.endswith(" · после отзыва оповещения det0002 (КРИТИЧЕСКАЯ)")
    else:
        assert revised.endswith(" · after alert det0002, CRITICAL, was withdrawn")


def test_a_story_that_rose_again_says_no_fall_back(slack_server: FakeSlack) -> None:
    """The reason is said while the thread stays below what was withdrawn: a new confirmation that raises it again
    leaves "Updated · now CRITICAL" alone."""
    reason = correction_reason("РИА Пример", "https://ria.example/a10", EDITED)
    store, dispatcher = corrected_desk(slack_server, "en", reason)
    assert "was withdrawn: corrected by the publisher" in said(first_message(slack_server))
    first = report(1, "Первый канал")
    store.append([detection_event(pow_alert(4, "critical", "confirmed", (first, report(4, "Интерфакс"))))])
    assert dispatcher.cycle().ok
    (status,) = [line for line in said(first_message(slack_server)).split("\n") if line.startswith("*Updated*")]
    assert status == "*Updated* · now :red_circle: CRITICAL · 2 independent sources and 4 updates in the thread"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_note_below_reports_told_before_agrees_with_their_count(slack_server: FakeSlack, language: str) -> None:
    """Outside trial 62, L7: the note below the reports a message showed before a late report revised its alert said
    "these reports … them" (Russian «Показаны… они») of one report too."""
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=slack_server.base_url),
        channels=[SlackChannel(name="desk", channel="#desk", language=language)],
        subscriptions=[Subscription(channel="desk")],
    )
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"WF_BOT": slack_server.token}, catalog=CATALOG)
    two = (report(1, "Первый канал"), report(2, "ТАСС"))
    store.append([detection_event(pow_alert(1, "high", "confirmed", two))])
    assert dispatcher.cycle().ok
    # a report dated before both, read after them: the alert is revised to rest on it, the two told before kept
    late = pow_alert(3, "high", "confirmed", (report(0, "РИА"), two[0]), revises="det0001", revision=1)
    store.append([detection_event(late)])
    assert dispatcher.cycle().ok
    root = first_message(slack_server)
    if language == "en":
        assert (
            "Shown here before a report read later revised this alert: it still stands, kept as a repeat of the "
            "revised alert, so the thread still counts it."
        ) in said(root)
    else:
        assert "оно остаётся в силе — сохранено как повтор пересмотренного оповещения" in said(root)
    again = pow_alert(4, "high", "confirmed", (report(-1, "Интерфакс"),), revises="det0003", revision=2)
    store.append([detection_event(again)])
    assert dispatcher.cycle().ok
    root = first_message(slack_server)
    if language == "en":
        assert (
            "Shown here before a report read later revised this alert: they still stand, kept as repeats of the "
            "revised alert, so the thread still counts them."
        ) in said(root)
    else:
        assert (
            "Показаны здесь до того, как сообщение, полученное позже, пересмотрело это оповещение: они остаются в "
            "силе — сохранены как повторы пересмотренного оповещения, и ветка по-прежнему их учитывает."
        ) in said(root)


def test_a_channel_that_holds_no_message_of_the_earlier_story_still_says_again(slack_server: FakeSlack) -> None:
    """Outside trial 62, L3: a DM subscribed after a story (here: a channel whose `min_severity` kept that story out)
    got its rule and group's next story without the "Again: …" line another channel got: the line came from the
    channel's own messages. The story is decided once for all channels, so the line is said in each: with a link
    where the channel has the earlier story's message, as text alone where it has none."""
    cfg = AppConfig(
        slack=SlackApp(token_env="WF_BOT", base_url=slack_server.base_url),
        channels=[
            SlackChannel(name="desk", channel="#desk"),
            SlackChannel(name="dm", channel="#ru-high", language="ru"),
        ],
        subscriptions=[Subscription(channel="desk"), Subscription(channel="dm", min_severity="high")],
    )
    store = MemoryStore()
    dispatcher = build_dispatcher(cfg, store, env={"WF_BOT": slack_server.token}, catalog=CATALOG)
    store.append([detection_event(pow_alert(1, "medium", "unconfirmed", (report(1, "Первый канал"),)))])
    assert dispatcher.cycle().ok
    later = report(2, "ТАСС").model_copy(update={"published_at": T0 + timedelta(days=5)})
    store.append([detection_event(pow_alert(2, "high", "unconfirmed", (later,)))])
    assert dispatcher.cycle().ok
    shown = {slack_server.channel_id(m["channel"]): said(m) for m in slack_server.messages if "det0002" in said(m)}
    when = f"<!date^{int((T0 + timedelta(minutes=1)).timestamp())}^{{date_num}} {{time}}|2026-07-17 09:01 UTC>"
    desk, dm = shown[FakeSlack.channel_id("#desk")], shown[FakeSlack.channel_id("#ru-high")]
    assert f"Again: the last alert of this rule and group was det0001, fired {when}; a new story (<https://" in desk
    assert f"Снова: последнее оповещение этого правила и группы — det0001, поднято {when}; это новый сюжет\n" in dm
