"""An event the signal names takes the modality of what governs it as a noun (outside trial 56, H1): a plan, threat,
demand, talks or preparation of it leaves it still to come ("plans for military intervention", "demand French troops
leave"); a verb that takes its object as given ("to discuss", "to reverse", "save … from") keeps a cue before it off
that object. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_ENGINE = Engine(
    compile_packs(
        [
            RulePack.model_validate(
                {
                    "version": 2,
                    "name": "not-yet-events",
                    "language": "en",
                    "entities": {"FRA": {"name": "France", "kind": "country", "aliases": ["France", "French"]}},
                    "signals": {
                        "intervention": {"match": {"all": ["military", {"any": ["intervention", "action"]}]}},
                        "troops_out": {
                            "match": {"all": ["troops", {"any": ["leave", "withdrawal", "pullout"]}]},
                            "near": 4,
                        },
                        "offensive": {"match": {"any": ["ground offensive"]}},
                        "sanctions": {"match": {"any": ["sanctions"]}},
                        "coup": {"match": {"any": ["coup"]}},
                    },
                }
            )
        ]
    )
)


@pytest.mark.parametrize(
    ("signal", "title", "want"),
    [
        # planned, threatened, demanded, weighed, negotiated, readied: still to come
        ("intervention", "Regional bloc draws up plan for military intervention", ("future", "plan for")),
        ("intervention", "Sahel leaders finalise plans for a military intervention", ("future", "plans for")),
        ("intervention", "Bloc raises the threat of military action against junta", ("future", "threat of")),
        ("troops_out", "Crowds demand French troops leave the capital", ("future", "demand")),
        ("troops_out", "Paris weighs troop withdrawal from the Sahel", ("future", "weighs")),
        ("troops_out", "Junta and Paris open talks on troop withdrawal", ("future", "talks on")),
        ("troops_out", "Protest leaders set ultimatum for French troops pullout", ("future", "ultimatum for")),
        ("offensive", "Army readies ground offensive in the north", ("future", "readies")),
        ("intervention", "Junta prepares for military intervention by its neighbours", ("future", "prepares for")),
        ("sanctions", "Opposition renews calls for sanctions on the generals", ("future", "calls for")),
    ],
)
def test_a_plan_threat_or_demand_leaves_the_event_to_come(signal: str, title: str, want: tuple[str, str]) -> None:
    assert reading(_ENGINE, signal, body="", title=title) == want


@pytest.mark.parametrize(
    ("signal", "title"),
    [
        # what is discussed, reversed, denounced or saved from has happened
        ("coup", "Regional body calls for summit to discuss the coup"),
        ("coup", "Ousted leader vows to save the republic from the coup"),
        ("coup", "Neighbours back push to reverse the coup"),
        # "to be" leads to the phrase before "after", not to what came before
        ("coup", "Ousted leader calls for democracy to be protected after the coup"),
        # the lead does not govern the words: another phrase between, or a comma
        ("coup", "Bloc calls for calm after the coup"),
        ("sanctions", "Exporters plan for winter, sanctions bite"),
        # the words qualify another noun, which is the lead's object
        ("coup", "Bloc sets deadline for the coup leaders"),
        # the words are the subject of the infinitive asked for
        ("sanctions", "Diplomats call for sanctions to be lifted"),
        # "demand" the noun of markets
        ("sanctions", "Export demand falls as sanctions bite"),
        # the plan's event is reported done
        ("intervention", "Plans for the military intervention, which took place in 2019, leaked"),
    ],
)
def test_a_presupposed_or_ungoverned_event_stays_asserted(signal: str, title: str) -> None:
    assert reading(_ENGINE, signal, body="", title=title) == ("asserted", None)
