"""Russian "вскоре" / "скоро" (soon) is a future only when the verb it governs is not in the past (outside trial 21,
H5): "Вскоре Госдума ратифицировала договор" means shortly afterwards, the act is done (asserted, as the English
"soon imposed" is), while "вскоре ратифицирует" stays a future. The first two sentences are the trial's; the rest
written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc, reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "soon-cues",
        "language": ["ru", "en"],
        "signals": {
            "ratified": {"match": {"all": [{"any": ["ратифицировал"]}, {"any": ["договор"]}]}, "near": 10},
            "ratified_noun": {"match": "ратификация договора"},
            "sanctions": {"match": {"all": [{"any": ["ввели", "imposed"]}, {"any": ["санкции", "sanctions"]}]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        ("ratified", "Вскоре Госдума ратифицировала договор с Белоруссией."),
        ("ratified", "Вскоре после этого Россия ратифицировала договор с Белоруссией."),
        ("sanctions", "Вскоре США ввели санкции против России."),
        ("ratified", "Скоро Госдума ратифицировала договор."),
        ("ratified", "Вскоре договор был ратифицирован Госдумой."),
        ("ratified", "Госдума ратифицировала договор вскоре после визита Лукашенко."),
        ("ratified", "Госдума ратифицировала договор вскоре."),
        # English, as it was: "soon" after the words, a past verb.
        ("sanctions", "ECOWAS soon imposed sanctions on Niger."),
    ],
)
def test_soon_with_a_past_verb_is_shortly_afterwards(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "cue"),
    [
        ("ratified", "Вскоре Госдума ратифицирует договор с Белоруссией.", "вскоре"),
        ("ratified", "Вскоре договор будет ратифицирован.", "будет"),  # (the nearer cue)
        ("ratified", "Скоро Госдума ратифицирует договор.", "скоро"),
        # No verb at all: a future, as before.
        ("ratified_noun", "Вскоре — ратификация договора в Госдуме.", "вскоре"),
        ("ratified_noun", "Ратификация договора в Госдуме вскоре.", "вскоре"),
    ],
)
def test_soon_with_a_verb_not_in_the_past_stays_a_future(signal: str, body: str, cue: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("future", cue)


def test_the_explanation_names_the_past_verb() -> None:
    exp = explain_extraction(_ENGINE.rules, doc("Вскоре Госдума ратифицировала договор с Белоруссией."))
    (check,) = [c for s in exp.sentences for c in s.signals if c.signal == "ratified" and c.matched]
    reasons = [c.reason for c in check.cues if c.words == "вскоре" and not c.applied]
    assert "the verb 'ратифицировала' is in the past: it was done soon after" in reasons, reasons
