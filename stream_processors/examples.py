"""Run the inline examples of rule packs: each must (or must not) make its detection fire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from watchfloor.schemas.events import SEVERITY_RANK, Detection, Document
from watchfloor.schemas.inputs import InputError, parse_document
from watchfloor.schemas.rules import CaptureValue, Example, RulePack, format_duration
from watchfloor.schemas.spellings import SOURCE_KEY, EntityValues

from .engine import CompiledRules, Engine
from .engine.compiled import ALERT, CompiledRef
from .engine.explain_detections import explain_documents
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
    names = rules.entity_names
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
                caps = _capture_ids(ex.captures, values)
                every = replay(docs, engine).detections
                fired = [d for d in every if d.rule == det.id]
                wanted = [d for d in fired if _fits(d, ex) and not _mismatches(d, ex, caps, names)]
                want = _wanted(ex, caps, names)
                near = [d for d in fired if _fits(d, ex)] if ex.fires and not wanted else []
                if near:
                    # An alert with its group, severity and confidence: say what differs, at the first key that does.
                    wrong = _mismatches(near[0], ex, caps, names)
                    msg = f"{det.id} fired{_wanted(ex, {}, names, title=False)}, but " + "; ".join(m for _k, m in wrong)
                    at = (*path, *wrong[0][0])
                    results.append(ExampleResult(pack.name, det.id, i, name, False, msg, pi, at))
                elif ex.fires and not wanted:
                    if fired:
                        got = "; ".join(sorted({_describe(d, ex.captures) for d in fired}))
                        msg = f"expected {det.id} to fire{want}, it did not (fired: {got})"
                    else:
                        # What did fire (outside trial 28, F5: "fired: nothing" beside another detection's alert),
                        # then why this one did not, as `rules explain` says it.
                        msg = f"expected {det.id} to fire{want}, it did not{_others_fired(rules, det.id, every)}"
                        msg += _inputs_fired(rules, det.id, every)
                        msg += _why_not(engine, det.id, docs)
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
                    msg = f"expected {det.id} not to fire{want}, it fired: {_describe(wanted[0], ex.captures)}"
                    results.append(ExampleResult(pack.name, det.id, i, name, False, msg, pi, path))
                else:
                    results.append(ExampleResult(pack.name, det.id, i, name, True, "ok", pi, path))
    return results


def _others_fired(rules: CompiledRules, det_id: str, alerts: Sequence[Detection]) -> str:
    """Of a detection that fired nothing on an example: " (fired: nothing)" when no detection fired, else the alerts
    of the others, with their titles (not those of its input detections: `_inputs_fired` says them, with why it
    took none)."""
    if not alerts:
        return " (fired: nothing)"
    compiled = next((d for d in rules.detections if d.id == det_id), None)
    inputs = {r.detection for r in compiled.refs if r.detection is not None} if compiled is not None else set()
    others = list(dict.fromkeys(f"{a.rule} {_describe(a)}" for a in alerts if a.rule not in inputs))
    if not others:
        return f" ({det_id} fired nothing)"
    return f" ({det_id} fired nothing; fired: {'; '.join(others)})"


_REASONS_SHOWN = 3  # distinct reasons a failure says; `rules explain` says them all


def _why_not(engine: Engine, det_id: str, docs: Sequence[Document]) -> str:
    """Why a detection over signals fired nothing on an example's documents, as `rules explain` says it (its
    Explainer, on the same documents from an empty state): per signal it was given, why it did not fire on it
    ("; not fired (modality): the signal is asserted; offensive-hedged takes hedged"); when it was given none,
    why each of its signals did not match ("; no signal offensive: no 'launch'"). "" when there is nothing more
    to say (over detections, `_inputs_fired` said it)."""
    explained, _closing = explain_documents(engine, docs, only={det_id})
    reasons = [
        f"not fired ({c.kind}): {c.reason}"
        for e in explained
        for c in e.detections
        if c.detection == det_id and not c.fired and not c.signal.startswith(ALERT) and c.signal
    ]
    if not reasons:
        compiled = next((d for d in engine.rules.detections if d.id == det_id), None)
        wanted = [r.signal for r in compiled.refs if r.detection is None] if compiled is not None else []
        for name in dict.fromkeys(wanted):
            checks = [sc for e in explained for sent in e.sentences for sc in sent.signals if sc.signal == name]
            if any(name in e.made for e in explained) or any(sc.matched for sc in checks):
                continue  # made (or matched): nothing true to add of it
            reasons += [f"no signal {name}: {sc.reason}" for sc in checks] or [
                f"no signal {name}: none of its phrases or names is in the documents"
            ]
    shown = list(dict.fromkeys(reasons))
    more = len(shown) - _REASONS_SHOWN
    text = "".join(f"; {r}" for r in shown[:_REASONS_SHOWN])
    return text + (f"; … and {more} more (`rules explain` says them all)" if more > 0 else "")


def _inputs_fired(rules: CompiledRules, det_id: str, alerts: Sequence[Detection]) -> str:
    """Of a detection over detections that did not fire: what its input detections fired, each with whether it
    takes that alert (outside trial 17, L4: "fired: nothing" read as if no rule had fired), else ""."""
    compiled = next((d for d in rules.detections if d.id == det_id), None)
    refs = [r for r in compiled.refs if r.detection is not None] if compiled is not None else []
    if not refs:
        return ""
    inputs = list(dict.fromkeys(r.detection for r in refs if r.detection is not None))
    said = []
    for a in alerts:
        if a.rule not in inputs:
            continue
        wants = [_ref_misses(r, a) for r in refs if r.detection == a.rule]
        why = "taken" if any(not w for w in wants) else "not taken: " + " or ".join(", ".join(w) for w in wants)
        said.append(f"{a.rule} {_describe(a)}: {why}")
    if not said:
        return f"; its inputs ({', '.join(inputs)}) fired nothing either"
    return "; its inputs fired: " + "; ".join(said)


def _ref_misses(ref: CompiledRef, a: Detection) -> list[str]:
    """What an input alert lacks that an alert reference asks for (none: it takes it)."""
    out = [f"needs {k}={v}" for k, v in ref.where if a.group.get(k) != v]
    if SEVERITY_RANK[a.severity] < ref.min_rank:
        out.append(f"needs severity {_RANK_NAME.get(ref.min_rank, ref.min_rank)} or more")
    if ref.confidence is not None and a.confidence != ref.confidence:
        out.append(f"needs confidence {ref.confidence}")
    return out


_RANK_NAME = {rank: name for name, rank in SEVERITY_RANK.items()}


def _group_ids(group: dict[str, str], values: EntityValues) -> dict[str, str]:
    """An example's group with each entity value as its id (one that names no entity, which `rules check` refuses,
    and a source, as written)."""
    out: dict[str, str] = {}
    for key, value in group.items():
        eid = values.resolve(key, value)[0] if key != SOURCE_KEY else None
        out[key] = eid or value
    return out


def _capture_ids(captures: dict[str, CaptureValue] | None, values: EntityValues) -> dict[str, list[str]]:
    """An example's captures with each value as the entity id it names (one that names none, which `rules check`
    refuses, as written); a single value, a list or none (null / [])."""
    out: dict[str, list[str]] = {}
    for key, value in (captures or {}).items():
        given = [] if value is None else [value] if isinstance(value, str) else list(value)
        out[key] = [values.resolve(f"captures {key}", v)[0] or v for v in given]
    return out


def _fits(d: Detection, ex: Example) -> bool:
    """Whether an alert has the group, severity and confidence the example names."""
    if ex.group is not None and d.group != ex.group:
        return False
    if ex.severity is not None and d.severity != ex.severity:
        return False
    return ex.confidence is None or d.confidence == ex.confidence


def _captured(d: Detection, key: str, names: dict[str, str]) -> list[str]:
    """What an alert holds under a capture, as names: its group value, else what its reports captured
    (`attributes`, which hold names)."""
    if key in d.group:
        return [names.get(d.group[key], d.group[key])]
    return list(d.attributes.get(key, ()))


def _shown(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "none"


def _mismatches(
    d: Detection, ex: Example, caps: dict[str, list[str]], names: dict[str, str]
) -> list[tuple[tuple[str, ...], str]]:
    """Each capture or title the example asks for that the alert does not have: (the key's place in the
    example, "captures by: expected Russia, got North Korea")."""
    out: list[tuple[tuple[str, ...], str]] = []
    for key, ids in caps.items():
        want = sorted({names.get(e, e) for e in ids})
        got = _captured(d, key, names)
        if sorted(set(got)) != want:
            out.append((("captures", key), f"captures {key}: expected {_shown(want)}, got {_shown(got)}"))
    if ex.title is not None and d.title != ex.title:
        out.append((("title",), f"title: expected {ex.title!r}, got {d.title!r}"))
    return out


def _wanted(ex: Example, caps: dict[str, list[str]], names: dict[str, str], *, title: bool = True) -> str:
    parts = []
    if ex.group is not None:
        parts.append(f"group {ex.group}")
    if ex.severity is not None:
        parts.append(f"severity {ex.severity}")
    if ex.confidence is not None:
        parts.append(ex.confidence)
    for key, ids in caps.items():
        parts.append(f"{key} {_shown(sorted({names.get(e, e) for e in ids}))}")
    if title and ex.title is not None:
        parts.append(f"title {ex.title!r}")
    return (" with " + ", ".join(parts)) if parts else ""


def _span(d: timedelta | None) -> str:
    return format_duration(d) if d is not None else "-"


def _describe(d: Detection, captures: dict[str, CaptureValue] | None = None) -> str:
    conf = f", {d.confidence}" if d.confidence else ""
    group = f" {d.group}" if d.group else ""
    shown = [f"{k} {_shown(d.attributes.get(k, ()))}" for k in (captures or {}) if k not in d.group]
    caps = f" [{'; '.join(shown)}]" if shown else ""
    return f"{d.title!r}{group} ({d.severity}{conf}){caps}"
