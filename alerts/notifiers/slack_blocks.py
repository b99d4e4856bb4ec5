"""Slack messages for notices: Block Kit blocks that Slack never refuses, and text that cannot ping or forge links.

Everything taken from articles or rules is escaped for mrkdwn (&, <, >) and cut to Slack's limits before it
goes in. Text quoted from articles (evidence sentences, titles) goes in plain_text objects with
`emoji: false`, which Slack renders as written: mrkdwn has no escape for *bold*, _italic_, ~strike~, `code` or
:emoji: (outside trial 16, L4: an article could make its sentence look like the alert's own wording). Captured
values in mrkdwn fields (groups, attributes) and the titles and groups of digest lines (mrkdwn, for their source
links: outside trial 19, L4) get a zero-width space after each such character instead.
Limits: header 150 characters, section text 3,000, a field 2,000, 10 fields, 10 context elements, 50 blocks.
The only control sequences in a message are the source links built here from http(s) URLs that cannot break
out of their <url|label> brackets (other schemes, and URLs too long to fit, stay unlinked), and times as Slack's
date token (`when_text`: shown in each reader's timezone, the UTC text its fallback), in mrkdwn only. Newlines are
flattened wherever one could change the layout (source names, group labels, fields).
The messages' own wording (labels, status lines, buttons) is a channel's language (`words`: alerts.notifiers.wording;
English by default); what they quote stays as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from watchfloor.alerts.slackapp.buttons import (
    ACK_ACTION,
    ACTIONS_BLOCK_ID,
    SILENCE_FOR_HOURS,
    VALUE_LIMIT,
    ButtonLabels,
    actions_block,
    parse_button_value,
)
from watchfloor.schemas.control import AlertAcknowledged
from watchfloor.schemas.events import (
    EPOCH,
    LATEST,
    Alert,
    Detection,
    Evidence,
    dated_ahead,
    evidence_label,
    evidence_to_show,
    evidence_when,
    fired_first_seen,
    fired_text,
    fired_time_text,
    input_alert_text,
)
from watchfloor.schemas.timefmt import utc_text

from ..notice import (
    Digest,
    DigestLine,
    EarlierStory,
    LaterAlerts,
    Notice,
    ThreadView,
    as_notice,
    earlier_text,
    independent_sources,
    later_text,
    revision_cause,
    thread_reports,
)
from .base import joined_values
from .reasons import CORRECTED, worded_reason
from .wording import ENGLISH, Wording

MAX_EVIDENCE = 5
MAX_TOLD = 3  # reports told before a revision, shown below its evidence (the rest counted)
MAX_SENTENCE = 600
MAX_LABEL = 200  # a link's label
MAX_LINK_URL = 1000  # longer URLs are not linked: with the rest of a section they could pass its limit
HEADER_LIMIT = 150  # Slack: header text
TEXT_LIMIT = 3000  # Slack: section text, context element
FIELD_LIMIT = 2000  # Slack: one section field
MAX_FIELDS = 10  # Slack: fields per section
MAX_FIELD_SECTIONS = 3  # sections of fields an alert message takes at most (a block budget of 50 in all)
MAX_BLOCKS = 50  # Slack: blocks per message
FALLBACK_LIMIT = 3000
METADATA_EVENT_TYPE = "watchfloor_alert"
DIGEST_EVENT_TYPE = "watchfloor_digest"  # a digest message's metadata (its key is `alert_id` too)
DIGEST_LISTED = 40  # alerts listed in one digest message; the rest are counted
DIGEST_WITHDRAWN = 10  # alerts of earlier digests withdrawn since, listed in one digest message (their count is not)

SEVERITY_EMOJI = {
    "low": ":large_blue_circle:",
    "medium": ":large_yellow_circle:",
    "high": ":large_orange_circle:",
    "critical": ":red_circle:",
}
SEVERITY_CHAR = {"low": "\U0001f535", "medium": "\U0001f7e1", "high": "\U0001f7e0", "critical": "\U0001f534"}


# --- text ---------------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape Slack's three control characters. Apply to every piece of text we did not write ourselves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack documents no escape for mrkdwn's formatting characters; a zero-width space after each keeps a pair from
# being read as one (invisible, but it stays in copied text: used only for captured values inside mrkdwn fields).
_INERT = str.maketrans({c: c + "\u200b" for c in "*_~`:"})


def inert(text: str) -> str:
    """`text` (escaped already) with mrkdwn's formatting characters made inert."""
    return text.translate(_INERT)


def plain(text: str) -> dict[str, Any]:
    """A plain_text object: shown as written, shortcodes not turned into emoji (Slack refuses empty text)."""
    return {"type": "plain_text", "text": text if text.strip() else "—", "emoji": False}


def one_line(text: str) -> str:
    return " ".join(text.split())


def fit(text: str, limit: int) -> str:
    """escape(text), cut (with an ellipsis) so the escaped result has at most `limit` characters.

    Cuts the raw text, never an escaped entity in half."""
    out = escape(text)
    if len(out) <= limit:
        return out
    parts: list[str] = []
    size = 0
    for ch in text:
        piece = escape(ch)
        if size + len(piece) > limit - 1:
            break
        parts.append(piece)
        size += len(piece)
    return "".join(parts) + "…"


def safe_url(url: str | None) -> str | None:
    """`url` ready to sit inside <url|label>, or None when it is not a plain http(s) URL of a linkable length.

    Rejects other schemes (javascript:, file:, mailto:, ...), any '<', '>', '|', whitespace or control
    character that could end the link early or smuggle in a second one, and URLs over MAX_LINK_URL."""
    if not url or len(url) > MAX_LINK_URL:
        return None
    if any(c in "<>|" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    safe = url.replace("&", "&amp;")
    return safe if len(safe) <= MAX_LINK_URL else None


# A host name in a label: "www.reuters.com", "https://reuters.com/world", "Reuters.com", and lookalikes in other
# scripts ("rеuters.com" with a Cyrillic е), which are names of no host the link could have.
_HOST_IN_LABEL = re.compile(r"(?:[^\W\d_][\w+.-]*://)?((?:[\w-]+\.)+[^\W\d_]{2,})")
# What a label may hide a dot or a name behind: zero-width characters, and dots of other scripts and widths
# (NFKC folds full-width letters and "․" / "．" to ASCII; the ideographic full stops it keeps).
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_DOTS = str.maketrans({"\u3002": ".", "\uff61": "."})


def link(url: str | None, label: str) -> str:
    """<url|label> with an escaped one-line label when the URL is safe, else just the escaped label. A label that
    names another host than the link's own ("https://www.reuters.com/…" on a link to evil.example: the source name
    is a feed's own title, and the feed also writes the link) gets the link's host after it, so the text cannot
    pass a link off as another site's."""
    text = fit(one_line(label or url or ""), MAX_LABEL)
    safe = safe_url(url)
    if not (safe and text):
        return text
    host = (urlsplit(url or "").hostname or "").lower()
    seen = unicodedata.normalize("NFKC", label.translate(_INVISIBLE)).translate(_DOTS)
    named = [m.group(1).lower() for m in _HOST_IN_LABEL.finditer(seen)]
    if any(not _same_site(n, host) for n in named):
        shown = escape(host)
        text = fit(one_line(label), max(1, MAX_LABEL - len(shown) - 3)) + f" ({shown})"
    return f"<{safe}|{text}>"


def _same_site(named: str, host: str) -> bool:
    """Whether a host named in a label is the link's host, or its domain ("reuters.com" for www.reuters.com)."""
    try:  # a label in Unicode ("пример.рф") names the host the link spells in punycode
        named = named.encode("idna").decode("ascii")
    except UnicodeError:  # (a mixed-script lookalike may not encode: then it is surely not the link's host)
        pass
    named, host = named.removeprefix("www."), host.removeprefix("www.")
    return host == named or host.endswith("." + named)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text if text.strip() else "—", "verbatim": True}  # Slack refuses empty text


