"""Russian cues as the English ones (outside trial 17, H1 and H2): a denial or walk-back in a later clause whose object
points back negates what a verb of saying before it introduced ("…, что КНДР направила войска; Москва это отрицает"),
and a perfective future that takes the signal's words as its object makes them future ("Совфед рассмотрит
ратификацию договора"). Sentences are written for these tests."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

RU = str(DATA / "rules" / "ru_treaty.yaml")
SENT = "troops_sent"
RATIFIED = "ratification"


@pytest.mark.parametrize(
    "body",
    [
        "Киев заявил, что КНДР направила войска в Россию; Москва это отрицает.",
        "Киев утверждает, что КНДР перебросила войска в Россию, однако Песков опроверг это.",
        "Киев утверждает, что КНДР перебросила войска в Россию, но Кремль это категорически отрицает.",
        "Киев заявил, что КНДР направила войска в Россию, однако в Кремле назвали это фейком.",
        "Сеул сообщил, что КНДР направила войска в Россию, но позже отозвал своё заявление.",
        "По данным Сеула, КНДР отправила солдат в Россию, но Москва опровергла эти сообщения.",
        "Разведка сообщила, что КНДР направила военных в Россию, однако Пхеньян эту информацию отверг.",
    ],
)
def test_a_denial_in_a_later_clause_that_points_back_negates_the_claim(body: str) -> None:
    assert modality(body, SENT, spec=RU)[0] == "negated"


@pytest.mark.parametrize(
    "body",
    [
        # no verb of saying introduced the claim: the denial is of something else
        "КНДР направила войска в Россию; Москва это отрицает.",
        # not denied
        "Киев заявил, что КНДР направила войска в Россию; Москва этого не отрицает.",
        # a new object: the denial names what it denies
        "Киев заявил, что КНДР направила войска в Россию, но Москва опровергла сообщения о потерях.",
        "Киев заявил, что КНДР направила войска в Россию, но позже отозвал заявление о потерях.",
        # "это" the subject of a verb with its own object
        "Киев заявил, что КНДР направила войска в Россию, и это опровергает версию Москвы.",
        # a clause of concession, as in English ("…, though Moscow denies it")
        "Киев заявил, что КНДР направила войска в Россию, хотя Москва это отрицает.",
    ],
)
def test_the_denial_elsewhere_leaves_the_claim(body: str) -> None:
    assert modality(body, SENT, spec=RU)[0] == "asserted"


@pytest.mark.parametrize(
    "title",
    [
        "Совфед рассмотрит ратификацию договора с КНДР в ноябре",
        "Госдума одобрит ратификацию договора с КНДР",
        "Путин внесёт в Госдуму договор с КНДР на ратификацию",
        "Депутаты поддержат ратификацию соглашения с Пхеньяном",
        # the object first
        "Ратификацию договора с КНДР рассмотрит Совет Федерации",
    ],
)
def test_a_perfective_future_governing_the_words_makes_them_future(title: str) -> None:
    assert modality("", RATIFIED, title=title, spec=RU)[0] == "future"


@pytest.mark.parametrize(
    "title",
    [
        "Госдума одобрила ратификацию договора с КНДР",  # the past
        "Госдума ратифицировала договор с КНДР",
        "Совфед рассматривает ратификацию договора с КНДР",  # the present (imperfective)
        # an intransitive future: the treaty is its subject, the ratification done
        "Договор с КНДР, ратифицированный Госдумой, вступит в силу в декабре",
        # the verb is in another clause
        "Путин подпишет указ, а договор с КНДР ратифицирован Госдумой",
    ],
)
def test_other_verbs_leave_the_words_asserted(title: str) -> None:
    assert modality("", RATIFIED, title=title, spec=RU)[0] == "asserted"


@pytest.mark.parametrize(
    "title",
    [
        # "наносят" is also the present of the imperfective "наносить": news means the present
        "Картографы наносят на карту договор, ратифицированный Пхеньяном",
    ],
)
def test_forms_that_are_not_a_third_person_perfective_future(title: str) -> None:
    assert modality("", RATIFIED, title=title, spec=RU)[0] == "asserted"


def test_the_first_person_napomnim_is_no_future_but_a_recap() -> None:
    # the first person ("напомним") is no future of the story; opening the sentence it recalls an earlier report
    # (outside trial 71, L3)
    assert modality("", RATIFIED, title="Напомним, договор с КНДР ратифицирован Госдумой", spec=RU)[0] == "recap"


def test_a_comma_between_the_verb_and_the_words_ends_its_reach() -> None:
    """A comma between them: the verb has its own object ("подпишет указ"), or the words close a participial phrase
    that is its subject (read on Channel One 2024: "Частицы пламени, зажженные у Могилы Неизвестного Солдата,
    отправят ветеранам …")."""
    title = "Путин подпишет указ, договор с КНДР ратифицирован"
    assert modality("", RATIFIED, title=title, spec=RU)[0] == "asserted"
