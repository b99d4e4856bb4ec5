"""Console notifier: a rich panel per notice, on a terminal or any text stream. A follow-up, revision or
withdrawal says which alert it updates, why a revision or withdrawal changed it, and what its thread stands at."""

from __future__ import annotations

from datetime import tzinfo
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.panel import Panel
from rich.text import Text

from watchfloor.schemas.events import (
    Alert,
    dated_ahead,
    evidence_label,
    evidence_to_show,
    evidence_when,
    input_alert_text,
)
from watchfloor.schemas.plural import counted
from watchfloor.schemas.timefmt import utc_text, zone_text

from ..notice import Digest, Notice, TimeText, as_notice, earlier_text, later_text, revision_cause
from .base import TransientError, joined_values
from .reasons import CORRECTED

_STYLE = {"low": "blue", "medium": "yellow", "high": "dark_orange", "critical": "bold red"}
MAX_EVIDENCE = 5


_WORDS = {"followup": "Update", "revision": "Revised", "retraction": "Withdrawn"}
# What the notice does to the alert it names: "update of alert …", "revises alert …", "withdraws alert …".
_RELATION = {"followup": "update of alert ", "revision": "revises alert ", "retraction": "withdraws alert "}


def render(alert: Alert | Notice, time_text: TimeText = utc_text) -> Panel:
    """The notice (or a bare alert) as a rich Panel, its times in `time_text` (the channel's zone). Article text goes
    in as Text objects, so it is never parsed as rich markup."""
    notice = as_notice(alert)
    alert = notice.alert
    det = alert.detection
    style = _STYLE.get(det.severity, "white")
    head = Text.assemble((det.severity.upper(), style), " ", ("rule ", "dim"), det.rule)
    if det.confidence == "unconfirmed":
        head.append("  (unconfirmed)", style="italic")
    lines: list[Text] = [head]
    word = _WORDS.get(notice.kind)
    if word is not None and notice.parent_id:
        update = Text.assemble((_RELATION[notice.kind], "dim"), notice.parent_id)
        if notice.escalated_from:
            update.append(f"  (was {notice.escalated_from.upper()})", style="dim")
        lines.append(update)
    if notice.kind == "retraction":
        lines.append(Text(f"withdrawn: {notice.reason or 'a later report changed this alert'}", style="bold"))
    elif notice.kind == "revision":
        # Why it changed, as Slack, email and the file record say it: a late report, or the publisher's correction.
        lines.append(Text(revision_cause(det), style="bold"))
    for r in notice.thread.restored if notice.thread is not None and notice.kind != "retraction" else ():
        # (outside trial 64, LOW-5: the item a denial took back, edited back, read as any new report)
        if (named := CORRECTED.match(r.reason)) is not None:
            said = f"restored by the publisher: {named['source']} edited item {named['item']} back"
            lines.append(Text(f"{said} (alert {r.alert_id} was withdrawn by its correction)", style="bold"))
    if notice.thread is not None:
        lines.append(Text(_thread_line(notice), "dim"))
    if notice.kind == "alert" and notice.story is not None:
        # (thread_by: another group's alert of the story, as Slack tells it in that story's thread)
        lines.append(
            Text(f"new alert in the story of alert {notice.story.alert_id} ({notice.story.group_label})", "dim")
        )
    if notice.later is not None:
        lines.append(Text(later_text(notice.later, time_text), "bold"))
    if notice.earlier is not None:
        lines.append(Text(earlier_text(notice.earlier, time_text), "dim"))
    if det.group:
        lines.append(Text.assemble(("group ", "dim"), notice.group_label or ", ".join(det.group.values())))
    for key, values in det.attributes.items():
        lines.append(Text.assemble((f"{key} ", "dim"), joined_values(values)))
    if det.description and notice.kind == "alert":
        lines.append(Text(det.description))
    count = det.reports
    shown = evidence_to_show(det.evidence, count, MAX_EVIDENCE)
    for ev in shown:
        when = evidence_when(ev, time_text(ev.published_at), dated_ahead(ev.published_at, det.fired_at))
        cite = Text.assemble(("• ", "dim"), (evidence_label(ev), "bold"), (f"  {when}", "dim"))
        if ev.url:
            cite.append(f"  {ev.url}", style="underline")
        lines.append(cite)
        ours = input_alert_text(ev)  # a composed rule's input alert: our title, not the outlet's words
        if ours is not None:
            lines.append(Text(f"  {ours}"))
        else:
            quote = f"  “{ev.sentence}”" if ev.modality == "asserted" else f"  “{ev.sentence}” ({ev.modality})"
            lines.append(Text(quote, style="italic"))
    if count > len(shown):
        lines.append(Text(f"+{count - len(shown)} more evidence", style="dim"))
    # The alert's id, as `alerts list` names it (a revision's or a withdrawal's delivery key is another).
    lines.append(Text(f"alert {notice.alert.id}", style="dim"))
    title = f"{word}: {det.title}" if word is not None and notice.parent_id else det.title
    return _TitledPanel(Group(*lines), title=Text(title), title_align="left", border_style=style)


