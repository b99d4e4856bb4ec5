"""Expectations of a backtest (`--expect FILE`): alerts that must fire and must not fire (docs/backtest.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchfloor.schemas.events import Detection


@dataclass(frozen=True)
class ExpectationFailure:
    kind: str  # "missing" or "unexpected"
    expectation: dict[str, Any]
    detail: str


def _matches(exp: dict[str, Any], d: Detection) -> bool:
    if exp.get("rule") not in (None, d.rule):
        return False
    for k, v in (exp.get("group") or {}).items():
        if d.group.get(k) != v:
            return False
    eid = exp.get("event_id")
    if eid is not None and eid not in {e.event_id for e in d.evidence}:
        return False
    min_sev = exp.get("severity")
    return not (min_sev is not None and d.severity != min_sev)


def check_expectations(spec: dict[str, Any], detections: list[Detection]) -> list[ExpectationFailure]:
    """`{"must_fire": [{rule, group?, event_id?, severity?}], "must_not_fire": [...]}`."""
    failures: list[ExpectationFailure] = []
    unknown = set(spec) - {"must_fire", "must_not_fire", "description"}
    if unknown:
        raise ValueError(f"unknown key(s) in expectations: {', '.join(sorted(unknown))}")
    for exp in spec.get("must_fire", []):
        if not any(_matches(exp, d) for d in detections):
            failures.append(ExpectationFailure("missing", exp, "no alert matched"))
    for exp in spec.get("must_not_fire", []):
        hits = [d for d in detections if _matches(exp, d)]
        if hits:
            failures.append(ExpectationFailure("unexpected", exp, f"{hits[0].rule}: {hits[0].title}"))
    return failures


def load_expectations(path: str) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        from ruamel.yaml import YAML

        data = YAML(typ="safe").load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expectations must be a mapping with must_fire / must_not_fire")
    return data
