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


@pytest.mark.parametrize(
    ("sentence", "want"),
    [
        # the phrase of the verb committed to ends at "after", "following", "despite", "amid" (as a goal's does)
        ("Rebels agree to disarm after a swift attack on their camp.", "asserted"),
        ("Both sides pledge to talk following the attack on the port.", "asserted"),
        ("The chief vows to rebuild despite attacks on the town.", "asserted"),
        ("Leaders promise to stay amid the attack on the capital.", "asserted"),
        # unless a time to come follows it, or there is none between
        ("Generals agree to regroup after next week's attack on the port.", "future"),
        ("Generals vow to retaliate after the upcoming attack drill.", "future"),
        ("Militias threaten to attack the convoy.", "future"),
        # "until" and "before" name the time the commitment looks to
        ("Leaders agree to wait until the attack on the port.", "future"),
    ],
)
def test_the_commitment_reaches_no_further_than_after(sentence: str, want: str) -> None:
    assert reading(sentence, "attack") == want, sentence
