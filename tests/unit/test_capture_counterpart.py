"""Captures (outside trial 23, M1-2): the other side of a bilateral act ("a pact with X", "the treaty between X and
Y") is not its actor. The fallback "first mention after the signal's words" read "Deputies ratified the pact with
Pyongyang" (the Duma's vote) as North Korea ratifying, and the bundled pack raised "North Korea ratified" and "Both
ratified" 18 days before Pyongyang's decree. Sentences written for these tests, with the bundled pack."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import doc

_PACKS, RULES = load_rules(["builtin:dprk_russia"])


def party(text: str) -> tuple[str | None, str]:
    # The pack's context asks for both countries in the document: the headline names them.
    exp = explain_extraction(RULES, doc(text, title="Moscow and Pyongyang: the partnership treaty"))
    got = [c for s in exp.sentences for c in s.signals if c.signal == "treaty_ratification" and c.matched]
    assert got, text
    cap = next(c for c in got[0].captures if c.name == "party")
    return cap.value, cap.reason


@pytest.mark.parametrize(
    "text",
    [
        "Deputies ratified the pact with Pyongyang.",
        "Deputies ratified the pact with the DPRK on Thursday.",
        "Lawmakers ratified the treaty between Russia and North Korea.",
        "Lawmakers ratified the treaty between the DPRK and Russia.",
    ],
)
def test_the_other_party_of_a_bilateral_act_is_not_its_actor(text: str) -> None:
    value, reason = party(text)
    assert value is None, (text, value, reason)
    assert "its other party" in reason


def test_a_mention_after_the_other_party_is_still_taken() -> None:
    assert party("Lawmakers ratified the treaty with North Korea, Russian officials said.") == (
        "RUS",
        "the first mention after the signal's words (not its other party)",
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Russia ratified the pact with Pyongyang.", "RUS"),  # the subject, before: as it was
        ("The pact with Moscow was ratified by North Korea.", "PRK"),  # the passive's agent: as it was
    ],
)
def test_the_actor_named_elsewhere_is_unchanged(text: str, want: str) -> None:
    assert party(text)[0] == want, text
