"""A past relative clause dated to an earlier time recalls its event ("the officers who rebelled in March", "the
militia that attacked the capital last year"): it reads `recap`, as "since" and "N months after" do (outside trial
44, M3: background clauses about the Niger coup re-raised it four times after its realert ran out). Without an
explicit earlier time the clause is often the day's news, and stays asserted. Sentences written for these tests,
modelled on headlines of 2023."""

from __future__ import annotations

import pytest

from .test_en_mutiny_cues import reading


@pytest.mark.parametrize(
    ("title", "signal", "want"),
    [
        # who / which / that + a past verb, and an earlier time after the words, in their clause
        ("Talks resume with the officers who rebelled in March", "mutiny", "recap"),
        ("The militia that attacked the capital last year has a new leader", "attack", "recap"),
        ("Envoys meet the gunmen who attacked the convoy two years ago", "attack", "recap"),
        ("The faction, which rebelled earlier this year, signs a truce", "mutiny", "recap"),
        ("Fighters who had attacked the port in 2021 are released", "attack", "recap"),
        ("The depot, which was attacked in August, reopens", "attack", "recap"),
        # a part of a month, and a day (outside trial 68, MED-4: "who overthrew Niger's president in late July")
        ("Talks resume with the officers who rebelled in late March", "mutiny", "recap"),
        ("Talks resume with the officers who rebelled in mid-March", "mutiny", "recap"),
        ("Envoys meet the gunmen who attacked the convoy on July 26", "attack", "recap"),
        ("Envoys meet the gunmen who attacked the convoy on 26 July", "attack", "recap"),
        # not a recap: no time, the day's time, a comma between, a present verb, no relative pronoun
        ("Gunmen who attacked the convoy fled into the hills", "attack", "asserted"),
        ("Gunmen who attacked the convoy on Wednesday fled into the hills", "attack", "asserted"),
        ("Officers who rebelled this week seized the radio station", "mutiny", "asserted"),
        ("Gunmen who attacked the convoy, police said in a statement in July, fled", "attack", "asserted"),
        ("Militias that attack convoys in July face new patrols", "attack", "asserted"),
        ("Gunmen attacked the convoy in March", "attack", "asserted"),
        ("Gunmen attacked the convoy on July 26", "attack", "asserted"),
        ("Gunmen who attacked the convoy in late afternoon fled", "attack", "asserted"),
    ],
)
def test_relative_recaps(title: str, signal: str, want: str) -> None:
    assert reading(title, signal) == want, title
