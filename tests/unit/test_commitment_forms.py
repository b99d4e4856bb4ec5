"""Every form of a verb of commitment or threat before "to" is a future cue: a headline's plural present ("Officers
threaten to seize power", "Leaders vow to restore order"), the -ing form and the noun ("the army's promise to hold
an election"), as the third person and the past already were (an outside trial's Africa desk, H1: a threat read as a
coup). Sentences are written for these tests."""

from __future__ import annotations

import pytest

from .test_en_mutiny_cues import PACK
from .test_modality_v2 import modality


def reading(sentence: str, signal: str) -> str:
    # In a body: a headline's "to VERB" is a future of its own (modality._future_form)
    return modality(sentence, signal, spec=PACK)[0]


@pytest.mark.parametrize(
    ("title", "cue"),
    [
        ("Mutinous officers threaten to rebel against the capital.", "threaten"),
        ("Soldiers threatening to rebel were disarmed.", "threatening"),
        ("Militias vow to attack the convoy.", "vow"),
        ("Rebel leaders vowing to attack the capital were seen.", "vowing"),
        ("Both sides pledge to attack military targets only.", "pledge"),
        ("Commanders promise to attack only military sites.", "promise"),
        ("Generals agree to attack the stronghold.", "agree"),
    ],
)
def test_every_form_is_a_future(title: str, cue: str) -> None:
    signal = "mutiny" if " to rebel" in title else "attack"
    assert reading(title, signal) == "future", (title, cue)


@pytest.mark.parametrize(
    "title",
    ["Mutinous officers rebel against the capital.", "Militias attack the convoy.", "Generals attack the stronghold."],
)
def test_without_the_verb_it_is_reported(title: str) -> None:
    signal = "mutiny" if "rebel" in title else "attack"
    assert reading(title, signal) == "asserted", title
