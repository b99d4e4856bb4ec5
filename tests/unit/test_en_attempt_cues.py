"""English attempts read as the Russian ones (tests/unit/test_ru_attempt_cues.py): trying is not doing, and a foiled
attempt negates the act tried. Sentences are written for these tests, modelled on 2023 RSS items ("Iran tried to
seize two oil tankers", "protesters who tried to storm city hall", "thwarted a Ukrainian attempt to attack Crimea")."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "en_attempts.yaml")


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        # tried: it may have failed
        ("Parliament tried to ratify the treaty but the vote failed.", "ratify", ("hedged", "tried to")),
        ("Troops attempted to storm the village.", "storm", ("hedged", "attempted to")),
        ("Iran tried to seize two oil tankers near the Strait of Hormuz.", "seize", ("hedged", "tried to")),
        ("Iran Tries to Seize Two Oil Tankers Near Persian Gulf.", "seize", ("hedged", "tries to")),
        ("Migrants trying to cross into the United States were turned back.", "cross_border", ("hedged", "trying to")),
        ("Protesters are attempting to storm the parliament.", "storm", ("hedged", "attempting to")),
        ("The government sought to ratify the treaty before the summit.", "ratify", ("hedged", "sought to")),
        ("Russian forces have struggled to capture the town.", "capture", ("hedged", "struggled to")),
        ("Troops tried hard to storm the village.", "storm", ("hedged", "tried hard to")),
        ("Troops tried again to storm the village.", "storm", ("hedged", "tried again to")),
        # the nouns
        ("North Korea's attempt to launch a spy satellite ended in failure.", "launch", ("hedged", "attempt to")),
        ("Russia shelled the city in a bid to capture it.", "capture", ("hedged", "bid to")),
        ("Attempts to cross the border rose in May.", "cross_border", ("hedged", "attempts to")),
        ("Troops massed in an effort to seize the bridge.", "seize", ("hedged", "effort to")),
        # a failed attempt was made, and what was tried may have happened in part ("the rocket flew"): hedged
        ("North Korea made a failed attempt to launch a satellite.", "launch", ("hedged", "attempt to")),
        # foiled: the act tried did not happen
        ("Troops repelled an attempt to cross the border.", "cross_border", ("negated", "repelled an attempt to")),
        ("The army thwarted an attempt to storm the village.", "storm", ("negated", "thwarted an attempt to")),
        ("Police foiled attempts to seize the airport.", "seize", ("negated", "foiled attempts to")),
        ("Kyiv thwarted attempts by Russian forces to storm the village.", "storm", ("negated", "thwarted attempts")),
        (
            "Moscow said its forces had thwarted a Ukrainian attempt to attack Crimea with drones.",
            "attack",
            ("negated", "thwarted a ukrainian attempt to"),
        ),
        ("Kyiv's forces continued to repel attempts to seize the city.", "seize", ("negated", "repel attempts to")),
        # ... not what came before the attempt or after its phrase, nor the object of a verb of foiling alone
        ("Troops stormed the village after an attempt to negotiate failed.", "storm", ("asserted", None)),
        ("A man who tried to flee was arrested after the attack.", "arrest", ("asserted", None)),
        ("A man tried to flee and was arrested at the station.", "arrest", ("asserted", None)),
        ("Two men who tried to help her were attacked by a dog.", "attack", ("asserted", None)),
        ("Troops repelled the attack on the village.", "attack", ("asserted", None)),
        # ... a verb of foiling before a verb of trying, or past a comma, foils nothing
        ("Police blocked roads, tried to storm the village.", "storm", ("hedged", "tried to")),
        ("Police blocked roads, an attempt to storm the village failed.", "storm", ("hedged", "attempt to")),
        # ... nor what a verb other than trying reaches through its own object
        ("The administration sought new powers to send seized assets to Kyiv.", "seize", ("asserted", None)),
        # done: "decided to", "managed to" are no attempts
        ("The rebels stormed the village.", "storm", ("asserted", None)),
        ("Troops managed to storm the village.", "storm", ("asserted", None)),
    ],
)
def test_attempts_and_foiled_attempts(body: str, signal: str, want: tuple[str, str | None]) -> None:
    assert modality(body, signal, spec=PACK) == want, body


@pytest.mark.parametrize(
    ("body", "signal"),
    [
        # countering, calling off, fleeing: what the verb acts on stands (cues.ATTEMPT_COUNTERS_EN, COUNTER_VERBS)
        ("Troops tried to prevent an attack on the base.", "attack"),
        ("Soldiers attempted to repel the assault on the town.", "attack"),
        ("Air defences tried to stop the strike on the port.", "strike"),
        ("Civilians trying to flee Israeli strikes gathered at the border.", "strike"),
        ("Efforts to combat Houthi attacks are under way.", "attack"),
        ("The administration tried to slow the invasion of Gaza.", "invasion"),
        ("Western leaders made efforts to reverse the invasion.", "invasion"),
    ],
)
def test_an_attempt_to_counter_leaves_its_object_standing(body: str, signal: str) -> None:
    assert modality(body, signal, spec=PACK) == ("asserted", None), body
