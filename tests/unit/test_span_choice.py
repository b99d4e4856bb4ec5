"""The words a signal matched are the shortest span with a phrase of each part, whichever alternative of an `any` of
phrases that phrase is (outside trial 44, H2: with `any: ["ambassador to leave", "48 hours"]` beside "ambassador",
adding "within 48 hours" to a headline moved the span onto "48 hours", so the goal "orders … ambassador to" governed
it and the expulsion read future). And `rules check` says of a cue that is a signal's phrase only what is true (M1: a
neutral phrase that is one cancels cues overlapping it from outside). Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import evaluate, smallest_window

from .engine_helpers import doc, reading


def _pack(modality: dict[str, list[str]] | None = None) -> RulePack:
    spec: dict[str, object] = {
        "version": 2,
        "name": "span-choice",
        "language": "en",
        "signals": {
            "envoy_out": {"match": {"all": [{"any": ["envoy"]}, {"any": ["envoy to depart", "72 hours"]}]}},
        },
    }
    if modality:
        spec["modality"] = modality
    return RulePack.model_validate(spec)


_ENGINE = Engine(compile_packs([_pack()]))


@pytest.mark.parametrize(
    "title",
    [
        "Military council orders Dutch envoy to depart",
        "Military council orders Dutch envoy to depart within 72 hours",
        "Military council orders Dutch envoy to depart, giving him 72 hours",
    ],
)
def test_a_later_alternative_does_not_move_the_span(title: str) -> None:
    assert reading(_ENGINE, "envoy_out", body="", title=title) == ("asserted", None), title


def test_the_span_is_the_shortest_with_a_phrase_of_each_part() -> None:
    compiled = compile_packs([_pack()])
    sig = next(s for s in compiled.signals.values() if s.name == "envoy_out")
    scan, _viable = Engine(compiled).extractor.scan(
        doc("", title="Council orders Dutch envoy to depart within 72 hours"), every=True
    )
    assert scan is not None
    sent = scan.sentences(every=True)[0]
    comps = [c for c in (evaluate(sig.node, sent, [None]) or []) if c]
    lo, hi = smallest_window(comps) or (0, 0)
    assert " ".join(sent.toks[lo - sent.start : hi - sent.start + 1]) == "envoy to depart"


def test_the_check_says_what_a_neutral_phrase_that_is_a_signal_phrase_does() -> None:
    said = [w.message for w in compile_packs([_pack({"neutral": ["envoy to depart"]})]).warnings]
    assert any("neutral phrase 'envoy to depart' is itself a phrase of signal envoy_out" in m for m in said), said
    assert not any("cannot change" in m for m in said), said
    assert any("cancels cues that overlap it from outside" in m for m in said), said


def test_the_check_says_where_a_cue_that_is_a_signal_phrase_cannot_apply() -> None:
    said = [w.message for w in compile_packs([_pack({"hedged": ["envoy to depart"]})]).warnings]
    assert any("where the signal matched these words" in m for m in said), said