def _field(name: str, value: str, *, quoted: bool = True) -> dict[str, Any]:
    """A "*Name*\\nvalue" field of at most FIELD_LIMIT characters (`name` is ours; `value` is raw text, made inert
    when `quoted`: captured from articles)."""
    head = f"*{name}*\n"
    if not quoted:
        return _mrkdwn(head + fit(one_line(value), FIELD_LIMIT - len(head)))
    # each character may grow by one (inert): cut to half the room, which no captured value comes near
    return _mrkdwn(head + inert(fit(one_line(value), (FIELD_LIMIT - len(head)) // 2)))


def cut_mrkdwn(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` (mrkdwn, built here) in at most `limit` characters: a cut never falls inside a `<…>` (a link or a date
    token cut in half would show its raw syntax), nor inside an escaped entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    if cut.rfind("&") > cut.rfind(";"):
        cut = cut[: cut.rfind("&")]
    return cut + "…"


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(cut_mrkdwn(text))]}


# Slack's date token: Slack shows the time in each reader's own timezone and clock ({date_num} {time}: "2024-03-08
# 12:00" for a desk in Moscow, for an article of 12:00+03:00), and the text after `|` wherever it cannot (copied text,
# clients that do not render it): the UTC text, as every time was shown before (outside trial 35).
DATE_TOKEN = "{date_num} {time}"


def when_text(at: datetime) -> str:
    """`at` for mrkdwn: Slack's date token for its epoch second, with the UTC text as its fallback
    (`<!date^1709888400^{date_num} {time}|2024-03-08 09:00 UTC>`). A time the token cannot carry keeps the UTC text
    alone, never raising: one before 1970 (the token takes a count of seconds since, written in digits) or from the
    year 3000 on (outside the years an input may be dated: a date at the calendar's edge, from an older store, shown
    as given by utc_text). Only for mrkdwn: plain_text shows the token's syntax as written."""
    shown = utc_text(at)
    try:
        aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # (utc_text reads a naive time as UTC too)
        if not EPOCH <= aware < LATEST:
            return shown
        epoch = int(aware.timestamp())
    except (OverflowError, ValueError):
        return shown
    return f"<!date^{epoch}^{DATE_TOKEN}|{escape(shown)}>"


def own_reason(reason: str, words: Wording) -> str | None:
    """A withdrawal's or revision's reason watchfloor wrote itself, in `words`' language and mrkdwn (escaped, its time
    a date token); None in English and for a reason someone else wrote (shown as written: reasons.worded_reason)."""
    return worded_reason(one_line(reason), words, when_text, escape)


def severity_label(severity: str, confidence: str | None, words: Wording = ENGLISH) -> str:
    label = f"{SEVERITY_EMOJI.get(severity, '')} {escape(words.severity(severity))}".strip()
    if confidence == "unconfirmed":
        label += words.text("unconfirmed")
    return label


def _evidence_text(ev: Evidence, fired_at: datetime) -> str:
    """Where and when a report said it (mrkdwn: its link); the sentence itself goes in a plain_text block."""
    when = evidence_when(ev, when_text(ev.published_at), dated_ahead(ev.published_at, fired_at))
    head = f"{link(ev.url, evidence_label(ev))} · {when}"
    if ev.modality != "asserted":
        head += f" · _{escape(ev.modality)}_"
    return head


def _evidence_item(ev: Evidence, fired_at: datetime) -> list[dict[str, Any]]:
    ours = input_alert_text(ev)  # a composed rule's input alert: our title, not the outlet's words
    sentence = fit(one_line(ours if ours is not None else ev.sentence), MAX_SENTENCE)
    head = _mrkdwn(_evidence_text(ev, fired_at))
    return [{"type": "section", "text": head}, {"type": "section", "text": plain(sentence)}]


def _group(det: Detection, label: str) -> str:
    return label or ", ".join(det.group.values())


# --- blocks -------------------------------------------------------------------------------------------------


def _evidence_blocks(
    evidence: tuple[Evidence, ...],
    title: str,
    fired_at: datetime,
    total: int = 0,
    most: int = MAX_EVIDENCE,
    words: Wording = ENGLISH,
) -> list[dict[str, Any]]:
    """The evidence, `most` of it, and how many reports there are in all (`total`, when the alert
    rests on more than it holds: then it holds the first and the newest, and so does the message)."""
    if not evidence:
        return []
    count = max(total, len(evidence))
    shown = evidence_to_show(evidence, count, most)
    blocks: list[dict[str, Any]] = [{"type": "divider"}, _context(f"*{title}* ({count})")]
    blocks += [block for ev in shown for block in _evidence_item(ev, fired_at)]
    if count > len(shown):
        blocks.append(_context(words.text("more_evidence", n=count - len(shown))))
    return blocks


def _footer(
    key: str, det: Detection, first: str | None = None, thread: ThreadView | None = None, words: Wording = ENGLISH
) -> dict[str, Any]:
    """`alert KEY · fired …`; `first`: the message shows a thread whose newest standing alert, KEY, is what its
    buttons act on, and `first` is the alert it first showed, which `det` is: `alert KEY, fired … · first: FIRST,
    fired …`, each time beside its own alert (trial MED-3: after a corroboration raised MEDIUM to HIGH, the footer
    named the MEDIUM alert while Acknowledge took the HIGH one; trial 46, LOW-4: with the one time after both ids, the
    first alert's time read as the newest's)."""
    fired = _fired(when_text(det.fired_at), fired_first_seen(det.evidence, det.fired_at), words)
    if first is not None and first != key:
        newest = ""
        if thread is not None and thread.newest_fired_at is not None:
            newest = ", " + _fired(when_text(thread.newest_fired_at), thread.newest_first_seen, words)
        return _context(words.text("footer_two", id=fit(key, 200), newest=newest, first=fit(first, 200), fired=fired))
    return _context(words.text("footer", id=fit(key, 200), fired=fired))


def _fired(when: str, first_seen: bool, words: Wording) -> str:
    """schemas.events.fired_text in `words` (English: fired_text itself)."""
    if words.language == ENGLISH.language:
        return fired_text(when, first_seen)
    return words.text("fired_first_seen" if first_seen else "fired", when=when)


def _buttons(
    notice: Notice, alert: Alert, thread: ThreadView | None = None, words: Wording = ENGLISH
) -> list[dict[str, Any]]:
    """Acknowledge, Silence 24h, Unsubscribe (alerts.slackapp.buttons). Left out when the alert's own id, rule
    and channel cannot fit a button's value (2,000): such an alert could not be named by a click anyway. `thread`:
    the message is the thread's first, showing the thread's state: its buttons act on what it shows, the thread's
    newest standing alert, and its Acknowledge takes the thread's earlier standing alerts with it (outside trial 29,
    F1: the button of the first, MEDIUM alert under a message that read HIGH acknowledged the MEDIUM alert only)."""
    det = alert.detection
    alert_id = alert.id
    standing: tuple[str, ...] = ()
    if thread is not None and thread.newest_id is not None:
        alert_id = thread.newest_id
        standing = tuple(i for i in thread.standing_ids if i != alert_id)
    block = actions_block(alert_id, det.rule, notice.channel, dict(det.group), standing, labels=button_labels(words))
    if any(len(str(e.get("value", ""))) > VALUE_LIMIT for e in block["elements"]):
        return []
    return [block]


def button_labels(words: Wording) -> ButtonLabels:
    """The buttons' visible text in `words` (their action ids and values are the same in every language)."""
    return ButtonLabels(
        ack=words.text("ack"),
        silence=words.text("silence", hours=SILENCE_FOR_HOURS),
        unsubscribe=words.text("unsubscribe"),
        unsubscribe_title=words.text("unsubscribe_title"),
        unsubscribe_text=words.text("unsubscribe_text"),
        cancel=words.text("cancel"),
    )


def _full(
    notice: Notice,
    alert: Alert,
    *,
    words: Wording,
    severity: str,
    confidence: str | None,
    status: str = "",
    sources: str | None = None,
    withdrawn: bool = False,
    lead: str = "",
    thread: ThreadView | None = None,
    told: tuple[Evidence, ...] = (),
) -> list[dict[str, Any]]:
    """The whole alert: header, facts, description, evidence, footer, buttons; `status` says what changed, `lead`
    what a reader must know before the rest (it comes above the header); `told`, the reports the message showed
    before late reports revised its alert, which still stand (ThreadView.told_reports)."""
    det = alert.detection
    title = one_line(det.title) or one_line(det.rule) or "alert"
    # (Trial 24, F6: "Sent late" in the status line came after the header and the severity, which it qualifies.)
    blocks: list[dict[str, Any]] = [_context(lead)] if lead else []
    blocks += [
        {
            "type": "header",
            "text": plain(fit(words.text("withdrawn_header", title=title) if withdrawn else title, HEADER_LIMIT)),
        },
    ]
    fields = [_mrkdwn(f"*{words.text('severity')}*\n{severity_label(severity, confidence, words)}")]
    fields.append(_field(words.text("rule"), det.rule, quoted=False))  # (the config's: an id people copy)
    if det.group:
        fields.append(_field(words.text("group"), _group(det, notice.group_label)))
    if sources is not None:
        fields.append(_field(words.text("sources"), sources))
    for key, values in det.attributes.items():
        name = fit(one_line(words.capture_label(key)), 100)
        fields.append(_field(name, joined_values(values)))
    # A section holds at most 10 fields: the rest go in the sections after it, not dropped (outside trial 70, H1: a
    # GDELT alert with its rule's captures lost its event date, actors and place).
    for at in range(0, min(len(fields), MAX_FIELDS * MAX_FIELD_SECTIONS), MAX_FIELDS):
        blocks.append({"type": "section", "fields": fields[at : at + MAX_FIELDS]})
    if status:
        blocks.append(_context(status))
    if det.description:
        blocks.append({"type": "section", "text": _mrkdwn(fit(det.description, TEXT_LIMIT))})
    buttons = [] if withdrawn else _buttons(notice, alert, thread, words)
    newest = thread.newest_id if thread is not None and buttons else None
    # Under a footer that names the thread's newest alert first, the evidence shown is still the first alert's:
    # labelled as such (outside trial 64, LOW-2: "Evidence (1)" under a HIGH alert resting on two reports read as a
    # one-report HIGH)
    label = "evidence_of_first" if newest is not None and newest != alert.id else "evidence"
    blocks += _evidence_blocks(det.evidence, words.text(label), det.fired_at, det.reports, words=words)
    if told:
        # (dated against themselves: later than the revised alert's point is what they are, not "dated ahead")
        told_at = max(ev.published_at for ev in told)
        blocks += _evidence_blocks(told, words.text("told_before"), told_at, most=MAX_TOLD, words=words)
        note = "same_time_told_note" if det.same_time and det.cause is None else "told_note"
        blocks.append(_context(words.text(note + ("_one" if len(told) == 1 else ""))))
    # the alert the buttons act on (the thread's newest standing one), as the footer names it
    if newest is not None:
        blocks.append(_footer(newest, det, alert.id, thread, words))
    else:
        blocks.append(_footer(alert.id, det, words=words))
    blocks += buttons
    return blocks[:MAX_BLOCKS]


def _new_evidence(alert: Alert, before: Alert) -> tuple[Evidence, ...]:
    seen = {ev.event_id for ev in before.detection.evidence}
    return tuple(ev for ev in alert.detection.evidence if ev.event_id not in seen)


def _reply(notice: Notice, thread: ThreadView, words: Wording) -> list[dict[str, Any]]:
    """A follow-up, revision or withdrawal under its thread: what changed, no rule description again."""
    det = notice.alert.detection
    if notice.kind == "retraction":
        why = fit(one_line(notice.reason or words.text("changed_default")), 1500)
        text = f"*{words.text('withdrawn')}*: {own_reason(notice.reason or '', words) or why}"
        if notice.superseded_by:
            text += words.text("replaced_by", id=fit(notice.superseded_by, 100))
        # The withdrawn alert's id, as `alerts list` names it (the withdrawal's own key is in the metadata only).
        footer = _footer(notice.alert.id, thread.target.detection, words=words)
        return [{"type": "section", "text": _mrkdwn(text)}, footer]
    word = words.text("revised" if notice.kind == "revision" else "update")
    parts = [f"*{word}*", severity_label(det.severity, det.confidence, words)]
    if notice.escalated_from:
        # A confirmation is why most stories go up: said, as the email says it (outside trial 64, LOW-1).
        was = "confirmed_was" if det.confidence == "confirmed" else "was"
        parts[-1] += words.text(was, severity=escape(words.severity(notice.escalated_from)))
    # The severity is this alert's; the sources are the thread's (a revision resting on one report, in a thread of
    # two, read "unconfirmed · 2 independent sources" as a contradiction); and when the thread stands elsewhere (a
    # late report revising an older MEDIUM alert of a thread whose newest alert is HIGH), it says so: not a downgrade.
    where = "in_group" if thread.of_group else "in_thread"
    parts.append(words.text(where, count=_sources_text(thread.sources, thread.reports, words)))
    if (thread.severity, thread.confidence) != (det.severity, det.confidence):
        parts.append(words.text("thread_now", state=severity_label(thread.severity, thread.confidence, words)))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(" · ".join(parts))}]
    if notice.kind == "revision":
        blocks.append(_context(words.text("revised_above", cause=_revision_cause(det, words))))
    # (outside trial 64, LOW-5: a claim edited back after a denial read as plain new evidence)
    for r in thread.restored:
        if (named := CORRECTED.match(r.reason)) is not None:
            source, item = escape(named["source"]), escape(named["item"])
            said = words.text("restored", source=source, item=item, id=fit(r.alert_id, 100))
            blocks.append(_context(fit(said, TEXT_LIMIT)))
    new = _new_evidence(notice.alert, thread.target)
    blocks += _evidence_blocks(new, words.text("new_evidence"), det.fired_at, words=words) if new else []
    # the alert's id, as `alerts list` names it (not a revision's key)
    blocks.append(_footer(notice.alert.id, det, words=words))
    blocks += _buttons(notice, notice.alert, words=words)
    return blocks[:MAX_BLOCKS]


def build_blocks(notice: Notice | Alert, words: Wording = ENGLISH) -> list[dict[str, Any]]:
    """The blocks of the message that delivers `notice` (a bare alert: a new alert of its own), worded in `words`."""
    notice = as_notice(notice)
    if notice.thread is not None:
        return _reply(notice, notice.thread, words)
    det = notice.alert.detection
    if notice.kind == "retraction":  # a withdrawal of its own (its alert had no message: a throttle summary's)
        why = escape(one_line(notice.reason or words.text("changed_default")))
        status = f"{words.text('prefix_withdrawn')}{own_reason(notice.reason or '', words) or why}"
        if notice.superseded_by:
            status += words.text("replaced_by", id=escape(fit(notice.superseded_by, 100)))
        severity, confidence = det.severity, det.confidence
        return _full(
            notice, notice.alert, words=words, severity=severity, confidence=confidence, status=status, withdrawn=True
        )
    status = ""
    if notice.kind in ("followup", "revision") and notice.parent_id:
        status = words.text("revises" if notice.kind == "revision" else "follows", id=fit(notice.parent_id, 100))
    elif notice.kind == "alert" and notice.revises_held:
        status = words.text("revises", id=fit(notice.revises_held, 100)) + words.text("held_by_throttle")
    if notice.kind == "alert" and notice.story is not None:
        # another group's alert in a story's thread (thread_by): said as what it is, never as an update
        story = words.text(
            "story_alert_same" if notice.story.same_group else "story_alert",
            id=fit(notice.story.alert_id, 100),
            first=escape(fit(notice.story.group_label, 200)),
        )
        status = " · ".join(filter(None, [story, status]))
    if notice.earlier is not None:
        status = " · ".join(filter(None, [status, earlier_line(notice.earlier, words)]))
    lead = _later_line(notice.later, words) if notice.later is not None else ""
    return _full(
        notice, notice.alert, words=words, severity=det.severity, confidence=det.confidence, status=status, lead=lead
    )


def earlier_line(earlier: EarlierStory, words: Wording = ENGLISH) -> str:
    """earlier_text in mrkdwn, with a link to the message that tells that story when the notifier found one
    (EarlierStory.link)."""
    text = _earlier_text(earlier, words)
    if not earlier.link.startswith("https://"):
        return text
    return f"{text} (<{earlier.link}|{words.text('its_message')}>)"


def with_earlier(
    blocks: Sequence[Mapping[str, Any]], was: EarlierStory, now: EarlierStory, words: Wording = ENGLISH
) -> list[dict[str, Any]] | None:
    """A message's blocks as Slack has them, its "Again: …" line that names `was` (with the link to that story's
    message it may carry) saying `now` instead (earlier_line: `now.link` filled in by the notifier); None when no
    block says that line (the message was cut, or says another one: left as it is)."""
    said = re.compile(re.escape(_earlier_text(was, words)) + r"(?: \(<https://[^|<>]*\|[^<>]*>\))?")
    out = [dict(b) for b in blocks]
    for block in out:
        if block.get("type") != "context":
            continue
        elements = [dict(e) for e in block.get("elements") or ()]
        for element in elements:
            text = element.get("text")
            if isinstance(text, str) and (m := said.search(text)):
                element["text"] = text[: m.start()] + earlier_line(now, words) + text[m.end() :]
                block["elements"] = elements
                return out
    return None


def _earlier_text(earlier: EarlierStory, words: Wording) -> str:
    """notice.earlier_text in mrkdwn and `words` (English, and the rare "Same story as …" line in any language:
    earlier_text itself)."""
    if words.language == ENGLISH.language or earlier.within is not None:
        return earlier_text(earlier, when_text, escape)
    more = words.text("again_more", n=earlier.count) if earlier.count > 1 else ""
    key = "again_in_story" if earlier.in_story else "again"
    return words.text(key, id=escape(earlier.alert_id), when=when_text(earlier.fired_at), more=more)


def _later_line(later: LaterAlerts, words: Wording) -> str:
    """notice.later_text in mrkdwn and `words` (English: later_text itself)."""
    if words.language == ENGLISH.language:
        return later_text(later, when_text, escape)
    state = words.severity(later.severity) + (words.text("unconfirmed") if later.confidence == "unconfirmed" else "")
    what = words.text("a_later_alert") if later.count == 1 else words.text("later_alerts", n=later.count)
    return words.text(
        "sent_late", what=what, id=escape(later.alert_id), state=escape(state), when=when_text(later.fired_at)
    )


def _sources_text(sources: int, reports: int, words: Wording) -> str:
    """What a thread's reports are: "3 independent sources"; when they all come from one source, several reports of
    it (`distinct: document`, which confirms a desk reading one outlet by a second document; or copies of one
    story), the reports and the source, "2 reports from 1 source" (outside trial 57, MED-3: "1 independent source"
    beside a confirmation by two documents read as "confirmed on a single source"). Several sources are said as
    before: there the count is no contradiction."""
    if _one_source_of_several_reports(sources, reports):
        return words.text(
            "reports_from", reports=words.count(reports, "report"), sources=words.count(sources, "source")
        )
    return words.count(sources, "independent_source")


def _one_source_of_several_reports(sources: int, reports: int) -> bool:
    return sources == 1 and reports > 1


def _thread_status(thread: ThreadView, words: Wording = ENGLISH) -> str:
    """The thread's state in words: "now HIGH · 3 independent sources and 2 updates in the thread"."""
    return words.text(
        "group_status" if thread.of_group else "thread_status",
        state=severity_label(thread.severity, thread.confidence, words),
        sources=_sources_text(thread.sources, thread.reports, words),
        updates=words.count(thread.updates, "update"),
    )


def _revision_cause(det: Detection, words: Wording) -> str:
    """notice.revision_cause of "this alert" in mrkdwn and `words` (English: revision_cause itself)."""
    if words.language == ENGLISH.language:
        return revision_cause(det, when=when_text, quote=escape)
    if det.cause is None and det.same_time:
        return words.text("cause_same_time", when=when_text(det.fired_at))
    if det.cause is None:
        return words.text("cause_late")
    return words.text("cause_changed", cause=own_reason(det.cause, words) or escape(det.cause))


def told_before(shown: Alert, now: Alert, words: Wording = ENGLISH) -> str:
    """What the message said that the revised alert no longer carries (outside trial 9: "(Kursk)" dropped when a late
    report that names no place became the alert's first): " · the reports told before also named place Kursk", or
    "". Those reports still stand (held back as repeats of the revised alert), so the desk keeps what it was told."""
    had = [(k, v) for k, vs in shown.detection.attributes.items() for v in vs]
    had += list(shown.detection.group.items())
    keep = {(k, v) for k, vs in now.detection.attributes.items() for v in vs} | set(now.detection.group.items())
    lost = list(dict.fromkeys(kv for kv in had if kv not in keep))
    if not lost:
        return ""
    said = ", ".join(f"{k} {v}" for k, v in lost[:10])
    return words.text("also_named", said=fit(escape(said), 300))


def build_update(notice: Notice, words: Wording = ENGLISH) -> tuple[str, list[dict[str, Any]]]:
    """Text and blocks that replace the message `notice` changes: the thread's first message, showing the thread's
    state, or a reply (a follow-up a late report revised), showing its own alert's (build_first_update then says
    the thread's state on the first message)."""
    thread = notice.thread
    assert thread is not None, "only threaded notices update a message"
    target = thread.target
    if thread.withdrawn is not None:  # withdrawn by this notice: the first message names what the thread stands on
        first = thread if thread.target_is_first else None
        return _withdrawn(notice, target, thread.withdrawn, first, thread.acknowledged, words)
    if thread.target_is_first and thread.first_withdrawn is not None:
        # A follow-up told after the first alert was withdrawn: that alert stays withdrawn (not "Updated", with its
        # Acknowledge button back, as if it stood); the message says which alert the thread stands on now.
        return _withdrawn(notice, target, thread.first_withdrawn, thread, thread.first_acknowledged, words)
    if thread.revised_by is not None:
        alert = notice.alert  # the revised alert is what stands now
        if thread.quiet:  # no reply to see: the message itself says what changed (a report of its very time leads)
            cause = _revision_cause(alert.detection, words)
            status = words.text("revised_quiet", cause=cause, id=fit(thread.revised_by, 100))
        else:
            if alert.detection.cause is not None:
                cause = alert.detection.cause
                why = f"({own_reason(cause, words) or escape(fit(cause, 300))})"
            else:  # (trial 32, L4: a report of the alert's own time, read later, is no late report)
                why = words.text("by_same_time" if alert.detection.same_time else "by_late_report")
            status = words.text("revised_by", why=why, id=fit(thread.revised_by, 100))
        status += told_before(target, alert, words)
    else:
        alert = target
        status = f"*{words.text('updated')}* · {_thread_status(thread, words)}"
    if not thread.target_is_first:  # a reply: its own alert's state (the first message says the thread's)
        det = alert.detection
        told = [thread.told_reports]
        sources = _reply_sources(independent_sources([det], told), thread_reports([det], told), words)
        blocks = _full(
            notice,
            alert,
            words=words,
            severity=det.severity,
            confidence=det.confidence,
            status=status,
            sources=sources,
            told=thread.told_reports,
        )
        return fallback_text(alert, words=words), _acknowledged(
            blocks, thread.acknowledged, alert.id, thread.acknowledged_before, words
        )
    if thread.revised_by is not None:
        status += words.text("thread_state", status=_thread_status(thread, words))
        status += _setback_text(thread, words, said=alert.detection.cause)
    else:
        status += _setback_text(thread, words)
    lead, status, prefix = _first_place(thread, status, words)
    blocks = _full(
        notice,
        alert,
        words=words,
        severity=thread.severity,
        confidence=thread.confidence,
        status=status,
        sources=_first_sources(thread, words),
        thread=thread,
        told=thread.told_reports,
        lead=lead,
    )
    text = fallback_text(alert, prefix=prefix, state=(thread.severity, thread.confidence), words=words)
    return text, _first_acknowledged(blocks, thread, words)


def _setback_text(thread: ThreadView, words: Wording, said: str | None = None) -> str:
    """Why the thread's first message shows a lower state than an alert of its story stood at (ThreadView.setback),
    for after its state: " · after alert X, HIGH, was withdrawn: corrected by the publisher: …" (outside trial 62, L6:
    "Updated · now MEDIUM (unconfirmed)" no longer said why the HIGH story fell back). `said`: a reason the line says
    already (a revision's own cause), not said twice. "" when nothing took the thread down."""
    setback = thread.setback
    if setback is None or (setback.revision is not None and setback.revision.id == thread.revised_by):
        return ""  # (a revision's rewrite says what it revised and why itself)
    state = escape(words.severity(setback.severity))
    if setback.confidence == "unconfirmed":
        state += words.text("digest_unconfirmed")
    revision = setback.revision
    if revision is None:
        reason = setback.reason
        why = "" if reason == said else f": {own_reason(reason, words) or escape(fit(one_line(reason), 1500))}"
        return words.text("setback_withdrawn", id=fit(setback.alert_id, 100), state=state, why=why)
    if revision.cause is None:
        why = " " + words.text("by_same_time" if revision.same_time else "by_late_report")
    elif revision.cause == said:
        why = ""
    else:
        why = f" ({own_reason(revision.cause, words) or escape(fit(one_line(revision.cause), 1500))})"
    return words.text("setback_revised", id=fit(setback.alert_id, 100), state=state, why=why)


def _first_sources(thread: ThreadView, words: Wording) -> str:
    """The Sources field of the thread's first message: "2 independent in the thread", or, when corroboration
    are several reports of one source, "2 reports from 1 source in the thread" (_sources_text)."""
    if _one_source_of_several_reports(thread.sources, thread.reports):
        where = "in_group" if thread.of_group else "in_thread"
        return words.text(where, count=_sources_text(thread.sources, thread.reports, words))
    return words.text(
        "independent_in_group" if thread.of_group else "independent_in_thread",
        n=thread.sources,
        count=words.count(thread.sources, "independent_source"),
    )


def _reply_sources(sources: int, reports: int, words: Wording) -> str:
    """The Sources field of a reply rewritten with its own alert: "2 independent", or "2 reports from 1 source"."""
    if _one_source_of_several_reports(sources, reports):
        return _sources_text(sources, reports, words)
    return words.text("independent", n=sources, count=words.count(sources, "independent_source"))


def _first_place(thread: ThreadView, status: str, words: Wording = ENGLISH) -> tuple[str, str, str]:
    """What the thread's first message said of its story's place when it was posted, kept by its update (trial 46,
    MED-3): the "Sent late: …" lead above the header, the "Again: …" line after `status`, and the text's prefix."""
    later = thread.first_later
    lead = _later_line(later, words) if later is not None else ""
    if thread.first_earlier is not None:
        status = f"{status} · {earlier_line(thread.first_earlier, words)}"
    return lead, status, words.text("prefix_sent_late") if later is not None else ""


def build_first_update(notice: Notice, words: Wording = ENGLISH) -> tuple[str, list[dict[str, Any]]] | None:
    """Text and blocks that replace the thread's first message when `notice` changed a reply (build_update): what
    it shows (its alert's latest revision sent) with the thread's state. None when the first message is the one
    build_update rewrites."""
    thread = notice.thread
    if thread is None or thread.first is None:
        return None
    if thread.first_withdrawn is not None:  # it stays withdrawn, and says what the thread stands on now
        return _withdrawn(notice, thread.first, thread.first_withdrawn, thread, thread.first_acknowledged, words)
    status = f"*{words.text('updated')}* · {_thread_status(thread, words)}{_setback_text(thread, words)}"
    lead, status, prefix = _first_place(thread, status, words)
    blocks = _full(
        notice,
        thread.first,
        words=words,
        severity=thread.severity,
        confidence=thread.confidence,
        status=status,
        sources=_first_sources(thread, words),
        thread=thread,
        told=thread.first_told_reports,
        lead=lead,
    )
    text = fallback_text(thread.first, prefix=prefix, state=(thread.severity, thread.confidence), words=words)
    return text, _first_acknowledged(blocks, thread, words)


def _withdrawn(
    notice: Notice,
    alert: Alert,
    why: str,
    thread: ThreadView | None = None,
    ack: AlertAcknowledged | None = None,
    words: Wording = ENGLISH,
) -> tuple[str, list[dict[str, Any]]]:
    """The message of a withdrawn alert. `thread`, for the thread's first message: when another alert of the thread
    stands, the message names it and the thread's state ("· the thread stands on alert X: now HIGH · …"). `ack`: who
    acknowledged the alert before it was withdrawn, which the message keeps saying (outside trial 30, F6)."""
    status = f"*{words.text('withdrawn')}*: {own_reason(why, words) or fit(one_line(why), 1500)}"
    if thread is not None and thread.newest_id is not None:
        status += words.text("stands_on", id=fit(thread.newest_id, 100), status=_thread_status(thread, words))
    else:
        status += words.text("see_thread")
    det = alert.detection
    blocks = _full(
        notice, alert, words=words, severity=det.severity, confidence=det.confidence, status=status, withdrawn=True
    )
    if ack is not None:
        from watchfloor.alerts.slackapp.commands import who  # not at import: the app's modules import us

        text = f":ballot_box_with_check: Acknowledged by {who(ack.by)} at {when_text(ack.at)}, before it was withdrawn"
        blocks = [*blocks, {"type": "context", "elements": [_mrkdwn(cut_mrkdwn(text))]}][:MAX_BLOCKS]
    return fallback_text(alert, prefix=words.text("prefix_withdrawn"), words=words), blocks


def _acknowledged(
    blocks: list[dict[str, Any]],
    ack: AlertAcknowledged | None,
    shown_id: str | None = None,
    before: AlertAcknowledged | None = None,
    words: Wording = ENGLISH,
) -> list[dict[str, Any]]:
    """The message keeps saying who acknowledged it (and loses that button). When what was acknowledged is an alert
    a late report has revised since into `shown_id`, the one the message shows now, it says that instead, and keeps
    the button, for the revision (outside trial 30, F1: "now alert f490… · Acknowledged by kim", no button, while
    the record and the reply below had f490… unacknowledged; a revision may rest on other reports, or change the
    severity). With no `ack`, `before` (an acknowledgement of an earlier raising of the alert shown, reinstated since)
    is said the same way, the button kept."""
    if ack is None:
        if before is None:
            return blocks
        return _said_before(blocks, _reinstated_text(before))
    if shown_id is not None and ack.alert_id != shown_id:
        from watchfloor.alerts.slackapp.commands import who  # not at import: the app's modules import us

        text = (
            f":ballot_box_with_check: Alert {fit(ack.alert_id, 100)} acknowledged by {who(ack.by)} at "
            f"{when_text(ack.at)}, before a later report revised it into {fit(shown_id, 100)}, which is not "
            "acknowledged yet"
        )
        return _said_before(blocks, text)
    from watchfloor.alerts.slackapp.clicks import acknowledged_blocks  # not at import: clicks imports us

    return acknowledged_blocks(blocks, ack, words)[:MAX_BLOCKS]


# A line above the Acknowledge button saying what was acknowledged that the button does not take (an earlier alert of
# the thread, the alert a revision replaced, an earlier raising of a reinstated alert): it ends "... not acknowledged
# yet", so an acknowledgement of what the button takes removes it (clicks.acknowledged_blocks).
EARLIER_ACKS_BLOCK_ID = "wf_earlier_acknowledged"


def _said_before(blocks: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """`blocks` with `text` as the line above the Acknowledge button (EARLIER_ACKS_BLOCK_ID), in place of one before."""
    line = {"type": "context", "block_id": EARLIER_ACKS_BLOCK_ID, "elements": [_mrkdwn(cut_mrkdwn(text))]}
    kept = [b for b in blocks if b.get("block_id") != EARLIER_ACKS_BLOCK_ID]
    at = next((i for i, b in enumerate(kept) if b.get("block_id") == ACTIONS_BLOCK_ID), len(kept))
    return [*kept[:at], line, *kept[at:]][:MAX_BLOCKS]


def _reinstated_text(ack: AlertAcknowledged, *, line: bool = True) -> str:
    """What the message says of an acknowledgement of an earlier raising of the alert it shows; `line`: as a line of
    its own (else a clause)."""
    from watchfloor.alerts.slackapp.commands import who  # not at import: the app's modules import us

    text = (
        f"alert {fit(ack.alert_id, 100)} was acknowledged by {who(ack.by)} at {when_text(ack.at)}, before a later "
        "change raised it again (reinstated): it is not acknowledged since"
    )
    return f":ballot_box_with_check: {text[0].upper()}{text[1:]}" if line else text


def _first_acknowledged(
    blocks: list[dict[str, Any]], thread: ThreadView, words: Wording = ENGLISH
) -> list[dict[str, Any]]:
    """The thread's first message, showing the thread's state, says who acknowledged what it shows (the thread's newest
    standing alert), and loses that button, only when that alert is acknowledged. Until then its button stays (it
    takes the newest alert and the thread's earlier ones together), and acknowledgements of the earlier standing
    alerts are said above it, so the desk sees what was taken and that the newest alert was not."""
    if thread.newest_acknowledged is not None:
        return _acknowledged(blocks, thread.newest_acknowledged, thread.newest_id, words=words)
    before = thread.newest_acknowledged_before
    if not thread.earlier_acknowledged:
        return blocks if before is None else _said_before(blocks, _reinstated_text(before))
    from watchfloor.alerts.slackapp.commands import who  # not at import: the app's modules import us

    said = [
        f"alert {fit(a.alert_id, 100)} acknowledged by {who(a.by)} at {when_text(a.at)}"
        for a in thread.earlier_acknowledged[:3]
    ]
    more = len(thread.earlier_acknowledged) - len(said)
    text = ":ballot_box_with_check: Earlier in this thread: " + "; ".join(said) + (f"; {more} more" if more > 0 else "")
    text += f" · the newest alert, {fit(thread.newest_id or '', 100)}, is not acknowledged yet"
    if before is not None:  # (one line: the button takes the newest)
        text += f" ({_reinstated_text(before, line=False)})"
    return _said_before(blocks, text)


def offers_ack(
    blocks: Sequence[Mapping[str, Any]], alert_id: str | Collection[str], legacy: Collection[str] = ()
) -> bool:
    """Whether a message's blocks (as Slack has them) still offer our Acknowledge button for `alert_id` (one of
    them, when several are given), or for one of `legacy` on a button drawn before buttons said what the message
    stands for (no `s`: review 26, M2, a button of today naming the first alert is that alert's alone): a message that
    shows an acknowledgement already, or another alert (a revision's), or none (withdrawn), offers none."""
    ids = {alert_id} if isinstance(alert_id, str) else set(alert_id)
    for block in blocks:
        if block.get("type") != "actions" or block.get("block_id") != ACTIONS_BLOCK_ID:
            continue
        for element in block.get("elements") or ():
            if not isinstance(element, Mapping) or element.get("action_id") != ACK_ACTION:
                continue
            try:
                value = parse_button_value(str(element.get("value") or ""))
                if value.alert_id in ids or (value.standing is None and value.alert_id in legacy):
                    return True
            except ValueError:
                continue
    return False


def with_acknowledgement(
    blocks: Sequence[Mapping[str, Any]], ack: AlertAcknowledged, words: Wording = ENGLISH
) -> list[dict[str, Any]]:
    """A message's blocks as Slack has them, showing `ack` as a click on its Acknowledge button does."""
    from watchfloor.alerts.slackapp.clicks import acknowledged_blocks  # not at import: clicks imports us

    return acknowledged_blocks(blocks, ack, words)[:MAX_BLOCKS]


def fallback_text(
    alert: Alert, *, prefix: str = "", state: tuple[str, str | None] | None = None, words: Wording = ENGLISH
) -> str:
    """The plain `text` shown in notifications and by clients that cannot render blocks (escaped); `state`
    (severity, confidence) overrides the alert's own, for a message that shows its thread's state."""
    det = alert.detection
    severity, confidence = state if state is not None else (det.severity, det.confidence)
    unconfirmed = words.text("unconfirmed") if confidence == "unconfirmed" else ""
    raw = f"{prefix}[{words.severity(severity)}{unconfirmed}] {det.title or det.rule} ({det.rule})"
    return fit(one_line(raw), FALLBACK_LIMIT)


def notice_text(notice: Notice, words: Wording = ENGLISH) -> str:
    if notice.thread is None and notice.kind != "retraction":
        # (what a notification shows: one sent late says so before its old state, review of 260549a, finding 7)
        prefix = words.text("prefix_sent_late") if notice.later is not None else ""
        if notice.story is not None and notice.story.ref:
            prefix = words.text("prefix_story") + prefix
        return fallback_text(notice.alert, prefix=prefix, words=words)
    if notice.kind == "retraction":
        # The title first, then why: a phone's push shows the start (trial 38, LOW-5: "Withdrawn: corrected by the
        # publisher: …" said which story only past the cut)
        det = notice.alert.detection
        # (a notification shows no date token: the reason's time as UTC text)
        said = worded_reason(one_line(notice.reason or ""), words, utc_text, lambda x: x)
        why = f" — {said or notice.reason}" if notice.reason else ""
        return fit(one_line(f"{words.text('prefix_withdrawn')}{det.title or det.rule}{why}"), FALLBACK_LIMIT)
    prefix = words.text("prefix_revised" if notice.kind == "revision" else "prefix_update")
    return fallback_text(notice.alert, prefix=prefix, words=words)


def metadata(notice: Notice) -> dict[str, Any]:
    """Message metadata: the delivery key, so a restarted dispatcher can find a message it may have posted."""
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"alert_id": notice.key, "rule": notice.alert.detection.rule, "kind": notice.kind},
    }


def target_metadata(notice: Notice) -> dict[str, Any]:
    """The updated message keeps saying which delivery it is (its key is the target's)."""
    thread = notice.thread
    assert thread is not None
    kind = "alert" if thread.thread_ref == thread.target_ref else "followup"
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"alert_id": thread.target_key, "rule": thread.target.detection.rule, "kind": kind},
    }


def first_metadata(notice: Notice) -> dict[str, Any]:
    """The thread's first message, updated after a reply changed, keeps saying which delivery it is."""
    thread = notice.thread
    assert thread is not None and thread.first is not None
    rule = thread.first.detection.rule
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"alert_id": thread.first_key, "rule": rule, "kind": "alert"},
    }


# --- digests ------------------------------------------------------------------------------------------------


MAX_DIGEST_TITLE = 300  # a digest line's title (before inert() may double it)
MAX_DIGEST_GROUP = 200


def digest_line(entry: DigestLine, words: Wording = ENGLISH) -> str:
    """One digest line in mrkdwn: the severity, title, rule, group and time, then the report's source linked to the
    article and the alert id (`alerts list` takes it), so alerts of one title are told apart (outside trial 19, L4).
    The quoted parts (title, group: captured from articles) are escaped and made inert; the source is a link's
    label, as in an alert's evidence (the name alone, inert, when the URL is not one to link). The time is Slack's
    date token (when_text: ~60 characters, where the UTC text was 20). At most ~2,650 characters, so a section of
    them stays under 3,000."""
    unconfirmed = words.text("digest_unconfirmed") if entry.unconfirmed else ""
    head = f"{SEVERITY_EMOJI.get(entry.severity, '')} [{escape(words.severity(entry.severity))}{unconfirmed}]".lstrip()
    title = inert(fit(one_line(entry.title), MAX_DIGEST_TITLE))
    text = f"{head} {title} ({fit(one_line(entry.rule), 100)})"
    if entry.group:
        text += f" · {inert(fit(one_line(entry.group), MAX_DIGEST_GROUP))}"
    # the time in each reader's timezone (Slack's date token), from the fired time when the line has it
    when = (
        escape(entry.when)
        if entry.fired_at is None
        else fired_time_text(when_text(entry.fired_at), entry.first_seen, entry.ahead)
    )
    text += f" · {when}"
    if safe_url(entry.url):
        text += f" · {link(entry.url, entry.source)}"
    elif entry.source:  # no link to make: the name alone, inert like the other quoted parts
        text += f" · {inert(fit(one_line(entry.source), MAX_LABEL))}"
    text += f" · {words.text('digest_alert')} `{inert(fit(one_line(entry.alert_id), 64))}`"
    if entry.earlier and words.language != ENGLISH.language:
        text += words.text("digest_earlier", count=words.count(entry.earlier, "earlier_alert"))
    else:
        text += escape(entry.earlier_text())
    if entry.story:  # a line of a story of several groups (thread_by), listed with its other lines
        group = inert(fit(one_line(entry.story_group), 200))
        if entry.story == entry.alert_id:  # (the story's first alert: not "in the story of" itself)
            text += words.text("digest_story_first", group=group)
        else:
            text += words.text("digest_story", id=inert(fit(one_line(entry.story), 64)), group=group)
    if entry.via:  # a digest merging the channel's subscriptions of its slot: the ones it came under
        text += words.text("digest_via", labels=" + ".join(inert(fit(one_line(x), 60)) for x in entry.via[:3]))
    if (
        entry.acknowledged is not None
    ):  # as the alert's own message says it (acknowledged in Slack before this went out)
        from watchfloor.alerts.slackapp.commands import who  # not at import: the app's modules import us

        ack = entry.acknowledged
        # (a name typed on the CLI may be any length: cut, so the line stays within its section)
        by = ack.by.model_copy(
            update={"name": (ack.by.name or "")[:80] or None, "user": (ack.by.user or "")[:80] or None}
        )
        text += " · " + words.text("acknowledged", who=who(by), when=when_text(ack.at))
    return text


def _sections_of(lines: list[str]) -> list[dict[str, Any]]:
    """Lines packed into mrkdwn sections: at most ten a section and TEXT_LIMIT characters (a line is never cut: a
    link cut in half would be broken)."""
    sections: list[list[str]] = []
    size = 0
    for line in lines:
        if sections and len(sections[-1]) < 10 and size + 1 + len(line) <= TEXT_LIMIT:
            sections[-1].append(line)
            size += 1 + len(line)
        else:
            sections.append([line])
            size = len(line)
    return [{"type": "section", "text": _mrkdwn("\n".join(lines_))} for lines_ in sections]


def digest_blocks(digest: Digest, words: Wording = ENGLISH) -> list[dict[str, Any]]:
    """Block Kit for a digest: a header, one mrkdwn line per alert (`digest_line`), a footer. At most 40 lines of
    at most one section each, so header + 40 + footer stay under the 50 blocks a message may have."""
    title = digest_title(digest, words)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(fit(one_line(title), HEADER_LIMIT))}]
    if not digest.detections:
        none = words.text("no_new_alerts")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": none, "verbatim": True}})
    blocks += _sections_of([digest_line(e, words) for e in digest.entries()[:DIGEST_LISTED]])
    gone = [inert(escape(fit(line, MAX_DIGEST_TITLE * 2))) for line in digest.withdrawals()[:DIGEST_WITHDRAWN]]
    if words.language != ENGLISH.language:  # (English: Digest.withdrawals, the line every channel kind shows)
        gone = [
            words.text(
                "digest_withdrawn_since",
                what=inert(escape(fit(one_line(what), MAX_DIGEST_TITLE))),
                id=inert(escape(fit(alert_id, 64))),
                why=own_reason(why, words) or inert(escape(fit(one_line(why), MAX_DIGEST_TITLE))),
            )
            for alert_id, what, why in digest.withdrawn_earlier[:DIGEST_WITHDRAWN]
        ]
    blocks += _sections_of([f":wastebasket: {line}" for line in gone])
    more = len(digest.detections) - DIGEST_LISTED
    footer = words.text("digest_more", n=more) if more > 0 else ""
    if digest.silenced:
        footer += words.text("digest_silenced", n=digest.silenced)
    if digest.left_out():  # a throttle summary's held alerts since withdrawn or revised, a digest's withdrawn ones
        footer += f"{_left_out(digest, words)} · "
    footer += words.text("throttle_footer" if digest.throttle else "digest_footer", id=digest.id)
    context = {"type": "mrkdwn", "text": fit(footer, TEXT_LIMIT), "verbatim": True}
    blocks.append({"type": "context", "elements": [context]})
    return blocks


def _left_out(digest: Digest, words: Wording) -> str:
    """Digest.left_out in `words` (English: itself)."""
    if words.language == ENGLISH.language:
        return digest.left_out()
    if not digest.throttle:
        return words.text("left_out", parts=words.text("left_withdrawn_before_digest", n=digest.withdrawn))
    parts = [words.text("left_withdrawn", n=digest.withdrawn)] if digest.withdrawn else []
    if digest.revised > digest.revised_listed:
        parts.append(words.text("left_revised_apart", n=digest.revised - digest.revised_listed))
    if digest.revised_listed:
        parts.append(words.text("left_revised_listed", n=digest.revised_listed))
    return words.text("left_out", parts="; ".join(parts))


def digest_title(digest: Digest, words: Wording = ENGLISH) -> str:
    """The digest's title (Digest.title) in `words`: a throttle summary's stays English (its window's text)."""
    if words.language == ENGLISH.language or digest.throttle:
        return digest.title()
    told = len(digest.alert_ids())
    stories = ""
    if told > digest.story_count:
        stories = words.text("digest_stories", count=words.count(digest.story_count, "story"))
    try:
        when = digest.slot.strftime("%Y-%m-%d %H:%M %Z")
    except (OverflowError, ValueError):
        when = digest.slot.isoformat()
    return words.text("digest_title", count=words.count(told, "alert"), stories=stories, when=when)


def digest_metadata(digest: Digest) -> dict[str, Any]:
    """A digest message's metadata: its delivery key, looked for like an alert's after an interrupted attempt."""
    return {
        "event_type": DIGEST_EVENT_TYPE,
        "event_payload": {"alert_id": digest.id, "digest_id": digest.id, "kind": "digest"},
    }
