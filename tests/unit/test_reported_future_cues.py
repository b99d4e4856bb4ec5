"""Reported speech (outside trial 28, F7): "Leaders said the republic would cease to exist" read as conditional,
while "… will cease to exist" was future. After a past verb of saying or thinking, "would" is the future in the
past: future, as "will" is. A real conditional stays one: "would … if …", "would have", a condition between the verb
and "would". Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "reported-future",
        "language": "en",
        "signals": {
            "dissolve": {"match": {"all": [{"any": ["dissolve", "cease to exist"]}, "enclave"]}, "near": 6},
            "swap": {"match": {"all": ["exchange", "prisoners"]}, "near": 4},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, body: str) -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body)


@pytest.mark.parametrize(
    "body",
    [
        "The enclave's leaders said the enclave would cease to exist from next year.",
        "Officials announced that the enclave would dissolve itself.",
        "The president told reporters the enclave would dissolve by spring.",
        "Its leader wrote that the enclave would soon cease to exist.",
    ],
)
def test_would_after_a_past_verb_of_saying_is_future(body: str) -> None:
    assert _read("dissolve", body) == ("future", "would")


def test_a_reported_predicate_would_is_future_too() -> None:
    body = "Kyiv said the exchange of prisoners would take place on Friday."
    assert _read("swap", body) == ("future", "would take place")


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        # A condition after "would", or between the verb and it.
        ("The leaders said the enclave would dissolve if the army attacked.", "would"),
        ("The leaders said that if talks failed, the enclave would dissolve.", "would"),
        # "would have": a past that did not happen.
        ("Analysts said the enclave would have dissolved without the truce.", "would"),
        # No verb of saying before it.
        ("Under that plan the enclave would cease to exist.", "would"),
        # The present "says": read as before.
        ("The envoy says the enclave would dissolve under such a plan.", "would"),
    ],
)
def test_a_real_conditional_stays_conditional(body: str, cue: str) -> None:
    assert _read("dissolve", body) == ("conditional", cue)
