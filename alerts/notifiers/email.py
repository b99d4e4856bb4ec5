"""Email notifier: one plain-text and HTML message per notice through an SMTP server, with the standard library only.

Each message's Message-ID is made from its delivery key (`<KEY@watchfloor>`), and `send` returns it as the
message's reference. A notice of a thread (a follow-up, a revision, a withdrawal) is a reply: `In-Reply-To` and
`References` name the thread's first message and its subject is "Re: " and that message's, so mail clients thread
it as Slack does. Mail cannot be changed once sent, so there is no `update`: each reply carries the thread's state
(severity, sources, updates) instead; a withdrawal says the alert the thread stands on after it (or that none does),
and a reply after the thread's first alert was withdrawn says so. Nor can a mailbox be looked in, so there is no
`find_delivered`. The server's verdict on a message (the reply to its final ".") is waited for `data_timeout` (RFC
5321's 10 minutes), the other steps `timeout`; no verdict even then raises `Unconfirmed`: the dispatcher gives the
delivery up as maybe delivered rather than send a copy. Only a process killed mid-send has its message sent again,
with the same Message-ID, which mail clients and many servers use to drop the repeat.

Everything from articles and rules is HTML-escaped in the HTML part, and only plain http(s) URLs become links.
Headers are built from single lines (line breaks and control characters folded to spaces), so text from an
article can never add a header. The password never appears in an exception, a repr or a returned detail.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import smtplib
import ssl
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any, Literal
from urllib.parse import urlsplit

from watchfloor.schemas.config import SMTP_PORTS, mail_address
from watchfloor.schemas.events import (
    Alert,
    Detection,
    Evidence,
    dated_ahead,
    evidence_label,
    evidence_to_show,
    evidence_when,
    fired_first_seen,
    fired_text,
    input_alert_text,
)
from watchfloor.schemas.timefmt import utc_text, zone_text

from ..notice import Digest, Notice, ThreadView, TimeText, as_notice, earlier_text, later_text, revision_cause
from .base import NotifierError, PermanentError, TransientError, Unconfirmed, joined_values, redact
from .slack_blocks import safe_url

log = logging.getLogger(__name__)

MSGID_DOMAIN = "watchfloor"
SUBJECT_LIMIT = 200  # characters of a subject (mail clients show far fewer; the rest is in the body)
MAX_EVIDENCE = 10
MAX_SENTENCE = 1000
# RFC 5321 §4.5.3.2.6: the client waits 10 minutes for the reply to the end of the message ("."): the server has the
# message by then and may be scanning it; a client that gives up sooner makes each retry one more copy. The default
# here is 2 minutes, not 10: one dispatcher delivers every channel in turn, so a hung relay would hold the Slack
# alerts behind it for the whole wait; no verdict within it is given up as unconfirmed, never re-sent blindly.
DATA_TIMEOUT = 120.0
MAX_KEY_IN_ID = 120  # a longer key is hashed: a Message-ID stays one short header line
DIGEST_LISTED = 500  # alerts listed in one digest message; the rest are counted

Tls = Literal["starttls", "implicit", "none"]

# Everything that could end a header line or the line of text it is in: C0 and C1 controls, DEL, and the Unicode
# line and paragraph separators. (str.split() below folds the other whitespace.)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_ID_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# --- text ---------------------------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """`text` on one line: control characters and line breaks of any kind become single spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def message_id(key: str) -> str:
    """`<KEY@watchfloor>` with the key made header-safe: bytes other than letters, digits, '-' and '_' are written
    =XX (so two keys never share an id), and a key too long for that is its SHA-256 (with a '.', which the first
    form never has)."""
    left = "".join(chr(b) if b in _ID_SAFE else f"={b:02X}" for b in key.encode("utf-8"))
    if not left or len(left) > MAX_KEY_IN_ID:
        left = "sha256." + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"<{left}@{MSGID_DOMAIN}>"


