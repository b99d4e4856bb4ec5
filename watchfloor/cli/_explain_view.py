"""How `watchfloor rules explain` prints explanations on a terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from watchfloor.stream_processors.engine import CompiledRules
from watchfloor.stream_processors.engine.explain import DetectionCheck, DocumentExplanation, SignalCheck
from watchfloor.stream_processors.engine.explain_detections import CorpusSummary

from ._common import counted

_MOD_STYLE = {
    "asserted": "green",
    "negated": "red",
    "conditional": "magenta",
    "future": "yellow",
    "hedged": "cyan",
    "recap": "blue",
}


def render(
    out: Console,
    rules: CompiledRules,
    explained: list[DocumentExplanation],
    closing: list[DetectionCheck],
    summary: CorpusSummary,
    *,
    chosen: bool = False,
) -> None:
    """`chosen`: `--document` named the documents shown; the others were read for the detections' state only."""
    for exp in explained:
        out.print(
            f"[bold]{escape(exp.document_id)}[/bold]  {escape(exp.published_at)}  {escape(exp.source)}"
            + (f"  [dim]{escape(exp.title)}[/dim]" if exp.title else ""),
            highlight=False,
        )
        if not exp.may_match:
            out.print("  [dim]no signal can match it (the engine's screen)[/dim]", highlight=False)
        if not exp.sentences:
            out.print(f"  [dim]{escape(exp.read)}[/dim]", highlight=False)
        # Each detection's check under the sentence whose signal it judged (it read as if about the last one).
        shown_at = {s.index for s in exp.sentences}
        for s in exp.sentences:
            out.print(f"  [bold]sentence {s.index}[/bold]: {escape(s.text)}", highlight=False)
            if s.phrases:
                found = ", ".join(f"{escape(p.text)} ⟶ “{escape(p.words)}”" for p in s.phrases)
                out.print(f"    found: {found}", highlight=False)
            for c in s.signals:
                _signal(out, c)
            for d in exp.detections:
                if d.sentence_index == s.index:
                    _detection(out, d)
        for d in exp.detections:
            if d.sentence_index not in shown_at:
                _detection(out, d)
        for reason in exp.late:
            out.print(f"    [red]late[/red]: {escape(reason)}", highlight=False)
        out.print()
    more = summary.explained - len(explained)
    if more and chosen:
        out.print(
            f"[dim]… {counted(more, 'other document')} explained, not printed: --document shows only the documents "
            "it names (the others are read in order for the detections' windows and realert)[/dim]",
            highlight=False,
        )
        out.print()
    elif more:
        out.print(
            f"[dim]… {counted(more, 'more document')} explained, not printed: --limit N prints more (0: all), "
            "--json all of them[/dim]",
            highlight=False,
        )
        out.print()
    for d in closing:
        _detection(out, d)
    _summary(out, summary)


def _summary(out: Console, s: CorpusSummary) -> None:
    """What was read, by count: documents, signals per name, detections fired and held back (by reason)."""
    hidden = s.read - s.explained
    why = (
        "no phrase or name of any signal in them"
        if s.near_misses
        else "no signal can match them (the engine's screen; --near-misses shows those with some of a signal's phrases)"
    )
    tail = (
        f"; {hidden} not shown: {why} and no detection said anything on them (--all explains them too)"
        if hidden
        else ""
    )
    out.print(
        f"[bold]{counted(s.read, 'document')} read, {s.explained} explained[/bold]{escape(tail)}",
        highlight=False,
    )
    # Under --id of a detection over detections, the signals are its inputs' (it has none of its own, or not only).
    of = "; ".join(f"{d}'s inputs {', '.join(i)}" for d, i in sorted(s.inputs.items()))
    label = f"signals made (of {escape(of)})" if of else "signals made"
    if s.signals:
        made = ", ".join(f"{escape(n)} {c}" for n, c in sorted(s.signals.items(), key=lambda x: (-x[1], x[0])))
        out.print(f"  {label}: {made}", highlight=False)
    else:
        out.print(f"  {label}: none", highlight=False)
    detections = sorted(set(s.fired) | set(s.held_back) | set(s.still_open))
    for det in detections:
        parts = [f"fired {s.fired[det]}"] if det in s.fired else ["fired 0"]
        held = s.held_back.get(det, {})
        if held:
            why = ", ".join(f"{k} {c}" for k, c in sorted(held.items(), key=lambda x: (-x[1], x[0])))
            parts.append(f"held back {sum(held.values())} ({why})")
        if det in s.still_open:
            parts.append(f"still open at the end {s.still_open[det]}")
        out.print(f"  {escape(det)}: {'; '.join(parts)}", highlight=False)


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
    if c.passed_over:
        out.print(f"        {escape(c.passed_over)}", highlight=False)
    for cue in c.cues:
        mark = "applies" if cue.applied else "ignored"
        out.print(
            f"        cue {cue.cls} “{escape(cue.words)}” ({cue.direction}): {mark} — {escape(cue.reason)}",
            highlight=False,
        )
    for cap in c.captures:
        # (a GDELT code no entity has as its id has no name: the code alone)
        value = (f"{cap.value} ({cap.value_name})" if cap.value_name else cap.value) if cap.value else "none"
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
