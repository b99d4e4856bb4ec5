"""The correlator's state layout: observations the garbage collector stops tracking, and checkpoints of every
version (JSON arrays, the evidence objects of version 2) carrying on exactly as the state they were taken from."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from watchfloor.schemas.events import Detection
from watchfloor.stream_processors.engine.patterns import E_CAPTURES, E_ID, EV

from .engine_helpers import DATA, doc, engine_for

PACK = str(DATA / "rules" / "patterns.yaml")

DOCS = [
    doc("Alphaland closed the border.", at=0, doc_id="b1", source="Wire A"),
    doc("Kursk is near. Alphaland closed the border.", at=1, doc_id="b2", source="Wire B"),
    doc("Betastan closed the border.", at=2, doc_id="b3", source="Wire C"),
    doc("Talks between Alphaland and Betastan opened.", at=3, doc_id="b4"),
    doc("Alphaland closed the border again.", at=9, doc_id="b5", source="Wire A"),
    doc("Talks between Alphaland and Betastan opened again.", at=10, doc_id="b6"),
]


def _run(state: dict[str, Any] | None, docs: list[Any], engine: Any) -> tuple[dict[str, Any], list[Any]]:
    state = engine.initial_state() if state is None else state
    out: list[Any] = []
    for d in docs:
        state, outs = engine.process_document(state, d)
        out.extend(o for o in outs if isinstance(o, Detection))
    return state, out


def _observations(state: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [item for gs in state["g"].values() for item in gs["i"]]


def test_observations_and_their_evidence_leave_the_collectors_sight() -> None:
    """Each observation holds only strings, numbers and flat tuples: once the collector has seen it, it stops
    tracking it, so full collections no longer walk the whole state (docs/architecture.md §8)."""
    engine = engine_for(PACK)
    state, fired = _run(None, DOCS[:4], engine)
    assert fired
    items = _observations(state)
    assert items and all(type(i) is tuple and type(i[EV]) is tuple for i in items)
    assert ("country", "ALPHA") in {i[EV][E_CAPTURES] for i in items}  # captures kept, flat: name, value, ...
    for _ in range(3):  # a tuple is let go of after the tuples in it: a level per collection at worst
        gc.collect()
    assert not [i for i in items if gc.is_tracked(i)]
    assert not [i[EV] for i in items if gc.is_tracked(i[EV])]


def test_a_json_checkpoint_carries_on_as_the_live_state() -> None:
    engine = engine_for(PACK)
    live, fired_live = _run(None, DOCS, engine)
    half, fired_first = _run(None, DOCS[:3], engine)
    restored = engine.restore(json.loads(json.dumps(half)))
    assert restored == _run(None, DOCS[:3], engine)[0]  # tuples again, the same values
    resumed, fired_rest = _run(restored, DOCS[3:], engine)
    assert [d.id for d in fired_first + fired_rest] == [d.id for d in fired_live]
    assert resumed == live


def test_a_version_2_checkpoint_with_evidence_objects_carries_on() -> None:
    """Version 2 kept each observation's evidence as an object: `restore` makes it the record."""
    engine = engine_for(PACK)
    live, fired_live = _run(None, DOCS, engine)
    half, fired_first = _run(None, DOCS[:3], engine)
    old = json.loads(json.dumps(half))
    old["v"] = 2
    for gs in old["g"].values():
        for item in gs["i"]:
            e = item[EV]
            item[EV] = {
                "event_id": e[0],
                "signal": e[1],
                "source": e[2],
                "url": e[3],
                "published_at": e[4],
                "sentence": e[5],
                "modality": e[6],
                "captures": dict(zip(e[7][::2], e[7][1::2], strict=True)),
                "places": e[8],
                **({"at": e[9]} if e[9] is not None else {}),
                **({"story": e[10]} if e[10] is not None else {}),
            }
    assert any(isinstance(i[EV], dict) and i[EV]["event_id"] for gs in old["g"].values() for i in gs["i"])
    resumed, fired_rest = _run(engine.restore(old), DOCS[3:], engine)
    assert [d.id for d in fired_first + fired_rest] == [d.id for d in fired_live]
    assert resumed == live
    assert all(type(i[EV]) is tuple and i[EV][E_ID] for i in _observations(resumed))


def test_a_state_from_a_newer_engine_is_refused_not_misread() -> None:
    """Read as version 1, a newer state would lose its observations: the engine says so instead."""
    engine = engine_for(PACK)
    state, _fired = _run(None, DOCS[:3], engine)
    newer = json.loads(json.dumps(state))
    newer["v"] = 99
    with pytest.raises(ValueError, match="version 99, newer than this engine's"):
        engine.restore(newer)