def _severity(severity: str, confidence: str | None, was: str | None = None) -> str:
    """`HIGH (confirmed, was MEDIUM)`. Confirmed is said too, not only unconfirmed: a reply keeps its thread's
    subject ("Re: [MEDIUM, unconfirmed] …"), so its body must say when the thread has been confirmed since."""
    notes = [confidence] if confidence in ("confirmed", "unconfirmed") else []
    if was:
        notes.append(f"was {was.upper()}")
    return severity.upper() + (f" ({', '.join(notes)})" if notes else "")


def _alert_subject(det: Detection) -> str:
    unconfirmed = ", unconfirmed" if det.confidence == "unconfirmed" else ""
    return f"[{det.severity.upper()}{unconfirmed}] {det.title or det.rule}"


def subject(notice: Notice) -> str:
    """One line, at most SUBJECT_LIMIT characters. A reply takes its thread's subject ("Re: " and the first
    message's), which is what threads it in clients that go by subjects too (Gmail); what changed is in the body."""
    if notice.thread is not None:
        text = "Re: " + _alert_subject(notice.thread.target.detection)
    else:
        prefix = {"followup": "Update: ", "revision": "Revised: ", "retraction": "Withdrawn: "}.get(notice.kind, "")
        late = "Sent late: " if notice.later is not None else ""
        text = late + prefix + _alert_subject(notice.alert.detection)
    return cut(one_line(text), SUBJECT_LIMIT)


# --- bodies ---------------------------------------------------------------------------------------------------


class _Body:
    """The plain-text and the HTML part, written side by side. Every argument is raw text: escaped here."""

    def __init__(self, time_text: TimeText = utc_text) -> None:
        self.text: list[str] = []
        self.html: list[str] = []
        self.when = time_text  # how a time is shown: the channel's zone (UTC by default)

    def heading(self, title: str) -> None:
        line = one_line(title)
        self.text += [line, "-" * min(len(line), 72), ""]
        self.html.append(f"<h2>{esc(line)}</h2>")

    def para(self, text: str) -> None:
        self.text += [text.strip(), ""]
        self.html.append("<p>" + esc(text.strip()).replace("\n", "<br>\n") + "</p>")

    def note(self, text: str) -> None:
        self.text += [one_line(text), ""]
        self.html.append(f'<p style="color:#555">{esc(one_line(text))}</p>')

    def facts(self, pairs: Iterable[tuple[str, str]]) -> None:
        rows = [(one_line(k), one_line(v)) for k, v in pairs]
        self.text += [f"{k}: {v}" for k, v in rows] + [""]
        cells = "".join(
            f'<tr><th align="left" style="padding-right:1em">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in rows
        )
        self.html.append(f"<table>{cells}</table>")

    def items(self, lines: Sequence[str]) -> None:
        self.text += [f"- {one_line(line)}" for line in lines] + [""]
        self.html.append("<ul>" + "".join(f"<li>{esc(one_line(line))}</li>" for line in lines) + "</ul>")

    def evidence(self, evidence: Sequence[Evidence], title: str, fired_at: datetime, total: int = 0) -> None:
        if not evidence:
            return
        count = max(total, len(evidence))
        shown = evidence_to_show(evidence, count, MAX_EVIDENCE)
        self.text += [f"{title} ({count}):", ""]
        self.html.append(f"<h3>{esc(title)} ({count})</h3>")
        for ev in shown:
            source = one_line(evidence_label(ev)) or "source"
            ahead = dated_ahead(ev.published_at, fired_at)
            head = f"{source} · {evidence_when(ev, self.when(ev.published_at), ahead)}" + (
                f" · {ev.modality}" if ev.modality != "asserted" else ""
            )
            ours = input_alert_text(ev)  # a composed rule's input alert: our title, not the outlet's words
            sentence = cut(one_line(ours if ours is not None else ev.sentence), MAX_SENTENCE)
            quoted = f"“{sentence}”" if ours is None else sentence
            url = ev.url if safe_url(ev.url) is not None else None  # plain http(s) only, of a linkable length
            self.text += [f"- {head}", f"  {quoted}"] + ([f"  {url}"] if url else []) + [""]
            label = esc(source)
            if url:
                # The link's own host stands beside the source's name: a feed names itself and writes the link,
                # so "Reuters" could point anywhere.
                host = esc(_host(url))
                label = f'<a href="{esc(url)}">{label}</a> ({host})'
            rest = esc(head[len(source) :])
            said = f"<q>{esc(sentence)}</q>" if ours is None else esc(sentence)
            self.html.append(f"<p>{label}{rest}<br>\n{said}</p>")
        if count > len(shown):
            self.note(f"+{count - len(shown)} more evidence not shown")

    def render(self, subject: str) -> tuple[str, str]:
        text = "\n".join(self.text).rstrip() + "\n"
        page = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
            + esc(subject)
            + '</title></head>\n<body style="font-family:sans-serif">\n'
            + "\n".join(self.html)
            + "\n</body></html>\n"
        )
        return text, page


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


