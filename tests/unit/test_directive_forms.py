"""Every form of "order" before "X to VERB" is a directive, whose goal is still to come (future): "Commanders order
police to attack …" as "The commander orders police to attack …" (outside trial 44, M5: the number of the subject
flipped the reading). Not "in order to", a purpose. Sentences are written for these tests."""

from __future__ import annotations

import pytest

from .test_commitment_forms import reading


@pytest.mark.parametrize(
    "sentence",
    [
        "Commanders order police to attack the rebel camp.",
        "The commander orders police to attack the rebel camp.",
        "The commander ordered police to attack the rebel camp.",
        "Ordering police to attack the rebel camp, the commander left.",
        "The council issued an order to attack the rebel camp.",
    ],
)
def test_every_form_of_order_is_a_directive(sentence: str) -> None:
    assert reading(sentence, "attack") == "future", sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Militias attacked the convoy in order to seize its fuel.",
        "Troops massed at the border in order to attack the rebel camp.",
    ],
)
def test_in_order_to_is_no_directive(sentence: str) -> None:
    # (the second: a purpose is no directive; the attack reads as it would without "in order")
    want = "asserted" if sentence.startswith("Militias") else reading(sentence.replace("in order ", ""), "attack")
    assert reading(sentence, "attack") == want, sentence
