"""Backtest: read event files, replay them through rules, compare with expectations, write JSON/HTML."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchfloor.producers.jsonl import Item, read_jsonl_blocks
from watchfloor.producers.rss import fetch_feed
from watchfloor.schemas.events import DOCUMENT_TYPES, DeadLetter, Detection, Document
from watchfloor.schemas.inputs import CheckedInput, EventTime, LineGate
from watchfloor.stream_processors.engine import CompiledRules, Engine
from watchfloor.stream_processors.ports import EventLog
from watchfloor.stream_processors.replay import ReplayResult, detection_to_json, replay

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf")


@dataclass
class LoadedEvents:
    # Documents; read with a rules' gate, those the rules cannot match are just their event time.
    documents: list[Document | CheckedInput | EventTime] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def source_kind(path: str, kind: str = "auto") -> str:
    if kind != "auto":
        return kind
    lower = path.lower()
    if lower.endswith(FEED_SUFFIXES) or lower.startswith(("http://", "https://")):
        return "rss"
    return "jsonl"


@contextmanager
def bulk_load() -> Iterator[None]:
    """Pause the cyclic garbage collector while hundreds of thousands of records are held: each
    collection would walk all of them (half the load time), and they form no cycles to collect."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_events(
    paths: Iterable[str],
    *,
    kind: str = "auto",
    max_body_chars: int = 200_000,
    on_items: Callable[[int], None] | None = None,
    gate: LineGate | None = None,
) -> LoadedEvents:
    """Documents from JSONL (.jsonl, .jsonl.gz) and feed files; bad records become dead letters.
    `gate` (CompiledRules.json_gate of the rules the documents will be replayed through) lets the
    JSONL reader mark, a block of lines at a time, the documents those rules cannot match."""
    with bulk_load():
        return _read_events(paths, kind=kind, max_body_chars=max_body_chars, on_items=on_items, gate=gate)


def _read_events(
    paths: Iterable[str],
    *,
    kind: str,
    max_body_chars: int,
    on_items: Callable[[int], None] | None,
    gate: LineGate | None = None,
) -> LoadedEvents:
    out = LoadedEvents()
    for p in paths:
        k = source_kind(p, kind)
        blocks: Iterator[tuple[list[Item], int]]
        if k == "rss":
            res = fetch_feed(p, max_body_chars=max_body_chars)
            if res.error is not None:
                out.errors.append(f"{p}: {res.error.reason}")
                continue
            items: list[Item] = list(res.items)
            blocks = iter([(items, sum(1 for x in items if isinstance(x, DeadLetter)))])
        else:
            try:
                # Checked, not built: documents no rule can match are never turned into objects.
                blocks = read_jsonl_blocks(p, max_body_chars=max_body_chars, checked=True, gate=gate)
            except OSError as e:
                out.errors.append(f"{p}: {e}")
                continue
        try:
            for block, dead in blocks:
                if dead:
                    out.dead_letters.extend(x for x in block if isinstance(x, DeadLetter))
                    out.documents.extend(x for x in block if not isinstance(x, DeadLetter))
                else:
                    out.documents.extend(block)  # type: ignore[arg-type]
                if on_items is not None:
                    on_items(len(block))
        except OSError as e:  # e.g. a truncated .gz in the middle of a file
            out.errors.append(f"{p}: {e}")
    return out


def documents_from_store(store: EventLog, batch: int = 5000) -> Iterator[Document]:
    """Every document in the log, in log order (what the live runner saw)."""
    position = 0
    while True:
        got = store.read(position, types=DOCUMENT_TYPES, limit=batch)
        if not got:
            return
        for se in got:
            yield Document.model_validate(se.event.payload)
        position = got[-1].position


def run_backtest(
    documents: Iterable[Document | CheckedInput | EventTime],
    rules: CompiledRules,
    *,
    order: str = "event-time",
    on_documents: Callable[[int], None] | None = None,
) -> ReplayResult:
    with bulk_load():
        return replay(documents, Engine(rules), order=order, on_documents=on_documents)


def result_json(
    result: ReplayResult, loaded: LoadedEvents | None = None, rules: list[str] | None = None
) -> dict[str, Any]:
    alerts = [detection_to_json(d) for d in result.detections]
    by_rule: dict[str, int] = {}
    for d in result.detections:
        by_rule[d.rule] = by_rule.get(d.rule, 0) + 1
    stats: dict[str, Any] = {
        "documents": result.documents,
        "signals": result.signals,
        "alerts": len(alerts),
        "late_signals": len(result.late),
        "dead_letters": len(loaded.dead_letters) if loaded else 0,
        "alerts_by_rule": by_rule,
        "signals_by_name": dict(result.signals_by_name),
    }
    if rules:
        stats["rules"] = ", ".join(rules)
    return {
        "alerts": alerts,
        "stats": stats,
        "dead_letters": [dl.model_dump(mode="json") for dl in (loaded.dead_letters if loaded else [])][:1000],
    }


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
