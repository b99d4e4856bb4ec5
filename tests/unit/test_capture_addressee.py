"""Whom a verb of telling addresses is not the actor (outside trial 68, MED-3: "Mali and Burkina Faso have warned other
West African nations that military intervention …" named ECOWAS the one threatening force). The teller before the
verb still is. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc

PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "sahel-threats",
        "language": "en",
        "entities": {
            "NER": {"name": "Niger", "kind": "country", "aliases": ["Niger"]},
            "NGA": {"name": "Nigeria", "kind": "country", "aliases": ["Nigeria"]},
            "ECOWAS": {"name": "ECOWAS", "kind": "organization", "aliases": ["ECOWAS", "West African =nations"]},
        },
        "signals": {
            "threat": {
                "match": {"any": ["military intervention"]},
                "capture": {"actor": {"entities": ["ECOWAS", "NGA"]}, "country": {"entities": ["NER"], "role": "any"}},
            },
        },
    }
)
RULES = compile_packs([PACK])


def _actor(text: str) -> tuple[str | None, str]:
    exp = explain_extraction(RULES, doc(text))
    got = [c for s in exp.sentences for c in s.signals if c.signal == "threat" and c.matched]
    assert got, text
    cap = next(c for c in got[0].captures if c.name == "actor")
    return cap.value, cap.reason


@pytest.mark.parametrize(
    ("text", "actor"),
    [
        # The addressee is passed over; a teller no entity names leaves no actor.
        ("Mali and Burkina Faso have warned other West African nations that military intervention in Niger "
         "would be a declaration of war.", None),
        ("Mali urged Nigeria not to join a military intervention in Niger.", None),
        # A teller the pack names is the actor, past an auxiliary.
        ("Nigeria warned West African nations that military intervention in Niger was possible.", "NGA"),
        ("Nigeria has also warned West African nations that military intervention in Niger was possible.", "NGA"),
        ("Nigeria called on ECOWAS to prepare a military intervention in Niger.", "NGA"),
        # Not an addressee: the subject, and the object of a verb of telling with nothing said after it.
        ("West African nations threatened military intervention in Niger.", "ECOWAS"),
        ("ECOWAS warned of military intervention in Niger.", "ECOWAS"),
    ],
)  # fmt: skip
def test_the_addressee_of_a_verb_of_telling_is_not_the_actor(text: str, actor: str | None) -> None:
    value, why = _actor(text)
    assert value == actor, (text, why)
    if "addressed" in why:
        assert "the addressee of" in why, why
