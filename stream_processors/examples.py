"""Run the inline examples of rule packs: each must (or must not) make its detection fire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watchfloor.schemas.inputs import InputError, parse_document
from watchfloor.schemas.rules import RulePack

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


def run_examples(packs: Sequence[RulePack], rules: CompiledRules) -> list[ExampleResult]:
    """Each example runs alone, from empty state, through the full compiled rule set."""
    engine = Engine(rules)
    results: list[ExampleResult] = []
    for pack in packs:
        for det in pack.detections:
            for i, ex in enumerate(det.examples):
                name = ex.name or f"example {i + 1}"
                try:
                    docs = [parse_document(dict(d)) for d in ex.documents]
                except InputError as e:
                    results.append(ExampleResult(pack.name, det.id, i, name, False, f"bad example document: {e}"))
                    continue
                fired = [d for d in replay(docs, engine).detections if d.rule == det.id]
                if ex.group is not None:
                    fired = [d for d in fired if d.group == ex.group]
                if ex.fires and not fired:
                    want = f" with group {ex.group}" if ex.group else ""
                    msg = f"expected {det.id} to fire{want}, it did not"
                    results.append(ExampleResult(pack.name, det.id, i, name, False, msg))
                elif not ex.fires and fired:
                    msg = f"expected {det.id} not to fire, it fired: {fired[0].title}"
                    results.append(ExampleResult(pack.name, det.id, i, name, False, msg))
                else:
                    results.append(ExampleResult(pack.name, det.id, i, name, True, "ok"))
    return results