def _footer(body: _Body, key: str, det: Detection) -> None:
    fired = fired_text(body.when(det.fired_at), fired_first_seen(det.evidence, det.fired_at))
    body.note(f"alert {key} · {fired} · sent by watchfloor")


def _facts(det: Detection, notice: Notice, severity: str, confidence: str | None) -> list[tuple[str, str]]:
    pairs = [("Severity", _severity(severity, confidence)), ("Rule", det.rule)]
    if det.group:
        pairs.append(("Group", notice.group_label or ", ".join(det.group.values())))
    for key, values in det.attributes.items():
        pairs.append((key.replace("_", " ").capitalize(), joined_values(values)))
    return pairs


def _full(body: _Body, notice: Notice) -> None:
    """A message of its own: the whole alert."""
    det = notice.alert.detection
    title = one_line(det.title) or det.rule
    if notice.kind == "retraction":
        body.heading(f"Withdrawn: {title}")
        body.para(notice.reason or "a later report changed this alert")
        if notice.superseded_by:
            body.note(f"replaced by alert {notice.superseded_by}")
    else:
        body.heading(title)
    if notice.kind in ("followup", "revision") and notice.parent_id:
        body.note(f"{'Revises' if notice.kind == 'revision' else 'Follows'} alert {notice.parent_id}")
    if notice.kind == "alert" and notice.story is not None:  # thread_by: another group's alert of a story
        body.note(
            f"New alert in the story of alert {notice.story.alert_id} ({notice.story.group_label}); not an update"
        )
    if notice.later is not None:
        body.note(later_text(notice.later, body.when))
    if notice.earlier is not None:
        body.note(earlier_text(notice.earlier, body.when))
    body.facts(_facts(det, notice, det.severity, det.confidence))
    if det.description:
        body.para(det.description)
    body.evidence(det.evidence, "Evidence", det.fired_at, det.reports)
    _footer(body, notice.alert.id, det)  # the alert's id, as `alerts list` names it (not a revision's key)


def _reply(body: _Body, notice: Notice, thread: ThreadView) -> None:
    """A reply in its thread: what changed, and the thread's state (the first message cannot be updated)."""
    det = notice.alert.detection
    target_title = one_line(thread.target.detection.title) or thread.target.detection.rule
    if notice.kind == "retraction":
        body.heading(f"Withdrawn: {target_title}")
        body.para(notice.reason or "a later report changed this alert")
        if notice.superseded_by:
            body.note(f"replaced by alert {notice.superseded_by}")
        # What the thread stands on after it (the first message, which may be the one withdrawn, cannot be updated).
        if thread.newest_id is None:
            body.note("No alert of this thread stands now.")
        else:
            pairs = [("Thread now", f"{_severity(thread.severity, thread.confidence)}, on alert {thread.newest_id}")]
            pairs += _thread_facts(notice, thread)
            body.facts(pairs)
        # The withdrawn alert's id, as `alerts list` names it (the withdrawal's own key is only in its Message-ID).
        _footer(body, notice.alert.id, thread.target.detection)
        return
    word = "Revised" if notice.kind == "revision" else "Update"
    body.heading(f"{word}: {one_line(det.title) or det.rule}")
    # The thread's state (its newest standing alert's): the first message, whose subject the reply keeps, cannot be
    # updated. When this alert stands lower (a late report revising an older alert), both are said: not a downgrade.
    own = (det.severity, det.confidence)
    if own == (thread.severity, thread.confidence):
        pairs = [("Severity", _severity(thread.severity, thread.confidence, notice.escalated_from))]
    else:
        pairs = [("Severity", _severity(*own, notice.escalated_from))]
        pairs.append(("Thread now", _severity(thread.severity, thread.confidence)))
    pairs += _thread_facts(notice, thread)
    if thread.acknowledged is not None:  # of the alert the thread's first message showed (named: not this one)
        ack = thread.acknowledged
        pairs.append(("Acknowledged", f"alert {ack.alert_id} by {ack.by.label()} at {body.when(ack.at)}"))
    body.facts(pairs)
    if notice.kind == "revision":
        changed = notice.parent_id or thread.target_id  # the alert revised, as `alerts list` names it
        body.note(f"{revision_cause(det, changed)}: this is the alert that stands now.")
    seen = {ev.event_id for ev in thread.target.detection.evidence}
    new = tuple(ev for ev in det.evidence if ev.event_id not in seen)
    body.evidence(new, "New evidence", det.fired_at)
    _footer(body, notice.alert.id, det)


