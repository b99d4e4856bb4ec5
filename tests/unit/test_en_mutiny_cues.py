"""English modality misreads an outside trial found on 2023 headlines about a mercenary mutiny and its leader's
death in a plane crash: yes/no questions, "believed to have", "presumed dead", the object of "vows to crush", "has
not confirmed", "yet to be confirmed", "unclear who", "will take time to confirm". Sentences are written for these
tests, modelled on real headlines of 2023."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "en_mutiny.yaml")


def reading(title: str, signal: str) -> str:
    return modality("", signal, title=title, spec=PACK)[0]


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        # a yes/no question asks whether it happened
        ("Did the mercenary chief die when his jet went down?", "death", "hedged"),
        ("Was the warlord on board the aircraft that crashed outside the capital?", "aboard", "hedged"),
        ("Has the militia launched an attack on the city?", "attack", "hedged"),
        ("Did the shelling kill anyone?", "death", "hedged"),
        # ... not what a definite noun phrase names, which the question takes as given, nor a parenthesis, nor the
        # words before a colon
        ("Were the gunmen behind the attack on the convoy?", "attack", "asserted"),
        ("Was the warlord aboard the jet that crashed outside the capital?", "plane_crash", "asserted"),
        ("Was the general, who led the mutiny, on board?", "mutiny", "asserted"),
        ("After the mutiny: will the army stay loyal?", "mutiny", "asserted"),
        ("Has the army chief been seen since the mutiny?", "mutiny", "recap"),  # the recap, not the question
        # ... not a wh-question, which takes the event as given, nor a statement
        ("Why did the mercenaries rebel against the army?", "mutiny", "asserted"),
        ("What set off the mutiny?", "mutiny", "asserted"),
        ("The militia launched an attack on the city", "attack", "asserted"),
        # ... and a question opened by "will" asks too: its "will" is no future (outside trial 61, H5)
        ("Will the militia attack the city?", "attack", "hedged"),
        # Russian yes/no questions, with "ли" or by intonation alone, the usual form of a Russian headline's
        # (outside trial 41, M1: this last one read asserted before), but not a wh-question
        ("Погиб ли командир наемников?", "death_ru", "hedged"),
        ("Командир наемников погиб?", "death_ru", "hedged"),
        ("Где погиб командир наемников?", "death_ru", "asserted"),
        ("Командир наемников погиб", "death_ru", "asserted"),
    ],
)
def test_yes_no_questions(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        # a perfect infinitive is never a headline's future; the hedge before it wins
        ("Footage shows jet crash believed to have killed the mercenary chief", "fatal_crash", "hedged"),
        ("Mercenary chief reported to have been killed in jet crash", "death", "hedged"),
        ("Mercenary chief said to have died in crash near capital", "death", "hedged"),
        ("Rebel commander alleged to have ordered the attack on the convoy", "attack", "hedged"),
        ("Warlord thought to have died aboard the jet", "death", "hedged"),
        # ... while a headline's "to" + a bare verb stays a future
        ("Mercenaries to attack the capital, officials say", "attack", "future"),
    ],
)
def test_perfect_infinitive(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        ("Mercenary chief presumed dead after jet crash", "death", "hedged"),
        ("Warlord believed dead in aircraft crash", "death", "hedged"),
        ("Ten feared dead as jet crashes outside capital", "death", "hedged"),
        ("Militia leader reported dead, his aides say", "death", "hedged"),
        # ... the crash after it is not what is presumed
        ("Mercenary chief presumed dead after jet crash", "plane_crash", "asserted"),
    ],
)
def test_presumed_dead(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        # what a verb of countering acts on exists already
        ("President vows to crush armed mutiny by mercenaries", "mutiny", "asserted"),
        ("President vows to quash the armed rebellion", "mutiny", "asserted"),
        ("Army will suppress the revolt, minister says", "mutiny", "asserted"),
        ("Government pledges to investigate the attack on the convoy", "attack", "asserted"),
        ("Minister promises to respond to the attack on the border post", "attack", "asserted"),
        ("Army fails to stop the attack on the capital", "attack", "asserted"),
        ("Militia will not stop its attacks on the capital", "attack", "asserted"),
        # ... not what it would act on if it came, nor what another verb brings about
        ("President vows to crush any mutiny in the ranks", "mutiny", "future"),
        ("Army ready to repel future attacks on the capital", "attack", "future"),
        ("Militia vows to launch an attack on the capital", "attack", "future"),
        ("The army could repel an initial attack on the capital", "attack", "hedged"),
        ("Nothing will stop us despite calls for an attack", "attack", "future"),
        ("Militia will attack the capital, commander says", "attack", "future"),
    ],
)
def test_object_of_countering(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        ("The government has not confirmed that the warlord died in the crash", "death", "hedged"),
        ("Officials did not confirm the warlord was killed", "death", "hedged"),
        ("The ministry has yet to confirm the warlord's death", "death", "hedged"),
        ("The attack on the convoy was not confirmed", "attack", "hedged"),
        ("Reports of attacks on the capital were not confirmed", "attack", "hedged"),
        # ... a refusal stays a negation, and "not" alone too
        ("The ministry refused to confirm the warlord's death", "death", "negated"),
        ("The warlord was not killed in the crash, his aides say", "death", "negated"),
    ],
)
def test_not_confirmed(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        ("Jet crashes near capital, killing all on board - but warlord's death yet to be confirmed", "death", "hedged"),
        ("Warlord's jet lands abroad; unclear who is on board", "aboard", "hedged"),
        ("Not clear who was on board the crashed jet", "aboard", "hedged"),
        ("It will take time to confirm the warlord was killed", "death", "hedged"),
    ],
)
def test_yet_to_be_confirmed_unclear_who_take_time(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title
