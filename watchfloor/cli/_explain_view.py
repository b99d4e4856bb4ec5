"""How `watchfloor rules explain` prints explanations on a terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from watchfloor.stream_processors.engine import CompiledRules
from watchfloor.stream_processors.engine.explain import DetectionCheck, DocumentExplanation, SignalCheck

_MOD_STYLE = {"asserted": "green", "negated": "red", "conditional": "magenta", "future": "yellow", "hedged": "cyan"}


def render(
    out: Console,
    rules: CompiledRules,
    explained: list[DocumentExplanation],
    closing: list[DetectionCheck],
    *,
    every: bool,
) -> None:
    shown = 0
    for exp in explained:
        if not (every or exp.sentences or exp.detections):
            continue
        shown += 1
        out.print(
            f"[bold]{escape(exp.document_id)}[/bold]  {escape(exp.published_at)}  {escape(exp.source)}"
            + (f"  [dim]{escape(exp.title)}[/dim]" if exp.title else ""),
            highlight=False,
        )
        if not exp.sentences:
            out.print(f"  [dim]{escape(exp.read)}[/dim]", highlight=False)
        for s in exp.sentences:
            out.print(f"  [bold]sentence {s.index}[/bold]: {escape(s.text)}", highlight=False)
            if s.phrases:
                found = ", ".join(f"{escape(p.text)} ⟶ “{escape(p.words)}”" for p in s.phrases)
                out.print(f"    found: {found}", highlight=False)
            for c in s.signals:
                _signal(out, c)
        for d in exp.detections:
            _detection(out, d)
        for reason in exp.late:
            out.print(f"    [red]late[/red]: {escape(reason)}", highlight=False)
        out.print()
    for d in closing:
        _detection(out, d)
    hidden = len(explained) - shown
    tail = f"; {hidden} without any phrase or name of the rules (--all lists them)" if hidden else ""
    out.print(f"[dim]{len(explained)} document(s) explained{tail}[/dim]", highlight=False)


def _signal(out: Console, c: SignalCheck) -> None:
    if not c.matched:
        out.print(f"    [dim]✗ {escape(c.signal)}: {escape(c.reason)}[/dim]", highlight=False)
        return
    style = _MOD_STYLE.get(c.modality or "", "white")
    out.print(
        f"    ✓ [bold]{escape(c.signal)}[/bold] on “{escape(c.words)}”: [{style}]{c.modality}[/{style}]"
        f" — {escape(c.modality_reason)}",
        highlight=False,
    )
    for cue in c.cues:
        mark = "applies" if cue.applied else "ignored"
        out.print(
            f"        cue {cue.cls} “{escape(cue.words)}” ({cue.direction}): {mark} — {escape(cue.reason)}",
            highlight=False,
        )
    for cap in c.captures:
        value = f"{cap.value} ({cap.value_name})" if cap.value else "none"
        out.print(f"        capture {escape(cap.name)} = {escape(value)} — {escape(cap.reason)}", highlight=False)


def _detection(out: Console, d: DetectionCheck) -> None:
    if d.fired and d.alert is not None:
        conf = f", {d.alert['confidence']}" if d.alert.get("confidence") else ""
        out.print(
            f"    [green]▶ {escape(d.detection)} fired[/green]: {escape(d.alert['title'])} "
            f"({d.alert['severity']}{conf})"
            + (f" [dim]— {escape(d.reason)}[/dim]" if d.kind != "fired" or d.reason != "fired" else ""),
            highlight=False,
        )
        return
    out.print(f"    [yellow]· {escape(d.detection)}[/yellow] not fired ({d.kind}): {escape(d.reason)}", highlight=False)