def _thread_facts(notice: Notice, thread: ThreadView) -> list[tuple[str, str]]:
    """The sources the thread's standing alerts rest on, its replies, and whether its first alert was withdrawn: the
    first mail, whose subject a reply keeps, cannot say so once sent (a withdrawal of that alert says so itself)."""
    where = "of this alert's group" if thread.of_group else "in this thread"  # (thread_by: the group's own, F4)
    pairs = [("Sources", f"{thread.sources} independent {where}")]
    pairs.append(("Updates", f"{thread.updates} {where}"))
    if thread.first_withdrawn is not None and not (notice.kind == "retraction" and thread.target_is_first):
        pairs.append(("First alert", f"{thread.first_id}, withdrawn: {thread.first_withdrawn}"))
    return pairs


def notice_parts(notice: Notice, time_text: TimeText = utc_text) -> tuple[str, str]:
    """(plain text, HTML) of the message that delivers `notice`, its times in `time_text` (the channel's zone)."""
    body = _Body(time_text)
    if notice.thread is not None:
        _reply(body, notice, notice.thread)
    else:
        _full(body, notice)
    return body.render(subject(notice))


def digest_parts(digest: Digest, time_text: TimeText = utc_text) -> tuple[str, str]:
    body = _Body(time_text)
    body.heading(digest.title(time_text))
    if not digest.detections:
        body.para("No new alerts.")
    body.items(digest.lines(time_text)[:DIGEST_LISTED])
    if digest.withdrawals():
        body.items(digest.withdrawals()[:DIGEST_LISTED])
    more = len(digest.detections) - DIGEST_LISTED
    footer = f"{more} more not listed · " if more > 0 else ""
    if digest.silenced:
        footer += f"{digest.silenced} silenced · "
    if digest.left_out():
        footer += f"{digest.left_out()} · "
    body.note(footer + f"{'throttle summary' if digest.throttle else 'digest'} {digest.id} · sent by watchfloor")
    return body.render(digest.title(time_text))


