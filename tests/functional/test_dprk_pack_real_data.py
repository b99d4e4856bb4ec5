"""The bundled DPRK–Russia pack on real captures in ../shared/data: the expectations of the pack's contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from watchfloor.schemas.events import Detection
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def engine() -> Engine:
    _loaded, compiled = load_rules(["builtin:dprk_russia"])
    return Engine(compiled)


def _run(engine: Engine, path: Path) -> list[Detection]:
    docs = [parse_document(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return replay(docs, engine).detections


def test_seed_article(engine: Engine, shared_data: Path) -> None:
    dets = _run(engine, shared_data / "seed.jsonl")
    fired = {(d.rule, tuple(sorted(d.group.items()))) for d in dets}
    assert ("treaty-ratified", (("party", "PRK"),)) in fired
    assert ("treaty-ratified", (("party", "RUS"),)) in fired
    assert ("treaty-ratified-by-both", ()) in fired
    assert "troops-deployed" in {d.rule for d in dets}
    # The exchange is still pending ("must formally exchange", "could occur soon") and combat is
    # only expected ("appear ready to engage", "set to begin"): neither may fire.
    assert "ratification-exchange" not in {d.rule for d in dets}
    assert "troop-engagement" not in {d.rule for d in dets}


def _labels(shared_data: Path) -> dict[str, str]:
    with (shared_data / "dprk_russia_2024" / "keydays.labels.csv").open(encoding="utf-8") as f:
        return {row["id"]: row["label"] for row in csv.DictReader(f)}


def _fired_by_item(dets: list[Detection]) -> dict[str, list[Detection]]:
    by_item: dict[str, list[Detection]] = {}
    for d in dets:
        for e in d.evidence:
            by_item.setdefault(e.event_id, []).append(d)
    return by_item


def test_keydays_labelled_items(engine: Engine, shared_data: Path) -> None:
    labels = _labels(shared_data)
    dets = _run(engine, shared_data / "dprk_russia_2024" / "keydays.jsonl")
    by_item = _fired_by_item(dets)

    def rules_for(label_prefix: str) -> list[tuple[str, list[str]]]:
        return [
            (i, sorted({d.rule for d in by_item.get(i, [])}))
            for i, lab in labels.items()
            if lab.startswith(label_prefix)
        ]

    for item, rules in rules_for("TREATY_SIGNED"):
        assert "treaty-signed" in rules, item
    ratifications = rules_for("TREATY_RATIFICATION_")
    assert len(ratifications) == 2
    for item, _rules in ratifications:
        assert any(d.rule == "treaty-ratified" and d.group == {"party": "RUS"} for d in by_item.get(item, [])), item
    deployments = rules_for("TROOP_DEPLOYMENT_REPORT")
    assert len(deployments) == 3
    for item, rules in deployments:
        assert "troops-deployed" in rules, item
        if labels[item] == "TROOP_DEPLOYMENT_REPORT_KURSK":
            det = next(d for d in by_item[item] if d.rule == "troops-deployed")
            assert det.attributes.get("place") == ["Kursk"]
    for item, rules in rules_for("COMBAT_CASUALTIES_REPORT_KURSK"):
        assert "troop-engagement" in rules, item
    for prefix in ("TROOP_DEPLOYMENT_NONCONFIRMATION", "HARD_NEGATIVE_KURSK"):
        for item, rules in rules_for(prefix):
            assert rules == [], (prefix, item, rules)
    for item, lab in labels.items():
        if lab == "NONE":
            above_low = [d.rule for d in by_item.get(item, []) if d.severity != "low"]
            assert above_low == [], (item, above_low)


def test_lazy_inputs_give_the_same_alerts(engine: Engine, shared_data: Path) -> None:
    """The backtest builds Documents only for inputs a rule can match; nothing else may change."""
    from watchfloor.schemas.inputs import check_document

    lines = [
        json.loads(line)
        for p in (shared_data / "seed.jsonl", shared_data / "dprk_russia_2024" / "keydays.jsonl")
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    eager = replay([parse_document(o) for o in lines], engine).detections
    lazy = replay([check_document(o) for o in lines], engine).detections
    assert [d.model_dump() for d in eager] == [d.model_dump() for d in lazy]
    # The gate never drops a document that gives a signal.
    for o in lines:
        doc = parse_document(o)
        if engine.extract(doc):
            assert engine.extractor.may_match(doc.title, doc.body), doc.id
