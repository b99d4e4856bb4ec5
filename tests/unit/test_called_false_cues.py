"""A verb of naming, its object and a word of denial deny the object (outside trial 21, M10): "Gabon government
calls coup reports fake" fired a coup alert, though "called it fake" and "calling them fake" were denials. The
cue governs the object only; a cue on the side of the words it does not govern is explained as such, not as "out
of reach" at a distance within reach. The first three titles are the trial's; the rest written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc, reading

_PACK = RulePack.model_validate(
    {"version": 2, "name": "called-false", "signals": {"coup": {"match": {"any": ["coup", "seized power"]}}}}
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    ("title", "body", "cue"),
    [
        ("Gabon government calls coup reports fake", "Libreville.", "calls coup reports fake"),
        ("Gabon government calls coup reports false", "Libreville.", "calls coup reports false"),
        ("Gabon government calls reports of a coup baseless", "Libreville.", "calls reports of a coup baseless"),
        ("", "The government called the reports of a coup false.", "called the reports of a coup false"),
        ("", "Officials labelled the coup claims fabricated.", "labelled the coup claims fabricated"),
        ("", "The presidency branded the coup rumours untrue on Sunday.", "branded the coup rumours untrue"),
        (
            "",
            "Calling the coup reports unfounded, the minister appealed for calm.",
            "calling the coup reports unfounded",
        ),
    ],
)
def test_calling_the_report_false_denies_it(title: str, body: str, cue: str | None) -> None:
    modality, got = reading(_ENGINE, "coup", body=body, title=title)
    assert modality == "negated", (title, body, got)
    if cue is not None:
        assert got == cue


@pytest.mark.parametrize(
    "body",
    [
        # The words before the verb are not its object.
        "Soldiers seized power in Gabon as Bongo called the election results false.",
        # A request, not a naming.
        "Gabon's junta called on coup leaders to stop false claims.",
        # A comma ends the object.
        "Gabon's junta calls the coup necessary, the reports fake.",
        # No word of denial.
        "The junta called the coup a rescue of the nation.",
    ],
)
def test_other_words_near_a_verb_of_naming_are_no_denial(body: str) -> None:
    assert reading(_ENGINE, "coup", body=body) == ("asserted", None)


def _cue_reasons(title: str, body: str = "Libreville.") -> dict[str, str]:
    exp = explain_extraction(_ENGINE.rules, doc(body, title=title))
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "coup" and c.matched]
    return {c.words: c.reason for c in checks[0].cues}


def test_a_cue_on_the_other_side_is_not_called_out_of_reach() -> None:
    reasons = _cue_reasons("Gabon's junta defends coup, says reports false")
    assert reasons["false"] == "on the side it does not govern (3 word(s) after, and it governs only words after it)"
    # Out of reach is said when it is: before the words, farther than the reach.
    reasons = _cue_reasons(
        "", "No one in the capital expected that a dozen junior officers in the barracks would stage a coup."
    )
    assert reasons["no"].startswith("out of reach ("), reasons


def test_the_noun_call_before_a_verb_is_no_naming() -> None:
    """A 2023 title: "call" is a noun, and "fake" describes the system that was used."""
    pack = RulePack.model_validate({"version": 2, "name": "n", "signals": {"handlers": {"match": "call handlers"}}})
    got = reading(Engine(compile_packs([pack])), "handlers", body="x", title="Police call handlers used fake system")
    assert got == ("asserted", None)