# --- the notifier ---------------------------------------------------------------------------------------------


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP that notes how far the message went (DATA begun, the whole message and its final "." sent) and
    waits `data_timeout` for the reply to that final "." (RFC 5321 §4.5.3.2.6: a server may take minutes, scanning
    the message, and has it meanwhile: giving up at the command timeout made every retry a copy)."""

    data_sent = False
    message_sent = False
    data_timeout = DATA_TIMEOUT

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_sent = True
        try:
            return super().data(msg)
        finally:
            _command_timeout(self)

    def send(self, s: Any) -> None:
        super().send(s)
        _after_send(self, s)


class _SMTPS(_SMTP, smtplib.SMTP_SSL):
    """The same over implicit TLS (port 465): _SMTP's notes, SMTP_SSL's connection (MRO: _SMTP, SMTP_SSL, SMTP)."""


def _after_send(smtp: _SMTP, sent: Any) -> None:
    """After DATA's content went out with its terminating "." (smtplib sends the message and the terminator in one
    call, the only one after DATA that ends so): from now on only the server's verdict is awaited, for as long as
    `data_timeout` says."""
    if smtp.data_sent and not smtp.message_sent and isinstance(sent, bytes) and sent.endswith(b"\r\n.\r\n"):
        smtp.message_sent = True
        if smtp.sock is not None:
            smtp.sock.settimeout(smtp.data_timeout)


def _command_timeout(smtp: _SMTP) -> None:
    """Back to the command timeout (for QUIT) once the reply to the message came, or did not."""
    if smtp.sock is not None:
        smtp.sock.settimeout(smtp.timeout)


class EmailNotifier:
    """Sends each notice to `to` from `sender` through the SMTP server at host:port.

    One connection per message: notices are few and far between, and nothing is left open between cycles.
    `ssl_context` is for tests (a private CA); the default verifies the server's certificate and name."""

    def __init__(
        self,
        name: str,
        *,
        to: Sequence[str],
        sender: str,
        host: str,
        port: int | None = None,
        tls: Tls = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        data_timeout: float = DATA_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        if not to:
            raise ValueError(f"email {name}: no recipients")
        if (username is None) != (password is None):
            raise ValueError(f"email {name}: a username needs a password, and a password a username")
        self.name = name
        self.to = [formataddr(mail_address(a)) for a in to]
        self._to_addrs = [mail_address(a)[1] for a in to]
        self.sender = formataddr(mail_address(sender))
        self._from_addr = mail_address(sender)[1]
        self.host = host
        self.port = port or SMTP_PORTS[tls]
        self.tls: Tls = tls
        self.username = username
        self._password = password
        self.timeout = timeout
        self.data_timeout = data_timeout
        self._ssl_context = ssl_context
        self._time_text = zone_text(zone)  # the times in the mail (None: UTC)

    def __repr__(self) -> str:
        return f"EmailNotifier(name={self.name!r}, host={self.host!r}, port={self.port}, tls={self.tls!r})"

    @property
    def _where(self) -> str:
        return f"email {self.name} ({self.host}:{self.port})"

    # -- messages --

    def message(self, notice: Notice | Alert) -> EmailMessage:
        """The message that delivers `notice`."""
        notice = as_notice(notice)
        text, page = notice_parts(notice, self._time_text)
        msg = self._message(subject(notice), message_id(notice.key), text, page)
        det = notice.alert.detection
        msg["X-Watchfloor-Severity"] = one_line(det.severity)  # for mail filters
        msg["X-Watchfloor-Rule"] = cut(one_line(det.rule), 200)
        thread = notice.thread
        if thread is not None and _MESSAGE_ID.match(thread.thread_ref):  # a reference of ours (not another type's)
            msg["In-Reply-To"] = thread.thread_ref
            msg["References"] = thread.thread_ref
        elif notice.story is not None and _MESSAGE_ID.match(notice.story.ref):  # in its story's mail thread
            msg["In-Reply-To"] = notice.story.ref
            msg["References"] = notice.story.ref
        return msg

    def digest_message(self, digest: Digest) -> EmailMessage:
        text, page = digest_parts(digest, self._time_text)
        title = digest.title(self._time_text)
        return self._message(cut(one_line(title), SUBJECT_LIMIT), message_id(digest.id), text, page)

    def _message(self, subject: str, msgid: str, text: str, page: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = msgid
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to an alerting system
        # quoted-printable keeps every line short (SMTP's 998) and 7-bit, whatever a server says of 8BITMIME.
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(page, subtype="html", charset="utf-8", cte="quoted-printable")
        return msg

    # -- sending --

    def send(self, notice: Notice | Alert) -> str:
        """Send `notice`; returns its Message-ID (the reference replies of its thread use)."""
        msg = self.message(notice)
        self._send(msg)
        return str(msg["Message-ID"])

    def send_digest(self, digest: Digest) -> str:
        """Send a digest as a message of its own; returns its Message-ID like send()."""
        msg = self.digest_message(digest)
        self._send(msg)
        return str(msg["Message-ID"])

    def _send(self, msg: EmailMessage) -> None:
        smtp: _SMTP | _SMTPS | None = None
        try:
            smtp = self._open()
            refused = smtp.send_message(msg, self._from_addr, self._to_addrs)
        except NotifierError:
            raise
        except (OSError, smtplib.SMTPException) as e:  # SMTPException is an OSError; named for the reader
            if smtp is not None and smtp.message_sent and not _verdict(e):
                raise self._unconfirmed(e) from None
            raise self._classify(e, data_sent=smtp is not None and smtp.data_sent) from None
        finally:
            if smtp is not None:
                _quit(smtp)
        if refused:
            # Delivered to the others: sending it again would repeat it to them. The refused ones are logged; a
            # retry cannot reach them without repeating it to everyone else (and a 5xx would not help).
            said = "; ".join(f"{addr}: {code} {_said(text)}" for addr, (code, text) in sorted(refused.items()))
            log.warning("alerts: %s: %s sent, but refused for %s", self._where, msg["Message-ID"], self._redact(said))

    def longest_attempt(self) -> float:
        """Connect, greeting, EHLO, STARTTLS, EHLO, AUTH (two exchanges), MAIL, a RCPT per recipient, DATA and the
        message itself, each up to `timeout`; then up to `data_timeout` for the verdict; QUIT."""
        return (11 + len(self._to_addrs)) * self.timeout + self.data_timeout

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _open(self) -> _SMTP | _SMTPS:
        """Connected, greeted, TLS as configured, logged in. Raises NotifierError or what smtplib raised."""
        smtp: _SMTP | _SMTPS
        if self.tls == "implicit":
            smtp = _SMTPS(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            smtp = _SMTP(self.host, self.port, timeout=self.timeout)
        smtp.data_timeout = self.data_timeout
        try:
            smtp.ehlo()
            if self.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise PermanentError(
                        f"{self._where}: the server does not offer STARTTLS: use tls: implicit if it speaks TLS from "
                        "the start (port 465); nothing is sent in plaintext to it",
                        channel_wide=True,
                    )
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.username is not None and self._password is not None:
                if not smtp.has_extn("auth"):
                    raise PermanentError(
                        f"{self._where}: the server offers no login (AUTH) here, and a username is configured"
                        + (" (many servers offer it only after STARTTLS)" if self.tls == "none" else ""),
                        channel_wide=True,
                    )
                smtp.login(self.username, self._password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def check(self) -> str:
        """Connect, EHLO, STARTTLS and log in as configured, NOOP, QUIT: nothing is sent. Says what was checked."""
        smtp: _SMTP | _SMTPS | None = None
        try:
            smtp = self._open()
            code, said = smtp.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, said)
            secured = smtp.sock.version() if isinstance(smtp.sock, ssl.SSLSocket) else None
        except NotifierError:
            raise
        except (OSError, smtplib.SMTPException) as e:
            raise self._classify(e, data_sent=False) from None
        finally:
            if smtp is not None:
                _quit(smtp)
        how = {"starttls": "STARTTLS", "implicit": "TLS"}.get(self.tls, "")
        tls = f"{how} {secured}" if secured else "plaintext (loopback)"
        login = f"logged in as {self.username}" if self.username else "no login"
        return (
            f"{self.host}:{self.port} answered ({tls}, {login}, NOOP ok); mail goes from {self._from_addr} to "
            f"{len(self._to_addrs)} address(es)"
        )

    # -- failures --

    def _classify(self, e: BaseException, *, data_sent: bool) -> NotifierError:
        where = self._where
        if isinstance(e, smtplib.SMTPRecipientsRefused):  # every recipient refused: nothing was sent
            codes = [code for code, _ in e.recipients.values()]
            said = "; ".join(f"{addr}: {code} {_said(text)}" for addr, (code, text) in sorted(e.recipients.items()))
            message = self._redact(f"{where}: every recipient refused ({said})"[:1000])
            if any(400 <= c < 500 for c in codes):
                return TransientError(message, channel_wide=True)
            return PermanentError(message + ": check the addresses in `to`", channel_wide=True)
        if isinstance(e, smtplib.SMTPAuthenticationError):
            message = self._redact(f"{where}: login as {self.username!r} refused: {e.smtp_code} {_said(e.smtp_error)}")
            if 400 <= e.smtp_code < 500:  # 454: temporary authentication failure
                return TransientError(message, channel_wide=True)
            return PermanentError(message + " (check the username and the password's variable)", channel_wide=True)
        if isinstance(e, smtplib.SMTPNotSupportedError):
            return PermanentError(self._redact(f"{where}: the server does not support {e}"), channel_wide=True)
        if isinstance(e, smtplib.SMTPResponseException):  # a reply code: MAIL FROM, DATA, the greeting, EHLO, ...
            code = e.smtp_code
            step = {
                smtplib.SMTPSenderRefused: f"sender {self._from_addr} refused",
                smtplib.SMTPDataError: "message refused",
                smtplib.SMTPConnectError: "greeting",
                smtplib.SMTPHeloError: "EHLO refused",
            }.get(type(e), "server said")
            message = self._redact(f"{where}: {step}: {code} {_said(e.smtp_error)}"[:1000])
            if 400 <= code < 500:  # 421, 450, 451, 452: try again later; nothing was delivered
                return TransientError(message, channel_wide=True)
            if 500 <= code < 600:
                # A refused message (554 content, 552 size) is about this message; anything else, every message.
                return PermanentError(message, channel_wide=not isinstance(e, smtplib.SMTPDataError))
            return TransientError(message, channel_wide=True)
        if isinstance(e, ssl.SSLCertVerificationError):
            reason = e.verify_message or e.reason or "certificate verify failed"
            return PermanentError(
                self._redact(f"{where}: the server's certificate is not trusted: {reason}"), channel_wide=True
            )
        if isinstance(e, smtplib.SMTPException) and not isinstance(e, smtplib.SMTPServerDisconnected):
            # e.g. "No suitable authentication method found": the server and the config disagree
            return PermanentError(self._redact(f"{where}: {_said(str(e))}"[:1000]), channel_wide=True)
        if isinstance(e, OSError):  # refused, timed out, reset, disconnected, name not found, TLS
            # Before the message's final "." the server cannot have taken it (RFC 5321 §4.1.1.4: no terminator, no
            # mail): a lost connection there is a plain failure, retried without a copy. (After it: _unconfirmed.)
            what = "connection lost while the message was being sent" if data_sent else "cannot reach the server"
            detail = self._redact(f"{where}: {what}: {type(e).__name__}: {_said(str(e))}"[:1000])
            return TransientError(detail, channel_wide=True)
        return PermanentError(self._redact(f"{where}: {type(e).__name__}: {_said(str(e))}"[:1000]), channel_wide=True)

    def _unconfirmed(self, e: BaseException) -> Unconfirmed:
        """The whole message went, with its final ".", and the server's verdict never came (no reply within
        `data_timeout`, or the connection lost before it): it may have taken the message. Not a failure to retry:
        a retry would be a second copy whenever it had (outside trial 11: 4 copies of one alert)."""
        if isinstance(e, smtplib.SMTPResponseException):  # a reply, but not one SMTP defines: taken or not?
            why = f"the server answered the end of the message with {e.smtp_code} {_said(e.smtp_error)}"
        elif isinstance(e, TimeoutError) or "timed out" in str(e):
            why = f"the server took the whole message and gave no answer within data_timeout ({self.data_timeout:g}s)"
        else:
            why = "the connection was lost after the whole message was sent, before the server's answer"
        return Unconfirmed(
            self._redact(f"{self._where}: unconfirmed: {why} ({type(e).__name__}: {_said(str(e))})"[:1000]),
            channel_wide=True,
            maybe_delivered=True,
        )

    def _redact(self, text: str) -> str:
        return redact(text, self._password)


def _verdict(e: BaseException) -> bool:
    """Whether `e` is the server's own verdict (a 4xx or 5xx reply: it did not take the message)."""
    return isinstance(e, smtplib.SMTPResponseException) and 400 <= e.smtp_code < 600


def _said(text: bytes | str) -> str:
    """A server's reply text on one line (bytes decoded), cut short."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return cut(one_line(text), 300)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):  # the message went (or not) already: QUIT's answer changes nothing
        smtp.close()
