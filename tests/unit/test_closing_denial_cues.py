"""A denial after the claim in its plural and past forms (outside trial 52, LOW-1): "…, officials deny" reads as
"…, Kremlin denies" does, however long the claim before the comma; a denial a negation, a modal or "to" leads
("did not deny", "won't deny", "hope to deny", "не отрицают") denies nothing. Headlines written for these tests."""

from __future__ import annotations

import pytest

from .test_modality_v2 import modality

KILLED = "troop_engagement"
SENT = "troop_deployment"
CLAIM = "North Korean soldiers were killed fighting in Russia's Kursk region"  # a long claim: past scope_after
CLAIM_RU = "Северокорейские солдаты погибли в боях в Курской области"


@pytest.mark.parametrize(
    "denial",
    [
        "officials deny",
        "officials in Seoul deny",
        "Pyongyang and Moscow deny",
        "the ministry denied",
        "Kremlin denies",
        "officials deny it",
        "Moscow continues to deny",
        "officials strongly deny",
    ],
)
@pytest.mark.parametrize("signal", [KILLED, SENT])
def test_a_denial_closing_the_headline_denies_the_claim(denial: str, signal: str) -> None:
    assert modality("", signal, title=f"{CLAIM}, {denial}")[0] == "negated"


def test_a_plural_denial_after_a_comma_denies_the_claim_before_it_though_the_sentence_goes_on() -> None:
    body = "North Korean troops were killed in Kursk, officials deny, citing a briefing on Monday."
    assert modality(body, KILLED)[0] == "negated"


@pytest.mark.parametrize(
    "body",
    [
        # the plural's words before it are its subject, which it does not deny (no comma between)
        "North Korean troops sent to Russia deny the reports of mass desertion.",
        "North Korean troops sent to Russia deny looting, the ministry said.",
    ],
)
def test_the_words_before_a_plural_denial_with_no_comma_are_its_subject(body: str) -> None:
    assert modality(body, SENT)[0] == "asserted"


@pytest.mark.parametrize(
    "denial",
    [
        "officials did not deny",
        "Kremlin does not deny",
        "Kremlin didn't deny",
        "Moscow won't deny",
        "Moscow has not denied",
        "Moscow has not yet denied",
        "Moscow never denied",
        "Moscow would neither confirm nor deny",
        "Kremlin declined to deny",
        "officials refusing to deny",
        "a loss officials hope to deny",
        "Moscow will deny",
        "Moscow cannot deny",
    ],
)
@pytest.mark.parametrize("signal", [KILLED, SENT])
def test_a_denial_not_made_leaves_the_claim_asserted(denial: str, signal: str) -> None:
    assert modality("", signal, title=f"{CLAIM}, {denial}")[0] == "asserted"


@pytest.mark.parametrize(
    ("denial", "expected"),
    [
        ("в Кремле это отрицают", "negated"),
        ("отрицают в Сеуле", "negated"),
        ("Москва и Пхеньян это отрицают", "negated"),
        ("в Кремле это не отрицают", "asserted"),
        ("Москва этого не отрицает", "asserted"),
    ],
)
def test_the_russian_denial_after_the_claim_alike(denial: str, expected: str) -> None:
    assert modality("", KILLED, title=f"{CLAIM_RU}, {denial}")[0] == expected


def test_a_russian_denial_not_made_denies_nothing_within_reach_either() -> None:
    # a short claim, "не отрицают" within scope_after: read as a denial before (the "не" was not looked at)
    assert modality("", KILLED, title="Северокорейские военные погибли под Курском, в Кремле это не отрицают")[0] == (
        "asserted"
    )


@pytest.mark.parametrize(
    "body",
    [
        # the denial is another clause's, or names something of its own: the claim stands
        f"{CLAIM}; Seoul said, and officials deny any role in the fighting.",
        f"{CLAIM}, and the mayor says residents deny him access to the site.",
        # not a denial: "dismissed" closing a sentence is mostly a dismissal from office
        f"Kremlin reshuffles generals after {CLAIM}, three officials dismissed",
    ],
)
def test_a_denial_that_does_not_close_the_claims_sentence_reaches_no_further(body: str) -> None:
    assert modality(body, KILLED)[0] == "asserted"
