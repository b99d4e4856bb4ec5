"""Run the inline examples of rule packs: each must (or must not) make its detection fire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from watchfloor.schemas.events import Detection
from watchfloor.schemas.inputs import InputError, parse_document
from watchfloor.schemas.rules import Example, RulePack, format_duration
from watchfloor.schemas.spellings import SOURCE_KEY, EntityValues

from .engine import CompiledRules, Engine
from .replay import replay


@dataclass(frozen=True)
class ExampleResult:
    pack: str
    detection: str
    index: int
    name: str
    passed: bool
    message: str
    pack_index: int = 0  # which of the packs given, and where in it (its file's position: LoadedPack.position)
    path: tuple[str | int, ...] = ()


def run_examples(packs: Sequence[RulePack], rules: CompiledRules) -> list[ExampleResult]:
    """Each example runs alone, from empty state, through the full compiled rule set."""
    engine = Engine(rules)
    values = EntityValues(packs)
    results: list[ExampleResult] = []
    for pi, pack in enumerate(packs):
        for di, det in enumerate(pack.detections):
            for i, ex in enumerate(det.examples):
                name = ex.name or f"example {i + 1}"
                path: tuple[str | int, ...] = ("detections", di, "examples", i)
                if ex.group:
                    # An alert's group holds entity ids: a group written by name or alias ("Niger") means its id.
                    ex = ex.model_copy(update={"group": _group_ids(ex.group, values)})
                try:
                    docs = [parse_document(dict(d)) for d in ex.documents]
                except InputError as e:
                    results.append(
                        ExampleResult(pack.name, det.id, i, name, False, f"bad example document: {e}", pi, path)
                    )
                    continue
                fired = [d for d in replay(docs, engine).detections if d.rule == det.id]
                wanted = [d for d in fired if _fits(d, ex)]
                want = _wanted(ex)
                if ex.fires and not wanted:
                    got = "; ".join(sorted({_describe(d) for d in fired})) or "nothing"
                    msg = f"expected {det.id} to fire{want}, it did not (fired: {got})"
                    if det.pattern.absence is not None and not fired:
                        # Its window closes only when event time passes it, and event time is the newest
                        # report's minus the lateness: an example of one report never gets there.
                        msg += (
                            f"; an absence fires once event time passes its window: give the example a later "
                            f"document, dated more than `within` ({_span(det.within)}) + the lateness "
                            f"({_span(rules.lateness)}) after the first"
                        )
                    results.append(ExampleResult(pack.name, det.id, i, name, False, msg, pi, path))
                elif not ex.fires and wanted:
                    msg = f"expected {det.id} not to fire{want}, it fired: {_describe(wanted[0])}"
                    results.append(ExampleResult(pack.name, det.id, i, name, False, msg, pi, path))
                else:
                    results.append(ExampleResult(pack.name, det.id, i, name, True, "ok", pi, path))
    return results


def _group_ids(group: dict[str, str], values: EntityValues) -> dict[str, str]:
    """An example's group with each entity value as its id (one that names no entity, which `rules check` refuses,
    and a source, as written)."""
    out: dict[str, str] = {}
    for key, value in group.items():
        eid = values.resolve(key, value)[0] if key != SOURCE_KEY else None
        out[key] = eid or value
    return out


def _fits(d: Detection, ex: Example) -> bool:
    """Whether an alert has everything the example names: group, severity, confidence."""
    if ex.group is not None and d.group != ex.group:
        return False
    if ex.severity is not None and d.severity != ex.severity:
        return False
    return ex.confidence is None or d.confidence == ex.confidence


def _wanted(ex: Example) -> str:
    parts = []
    if ex.group is not None:
        parts.append(f"group {ex.group}")
    if ex.severity is not None:
        parts.append(f"severity {ex.severity}")
    if ex.confidence is not None:
        parts.append(ex.confidence)
    return (" with " + ", ".join(parts)) if parts else ""


def _span(d: timedelta | None) -> str:
    return format_duration(d) if d is not None else "-"


def _describe(d: Detection) -> str:
    conf = f", {d.confidence}" if d.confidence else ""
    group = f" {d.group}" if d.group else ""
    return f"{d.title!r}{group} ({d.severity}{conf})"
