"""An acronym alias reads both spellings news style uses (outside trial 68, HIGH-1): `US` reads "U.S.", `EU` "E.U.",
`U.N.` "UN", in an entity's captures and in a phrase naming the entity, still never the pronoun "us"."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.text import acronym_twin, with_acronym_twins

from .engine_helpers import doc

PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "acronym-spellings",
        "language": "en",
        "entities": {
            "USA": {"name": "United States", "kind": "country", "aliases": ["US"]},
            "EU": {"name": "European Union", "kind": "organization", "aliases": ["EU"]},
            "UN": {"name": "United Nations", "kind": "organization", "aliases": ["U.N."]},
            "NER": {"name": "Niger", "kind": "country", "aliases": ["Niger"]},
        },
        "signals": {
            "aid_cut": {
                "match": {"any": ["cut off aid", "suspended aid"]},
                "capture": {"donor": {"entities": ["USA", "EU", "UN"], "role": "any"}},
            },
            "envoy": {"match": {"any": ["@USA envoy"]}},
        },
    }
)
RULES = compile_packs([PACK])


def _donor(text: str) -> str | None:
    exp = explain_extraction(RULES, doc(text))
    got = [c for s in exp.sentences for c in s.signals if c.signal == "aid_cut" and c.matched]
    assert got, text
    return next(c for c in got[0].captures if c.name == "donor").value


@pytest.mark.parametrize(
    ("text", "donor"),
    [
        ("The U.S. cut off aid to Niger.", "USA"),
        ("The US cut off aid to Niger.", "USA"),
        ("The E.U. suspended aid to Niger.", "EU"),
        ("The EU suspended aid to Niger.", "EU"),
        ("The UN suspended aid to Niger.", "UN"),
        ("The U.N. suspended aid to Niger.", "UN"),
        # The pronoun and a lower-case spelling stay no acronym, dotted or not.
        ("Let us cut off aid to Niger.", None),
        ("the u.s. cut off aid to niger.", None),
    ],
)
def test_an_acronym_alias_reads_the_other_spelling(text: str, donor: str | None) -> None:
    assert _donor(text) == donor, text


def test_a_phrase_naming_the_entity_reads_both_spellings() -> None:
    for text in ("The U.S. envoy arrived in Niamey.", "The US envoy arrived in Niamey."):
        exp = explain_extraction(RULES, doc(text))
        assert any(c.signal == "envoy" and c.matched for s in exp.sentences for c in s.signals), text


def test_the_other_spelling_of_an_alias() -> None:
    assert acronym_twin("US") == "U.S."
    assert acronym_twin("U.S.") == "US"
    assert acronym_twin("=EU") == "=E.U."
    assert acronym_twin("US ARMY") == "U.S. ARMY"
    assert acronym_twin("КНДР") is None  # four letters: no dotted spelling in use
    assert acronym_twin("Us") is None  # not in capitals: matches any case already
    assert acronym_twin("NATO") is None
    assert with_acronym_twins(["US", "U.S.", "EU"]) == ["US", "U.S.", "EU", "E.U."]
