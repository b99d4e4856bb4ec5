"""The fixed wording of Slack messages (labels, status lines, buttons) per language: a Slack channel's `language`.

Data, not code: one table of message templates per language (`MESSAGES`, str.format placeholders), and one of counted
nouns (`NOUNS`: a noun's forms after a number, as the language's plural rule picks them). English is the default and
says what the messages said before there was a choice. What quotes an article or a rule (titles, evidence, groups,
reasons) is never translated. Every language has every key (tests/unit/test_wording.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args

from watchfloor.schemas.config import LanguageCode

LANGUAGES: tuple[str, ...] = get_args(LanguageCode)

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "en": {
        # fields and headings of an alert's message
        "severity": "Severity",
        "rule": "Rule",
        "group": "Group",
        "sources": "Sources",
        "unconfirmed": " (unconfirmed)",
        "evidence": "Evidence",
        "evidence_of_first": "Evidence of the first alert",
        "new_evidence": "New evidence",
        "told_before": "Told before",
        # below the reports told before a revision; the second when a report of the alert's very time leads it now;
        # `_one`: of one report (outside trial 62, L7: "a late report" is one read later, maybe dated earlier)
        "told_note": (
            "Shown here before a report read later revised this alert: they still stand, kept as repeats of the "
            "revised alert, so the thread still counts them."
        ),
        "told_note_one": (
            "Shown here before a report read later revised this alert: it still stands, kept as a repeat of the "
            "revised alert, so the thread still counts it."
        ),
        "same_time_told_note": (
            "Shown here before a report of the same time, read later, came to lead this alert: they still stand, "
            "kept as repeats of the revised alert, so the thread still counts them."
        ),
        "same_time_told_note_one": (
            "Shown here before a report of the same time, read later, came to lead this alert: it still stands, "
            "kept as a repeat of the revised alert, so the thread still counts it."
        ),
        # what changed a revised alert (English: notice.revision_cause, which says the same)
        "cause_late": "A late report changed this alert",
        "cause_same_time": (
            "A report of the same time ({when}), read after this alert was raised, now leads it: reports of one time "
            "are taken in the order of their ids, as a backtest takes them"
        ),
        "cause_changed": "This alert changed: {cause}",
        "revised_quiet": "*Revised*: {cause} · now alert {id}",
        "revised_by": "*Revised* {why}: now alert {id} (see the thread)",
        "by_late_report": "by a late report",
        "by_same_time": "by a report of the same time, read later",
        "thread_state": " · thread {status}",
        "also_named": " · the reports told before also named {said}",
        "more_evidence": "+{n} more evidence not shown",
        "footer": "alert {id} · {fired}",
        "footer_two": "alert {id}{newest} · first: {first}, {fired}",
        # (English "fired", "again" and "sent_late" are said by the texts every channel shares, events.fired_text and
        # notice's earlier_text and later_text: these entries say the same, as the other languages' model)
        "fired": "fired {when}",
        "fired_first_seen": "fired {when} (first seen, undated)",
        "withdrawn_header": "Withdrawn: {title}",
        # status lines
        "follows": "Follows alert {id}",
        "story_alert": (
            "*New alert in this story*: another group than the thread's first alert {id} ({first}); not an update of it"
        ),
        # the thread's first alert's own group, raised again (past its realert) while the story was open
        "story_alert_same": (
            "*New alert in this story*: the group of the thread's first alert {id} ({first}) again, past its open "
            "period; not an update of it"
        ),
        "revises": "Revises alert {id}",
        "held_by_throttle": " (held by this channel's throttle)",
        "update": "Update",
        "revised": "Revised",
        "updated": "Updated",
        "withdrawn": "Withdrawn",
        "was": " (was {severity})",
        "confirmed_was": " (confirmed, was {severity})",
        "in_thread": "{count} in the thread",
        "in_group": "{count} of this alert's group",
        # the Sources field: of a thread's first message, of a reply rewritten with its own alert ({count}: the number
        # with its noun, for languages that need it)
        "independent_in_thread": "{n} independent in the thread",
        "independent_in_group": "{n} independent of this alert's group",
        "independent": "{n} independent",
        "thread_now": "thread now {state}",
        "thread_status": "now {state} · {sources} and {updates} in the thread",
        "group_status": "now {state} · {sources} and {updates} of this alert's group",
        "revised_above": "{cause}; the message above now shows the revised alert.",
        "restored": (
            "Restored by the publisher: {source} edited item {item} back to what alert {id} rested on before it was "
            "withdrawn."
        ),
        "changed_default": "a later report changed this alert",
        # the reasons watchfloor writes itself (alerts/notifiers/reasons.py; English: the reason as the engine wrote it)
        "reason_corrected": (
            "corrected by the publisher: {source} edited item {item} at {when}, and the new text no longer reports "
            "what this alert rested on"
        ),
        "reason_restated": (
            "corrected by the publisher: {source} edited item {item} at {when}, and the new text reports what this "
            "alert rested on as {now}, no longer {before}"
        ),
        "reason_late": (
            "a late report ({doc}, {when}) changed the history of this group: this alert would not have been raised"
        ),
        "reason_input_withdrawn": "its input alert {id} ({rule}) was withdrawn: {reason}",
        "reason_throttle_listed": "{reason} (it was listed in this channel's throttle summary)",
        "replaced_by": " · replaced by alert {id}",
        "stands_on": " · the thread stands on alert {id}: {status}",
        "see_thread": " (see the thread)",
        # after the thread's state on its first message: why the story fell back (notice.Setback); {why}: ": reason"
        # of a withdrawal, " by a late report" or " (reason)" of a revision, "" when the line says it already
        "setback_withdrawn": " · after alert {id}, {state}, was withdrawn{why}",
        "setback_revised": " · after alert {id}, {state}, was revised{why}",
        "again": "Again: the last alert of this rule and group was {id}, fired {when}{more}; a new story",
        "again_in_story": (
            "Again: the last alert of this rule and group was {id}, fired {when}{more}; a new alert of this group, "
            "told in this story"
        ),
        "again_more": " ({n} earlier in this channel)",
        "its_message": "its message",
        "sent_late": (
            "Sent late: {what} of this rule and group reached this channel first; the newest, {id}, is {state}, "
            "fired {when}"
        ),
        "a_later_alert": "a later alert",
        "later_alerts": "{n} later alerts",
        # what a thread's sources are: independent sources, or when corroboration counted reports (documents) of
        # fewer sources, the reports and the sources they came from
        "reports_from": "{reports} from {sources}",
        # buttons (their action ids and values are the same in every language)
        "ack": "Acknowledge",
        "silence": "Silence {hours}h",
        "unsubscribe": "Unsubscribe",
        "unsubscribe_title": "Unsubscribe?",
        "unsubscribe_text": "This channel will stop getting alerts of this rule.",
        "cancel": "Cancel",
        # the line that replaces the Acknowledge button; the note given with it (`alerts ack --note`)
        "acknowledged": ":white_check_mark: Acknowledged by {who} at {when}",
        "ack_note": ": “{note}”",
        # what the Slack app posts in a channel for everyone when a silence there starts or ends (its answers to whoever
        # typed or clicked stay English); {button}: the Silence button's own label
        "silenced_by_button": (
            ":mute: {who} silenced {what} in this channel for {hours}h, until {until} (the *{button}* button on an "
            "alert). {ends}"
        ),
        "silenced_by_command": (
            ":mute: {who} silenced {what} in this channel for {duration}, until {until}{why}. {ends}"
        ),
        "silence_ends": "(`{id}`; `{command} unsilence {id}` ends it)",
        "silence_reason": ": “{reason}”",
        "silence_no_reason": " (no reason given)",
        "unsilenced": (
            ":loud_sound: {who} ended silence `{id}` ({what}) in this channel: its alerts are sent here again."
        ),
        "every_rule": "every rule",
        # notification text (the fallback)
        "prefix_withdrawn": "Withdrawn: ",
        "prefix_update": "Update: ",
        "prefix_story": "New in this story: ",
        "prefix_revised": "Revised: ",
        "prefix_sent_late": "Sent late: ",
        # digests
        "no_new_alerts": "No new alerts.",
        "digest_unconfirmed": ", unconfirmed",
        "digest_alert": "alert",
        "digest_more": "{n} more not listed · ",
        "digest_silenced": "{n} silenced · ",
        "digest_footer": "digest {id}",
        "throttle_footer": "throttle summary {id}",
        # (English: Digest.left_out, which words these for every channel kind)
        "left_out": "held, then {parts}: not listed",
        "left_withdrawn": "{n} withdrawn",
        "left_revised_apart": "{n} revised (the revision is told on its own)",
        "left_revised_listed": "{n} revised (the revision is listed above)",
        "left_withdrawn_before_digest": "{n} withdrawn before this digest",
        "digest_title": "watchfloor digest · {count}{stories} · {when}",
        "digest_stories": " in {count}",
        "digest_earlier": " · after {count} of this story",
        "digest_via": " · via {labels}",
        "digest_story": " · in the story of alert `{id}` ({group})",
        "digest_story_first": " · the story's first alert ({group})",
        "digest_withdrawn_since": "Withdrawn since an earlier digest: {what} · alert {id} · {why}",
    },
    "ru": {
        "severity": "Важность",
        "rule": "Правило",
        "group": "Группа",
        "sources": "Источники",
        "unconfirmed": " (не подтверждено)",
        "evidence": "Сообщения",
        "evidence_of_first": "Сообщения первого оповещения",
        "new_evidence": "Новые сообщения",
        "told_before": "Показано ранее",
        "told_note": (
            "Показаны здесь до того, как сообщение, полученное позже, пересмотрело это оповещение: они остаются в "
            "силе — сохранены как повторы пересмотренного оповещения, и ветка по-прежнему их учитывает."
        ),
        "told_note_one": (
            "Показано здесь до того, как сообщение, полученное позже, пересмотрело это оповещение: оно остаётся в "
            "силе — сохранено как повтор пересмотренного оповещения, и ветка по-прежнему его учитывает."
        ),
        "same_time_told_note": (
            "Показаны здесь до того, как сообщение того же времени, полученное позже, стало главным в этом "
            "оповещении: они остаются в силе — сохранены как повторы пересмотренного оповещения, и ветка "
            "по-прежнему их учитывает."
        ),
        "same_time_told_note_one": (
            "Показано здесь до того, как сообщение того же времени, полученное позже, стало главным в этом "
            "оповещении: оно остаётся в силе — сохранено как повтор пересмотренного оповещения, и ветка "
            "по-прежнему его учитывает."
        ),
        "cause_late": "Запоздавшее сообщение изменило это оповещение",
        "cause_same_time": (
            "Сообщение того же времени ({when}), прочитанное после того, как оповещение было поднято, теперь главное "
            "в нём: сообщения одного времени берутся в порядке их идентификаторов, как в проверке на архиве"
        ),
        "cause_changed": "Оповещение изменено: {cause}",
        "revised_quiet": "*Пересмотрено*: {cause} · теперь оповещение {id}",
        "revised_by": "*Пересмотрено* {why}: теперь оповещение {id} (см. ветку)",
        "by_late_report": "запоздавшим сообщением",
        "by_same_time": "сообщением того же времени, прочитанным позже",
        "thread_state": " · ветка {status}",
        "also_named": " · показанные ранее сообщения называли также {said}",
        "more_evidence": "не показано ещё: {n}",
        "footer": "оповещение {id} · {fired}",
        "footer_two": "оповещение {id}{newest} · первое: {first}, {fired}",
        "fired": "поднято {when}",
        "fired_first_seen": "поднято {when} (время получения, без даты)",
        "withdrawn_header": "Отозвано: {title}",
        "follows": "Продолжает оповещение {id}",
        "story_alert": (
            "*Новое оповещение в этом сюжете*: другая группа, чем у первого оповещения ветки {id} ({first}); "
            "не его обновление"
        ),
        "story_alert_same": (
            "*Новое оповещение в этом сюжете*: снова группа первого оповещения ветки {id} ({first}), после его "
            "периода; не его обновление"
        ),
        "revises": "Пересматривает оповещение {id}",
        "held_by_throttle": " (его задержало ограничение этого канала)",
        "update": "Обновление",
        "revised": "Пересмотрено",
        "updated": "Обновлено",
        "withdrawn": "Отозвано",
        "was": " (была {severity})",
        # (not «была»: beside «подтверждено», the alert's, it read as one subject of two genders; trial 71 L2)
        "confirmed_was": " (подтверждено, раньше {severity})",
        "in_thread": "{count} в ветке",
        "in_group": "{count} по группе этого оповещения",
        "independent_in_thread": "{count} в ветке",
        "independent_in_group": "{count} по группе этого оповещения",
        "independent": "{count}",
        "thread_now": "ветка теперь {state}",
        "thread_status": "теперь {state} · {sources} и {updates} в ветке",
        "group_status": "теперь {state} · {sources} и {updates} по группе этого оповещения",
        "revised_above": "{cause}; сообщение выше теперь показывает пересмотренное оповещение.",
        "restored": (
            "Восстановлено издателем: {source} вернул в материале {item} то, на чём стояло оповещение {id} до отзыва."
        ),
        "changed_default": "более позднее сообщение изменило это оповещение",
        "reason_corrected": (
            "исправлено издателем: материал {item} ({source}) изменён {when}, и в новом тексте больше нет того, на чём "
            "основывалось оповещение"
        ),
        "reason_restated": (
            "исправлено издателем: материал {item} ({source}) изменён {when}, и новый текст подаёт то, на чём "
            "основывалось оповещение, как {now}, а не как {before}"
        ),
        "reason_late": (
            "запоздавшее сообщение ({doc}, {when}) изменило историю этой группы: это оповещение не было бы поднято"
        ),
        "reason_input_withdrawn": "отозвано входное оповещение {id} ({rule}): {reason}",
        "reason_throttle_listed": "{reason} (оно было в сводке ограничения этого канала)",
        "replaced_by": " · заменено оповещением {id}",
        "stands_on": " · ветка держится на оповещении {id}: {status}",
        "see_thread": " (см. ветку)",
        "setback_withdrawn": " · после отзыва оповещения {id} ({state}){why}",
        "setback_revised": " · после пересмотра оповещения {id} ({state}){why}",
        "again": ("Снова: последнее оповещение этого правила и группы — {id}, поднято {when}{more}; это новый сюжет"),
        "again_in_story": (
            "Снова: последнее оповещение этого правила и группы — {id}, поднято {when}{more}; новое оповещение этой "
            "группы в этом сюжете"
        ),
        "again_more": " (всего ранее в этом канале: {n})",
        "its_message": "его сообщение",
        "sent_late": (
            "Отправлено с опозданием: {what} этого правила и группы пришли в канал раньше; последнее, {id}, — "
            "{state}, поднято {when}"
        ),
        "a_later_alert": "более позднее оповещение",
        "later_alerts": "более поздние оповещения ({n})",
        "reports_from": "{reports} из {sources}",
        "ack": "Принято",
        "silence": "Тишина {hours} ч",
        "unsubscribe": "Отписаться",
        "unsubscribe_title": "Отписаться?",
        "unsubscribe_text": "Этот канал перестанет получать оповещения этого правила.",
        "cancel": "Отмена",
        "acknowledged": ":white_check_mark: Принято: {who}, {when}",
        "ack_note": ": «{note}»",
        "silenced_by_button": (
            ":mute: Тишина: {what} в этом канале на {hours} ч, до {until} — включил(а) {who} кнопкой *{button}* на "
            "оповещении. {ends}"
        ),
        "silenced_by_command": (
            ":mute: Тишина: {what} в этом канале на {duration}, до {until} — включил(а) {who}{why}. {ends}"
        ),
        "silence_ends": "(`{id}`; `{command} unsilence {id}` снимает её)",
        "silence_reason": ": «{reason}»",
        "silence_no_reason": " (причина не указана)",
        "unsilenced": (
            ":loud_sound: Тишина `{id}` ({what}) в этом канале снята — снял(а) {who}: оповещения снова приходят сюда."
        ),
        "every_rule": "все правила",
        "prefix_withdrawn": "Отозвано: ",
        "prefix_update": "Обновление: ",
        "prefix_story": "Новое в сюжете: ",
        "prefix_revised": "Пересмотрено: ",
        "prefix_sent_late": "С опозданием: ",
        "no_new_alerts": "Новых оповещений нет.",
        "digest_unconfirmed": ", не подтверждено",
        "digest_alert": "оповещение",
        "digest_more": "ещё {n} не в списке · ",
        "digest_silenced": "заглушено: {n} · ",
        "digest_footer": "сводка {id}",
        "throttle_footer": "сводка ограничения {id}",
        "left_out": "не в списке: {parts}",
        "left_withdrawn": "отозвано после задержки — {n}",
        "left_revised_apart": "пересмотрено после задержки — {n} (пересмотр отправлен отдельным сообщением)",
        "left_revised_listed": "пересмотрено после задержки — {n} (пересмотр — в списке выше)",
        "left_withdrawn_before_digest": "отозвано до этой сводки — {n}",
        "digest_title": "Сводка watchfloor · {count}{stories} · {when}",
        "digest_stories": " в {count}",
        "digest_earlier": " · после {count} этого сюжета",
        "digest_via": " · по подпискам: {labels}",
        "digest_story": " · в сюжете оповещения `{id}` ({group})",
        "digest_story_first": " · первое оповещение сюжета ({group})",
        "digest_withdrawn_since": "Отозвано после прошлой сводки: {what} · оповещение {id} · {why}",
    },
}

# A counted noun's forms: English (one, other); Russian (one, few, many): 1 источник, 2 источника, 5 источников.
NOUNS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "en": {
        "independent_source": ("independent source", "independent sources"),
        "update": ("update", "updates"),
        "report": ("report", "reports"),
        "source": ("source", "sources"),  # after "from"
        "alert": ("alert", "alerts"),
        "story": ("story", "stories"),
        "earlier_alert": ("earlier alert", "earlier alerts"),
    },
    "ru": {
        "independent_source": ("независимый источник", "независимых источника", "независимых источников"),
        "update": ("обновление", "обновления", "обновлений"),
        "report": ("сообщение", "сообщения", "сообщений"),
        "source": ("источника", "источников", "источников"),  # after «из»: the genitive
        "alert": ("оповещение", "оповещения", "оповещений"),
        "story": ("сюжете", "сюжетах", "сюжетах"),  # after «в»: the prepositional
        "earlier_alert": ("более раннего оповещения", "более ранних оповещений", "более ранних оповещений"),  # «после»
    },
}

# Severity levels as shown (upper case, as the English messages show them); a level no table knows is shown as named.
SEVERITIES: Mapping[str, Mapping[str, str]] = {
    "en": {"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "critical": "CRITICAL"},
    "ru": {"low": "НИЗКАЯ", "medium": "СРЕДНЯЯ", "high": "ВЫСОКАЯ", "critical": "КРИТИЧЕСКАЯ"},
}


# A duration's units as `format_duration` writes them (2h, 30m), in a language's words (2 ч, 30 мин)
DURATION_UNITS: Mapping[str, Mapping[str, str]] = {
    "en": {"w": "w", "d": "d", "h": "h", "m": "m", "s": "s"},
    "ru": {"w": " нед.", "d": " сут.", "h": " ч", "m": " мин", "s": " с"},
}


# A capture's field label by its name (the pack's ASCII slug), per language; a name no table knows is shown as
# English shows every one: "place_name" -> "Place name" (outside trial 62, M2: `*Place*` in a Russian message)
CAPTURE_LABELS: Mapping[str, Mapping[str, str]] = {
    # (the facts a GDELT event's alert carries: stream_processors/engine/gdelt.py, FACT_KEYS)
    "en": {"cameo_event": "CAMEO event", "action_geo": "Action place", "event_date": "Event date"},
    "ru": {
        "place": "Место",
        "location": "Место",
        "party": "Сторона",
        "side": "Сторона",
        "country": "Страна",
        "body": "Орган",
        "organization": "Организация",
        "person": "Лицо",
        "actor": "Участник",
        "target": "Цель",
        "weapon": "Оружие",
        "unit": "Подразделение",
        "city": "Город",
        "region": "Регион",
        "cameo_event": "Событие CAMEO",
        "goldstein": "Шкала Голдстейна",
        "mentions": "Упоминания",
        "actors": "Участники",
        "action_geo": "Место действия",
        "event_date": "Дата события",
    },
}


def plural_form(language: str, n: int) -> int:
    """Which of a counted noun's forms `n` takes in `language`: English 0 (one) or 1 (other); Russian 0 for 1, 21, 101
    (not 11), 1 for 2-4, 22-24 (not 12-14), 2 for the rest (0, 5-20, 25-30, ...)."""
    n = abs(n)
    if language == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return 0
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return 1
        return 2
    return 0 if n == 1 else 1


@dataclass(frozen=True)
class Wording:
    """The wording of one language: `text(key, ...)` a message, `count(n, noun)` "2 independent sources"."""

    language: str = "en"

    def text(self, key: str, **values: object) -> str:
        template = MESSAGES[self.language][key]
        return template.format(**values) if values else template

    def count(self, n: int, noun: str) -> str:
        return f"{n} {NOUNS[self.language][noun][plural_form(self.language, n)]}"

    def severity(self, level: str) -> str:
        return SEVERITIES[self.language].get(level, level.upper())

    def capture_label(self, key: str) -> str:
        """The field label of capture `key`: this language's for a known name, else the name as English shows it."""
        return CAPTURE_LABELS[self.language].get(key) or key.replace("_", " ").capitalize()

    def duration(self, written: str) -> str:
        """A duration as format_duration writes it ("2h") in this language ("2 ч"); another text as it is."""
        number, unit = written[:-1], written[-1:]
        units = DURATION_UNITS[self.language]
        return f"{number}{units[unit]}" if number.isdigit() and unit in units else written


ENGLISH = Wording()


def wording(language: str) -> Wording:
    """The wording of `language` (validated at load: schemas.config.Language)."""
    if language not in MESSAGES:
        raise ValueError(f"no wording for language {language!r} (known: {', '.join(LANGUAGES)})")
    return Wording(language)