def _thread_line(notice: Notice) -> str:
    """What the thread stands at after `notice`: its newest standing alert's state, the independent sources of its
    standing alerts and its replies, and whether its first alert was withdrawn (before this notice, or by it when
    it withdraws a reply; a withdrawal of the first alert says so itself)."""
    t = notice.thread
    assert t is not None
    if notice.kind == "retraction" and t.newest_id is None:
        line = f"thread: no alert of it stands now · {counted(t.updates, 'update')}"
    else:
        state = t.severity.upper() + (" (unconfirmed)" if t.confidence == "unconfirmed" else "")
        what = "this alert's group" if t.of_group else "thread"  # (thread_by: the group's own alerts, trial 74 F4)
        line = f"{what} now {state} · {counted(t.sources, 'independent source')} · {counted(t.updates, 'update')}"
    if t.first_withdrawn is not None and not (notice.kind == "retraction" and t.target_is_first):
        line += f" · its first alert {t.first_id} was withdrawn: {' '.join(t.first_withdrawn.split())}"
    return line


def shortened(title: str, room: int) -> str:
    """`title` in `room` cells: whole when it fits, else cut at the last word that fits, with "…" (a word
    longer than the room is cut inside)."""
    if cell_len(title) <= room:
        return title
    kept = ""
    for ch in title:
        if cell_len(kept + ch) > room - 1:
            break
        kept += ch
    if title[len(kept)] != " " and " " in kept:  # in a word: back to its start
        kept = kept[: kept.rindex(" ")]
    return kept.rstrip(" ,;:–—-") + "…"


class _TitledPanel(Panel):
    """A Panel whose title, when too long for the width it is printed at, is cut at a word and ends in "…"
    (Rich cuts it at the border, mid-word, with no sign of it: "…; the treaty is in─╮")."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width if self.width is None else min(options.max_width, self.width)
        title = self.title
        if isinstance(title, Text) and cell_len(title.plain) > width - 6:  # the corners and a space either side
            title = Text(shortened(title.plain, max(width - 6, 1)), style=title.style)
        panel = Panel(
            self.renderable,
            self.box,
            title=title,
            title_align=self.title_align,
            subtitle=self.subtitle,
            subtitle_align=self.subtitle_align,
            safe_box=self.safe_box,
            expand=self.expand,
            style=self.style,
            border_style=self.border_style,
            width=self.width,
            height=self.height,
            padding=self.padding,
            highlight=self.highlight,
        )
        yield from panel.__rich_console__(console, options)


class ConsoleNotifier:
    """Prints each alert to `console`, or to a Console writing on `stream` (stdout when neither is given); its times
    in `zone` (None: UTC)."""

    def __init__(
        self,
        name: str = "console",
        *,
        console: Console | None = None,
        stream: TextIO | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self.name = name
        self.console = console if console is not None else Console(file=stream, highlight=False, emoji=False)
        self._time_text = zone_text(zone)

    def send(self, notice: Notice | Alert) -> str:
        try:
            self.console.print(render(notice, self._time_text))
        except OSError as e:  # e.g. a closed pipe: may work later
            raise TransientError(f"console {self.name}: {type(e).__name__}: {e}") from None
        return "printed"

    def send_digest(self, digest: Digest) -> str:
        lines = [Text(f"• {line}") for line in digest.lines(self._time_text)]
        lines += [Text(f"• {line}", style="bold") for line in digest.withdrawals()]
        if digest.silenced:
            lines.append(Text(f"{digest.silenced} silenced", style="dim"))
        if digest.left_out():
            lines.append(Text(digest.left_out(), style="dim"))
        lines.append(Text(f"{'throttle summary' if digest.throttle else 'digest'} {digest.id}", style="dim"))
        try:
            self.console.print(Panel(Group(*lines), title=Text(digest.title(self._time_text)), title_align="left"))
        except OSError as e:
            raise TransientError(f"console {self.name}: {type(e).__name__}: {e}") from None
        return "printed"

    def __repr__(self) -> str:
        return f"ConsoleNotifier(name={self.name!r})"
