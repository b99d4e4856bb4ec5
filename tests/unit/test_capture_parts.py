"""Captures keep to the part of the sentence the signal's words stand in (outside trial 35): not past a ";" (a
news rundown, "Смотрите в этом выпуске: A; B; C.", lists its stories so), not a headline's lead before ":" (a
speaker or a topic), and in Russian the accused rather than the accuser, the genitive after the signal's noun
("атаку дронов ВСУ") rather than another verb's subject. Sentences written for these tests, modelled on Channel
One items of 2024 and English headlines of 2023."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc


def _pack(language: str, words: list[str], aliases: dict[str, list[str]]) -> RulePack:
    return RulePack.model_validate(
        {
            "version": 2,
            "name": f"capture-parts-{language}",
            "language": language,
            "entities": {
                "RUS": {"name": aliases["RUS"][0], "kind": "country", "aliases": aliases["RUS"]},
                "UKR": {"name": aliases["UKR"][0], "kind": "country", "aliases": aliases["UKR"]},
                "KURSK": {"name": aliases["KURSK"][0], "kind": "place", "aliases": aliases["KURSK"]},
                "BELGOROD": {"name": aliases["BELGOROD"][0], "kind": "place", "aliases": aliases["BELGOROD"]},
            },
            "signals": {
                "attack": {
                    "match": {"all": [{"any": words[:1]}, {"any": words[1:]}]},
                    "near": 6,
                    "capture": {"attacker": {"entities": ["RUS", "UKR"]}, "place": {"kind": "place"}},
                }
            },
        }
    )


RU = compile_packs(
    [
        _pack(
            "ru",
            ["беспилотник*", "атак*", "атаковал*"],
            {
                "RUS": ["Россия", "Минобороны", "ПВО"],
                "UKR": ["Украина", "ВСУ", "Киев"],
                "KURSK": ["Курская область", "курский"],
                "BELGOROD": ["Белгород", "Белгородская область"],
            },
        )
    ]
)
EN = compile_packs(
    [
        _pack(
            "en",
            ["drone", "attacked", "attack"],
            {
                "RUS": ["Russia", "Russian", "Kremlin"],
                "UKR": ["Ukraine", "Ukrainian", "Kyiv"],
                "KURSK": ["Kursk"],
                "BELGOROD": ["Belgorod"],
            },
        )
    ]
)


def _captures(rules: object, text: str) -> dict[str, tuple[str | None, str]]:
    exp = explain_extraction(rules, doc(text))  # type: ignore[arg-type]
    got = [c for s in exp.sentences for c in s.signals if c.signal == "attack" and c.matched]
    assert got, text
    return {c.name: (c.value, c.reason) for c in got[0].captures}


@pytest.mark.parametrize(
    ("text", "attacker", "place"),
    [
        # 1tv-487785's shape: the party of the story before the ";" is not the actor of this one.
        (
            "Россия уточняет ядерную доктрину; в Курской области после атаки беспилотников ВСУ погиб человек.",
            "UKR",
            "KURSK",
        ),
        # 1tv-486388's shape: the place of the story before is not this one's.
        (
            "Смотрите в этом выпуске: в Курской области эвакуируют жителей; беспилотники ВСУ атаковали Белгород.",
            "UKR",
            "BELGOROD",
        ),
        ("Смотрите в этом выпуске: Россия усилила оборону Курской области; беспилотники атаковали село.", None, None),
    ],
)
def test_a_russian_rundown_keeps_each_story_to_itself(text: str, attacker: str | None, place: str | None) -> None:
    got = _captures(RU, text)
    assert got["attacker"][0] == attacker, got
    assert got["place"][0] == place, got
    if place is None:
        assert "past a ';'" in got["place"][1], got


def test_an_english_sentence_of_two_parts_too() -> None:
    got = _captures(EN, "Russia says it will respond; in Kursk a drone attacked a village.")
    assert got["attacker"] == (None, "every mention named is in another part of the sentence (past a ';')")
    assert got["place"][0] == "KURSK"
    got = _captures(EN, "Kursk governor resigns; a drone attacked a village near Belgorod.")
    assert got["place"] == ("BELGOROD", "the first place named in the signal's part of the sentence (between ';')")


@pytest.mark.parametrize(
    ("rules", "text", "attacker"),
    [
        (RU, "Минобороны: беспилотник ВСУ атаковал Белгород", "UKR"),
        (RU, "Минобороны: беспилотники атаковали Белгород", None),
        (EN, "Ukraine: drone attacked Belgorod overnight", None),
        (EN, "Kremlin: Ukrainian drone attacked Kursk", "UKR"),
    ],
)
def test_a_headlines_lead_before_the_colon_is_not_the_actor(rules: object, text: str, attacker: str | None) -> None:
    got = _captures(rules, text)
    assert got["attacker"][0] == attacker, got
    if attacker is None:
        assert "before ':'" in got["attacker"][1], got
    assert got["place"][0] is not None  # a place before or after the colon is still the place


@pytest.mark.parametrize(
    ("rules", "text", "attacker"),
    [
        # A GDELT event's title, "ACTOR1: what it did": no subject after the colon, the lead is it.
        (EN, "Kremlin: Attack with drone on Belgorod (frontline.example.com)", "RUS"),
        (RU, "Минобороны: атаковали беспилотниками Белгород", "RUS"),
        # a noun first, its own subject, even when it can be a verb ("drone", "strike")
        (EN, "Ukraine: Drone attacked Belgorod overnight", None),
    ],
)
def test_a_lead_whose_words_after_the_colon_begin_with_a_verb_is_their_subject(
    rules: object, text: str, attacker: str | None
) -> None:
    assert _captures(rules, text)["attacker"][0] == attacker


def test_a_time_or_a_later_colon_is_no_lead() -> None:
    got = _captures(RU, "Выпуск в 19:50: Россия сообщила, что беспилотники атаковали Белгород")
    assert got["attacker"][0] == "RUS", got  # "19:50" is a time; the lead "Выпуск в 19:50" names no one
    got = _captures(EN, "Overnight in the region, as residents slept, Russia says: a drone attacked Belgorod")
    assert got["attacker"][0] == "RUS", got  # past the first six words: no headline's lead


@pytest.mark.parametrize(
    "text",
    [
        "Россия обвинила Украину в атаке беспилотников на Курск",
        "В Москве обвиняют ВСУ в атаке беспилотников на Белгород",
    ],
)
def test_the_accused_not_the_accuser(text: str) -> None:
    value, reason = _captures(RU, text)["attacker"]
    assert (value, reason.split(" (")[0]) == ("UKR", "the accused"), reason


def test_the_genitive_after_the_signals_noun_is_whose_act_it_is() -> None:
    # 1tv-486892's shape: "ПВО" is the subject of "отражает", the drones are the AFU's.
    value, reason = _captures(RU, "ПВО отражает массированную атаку беспилотников ВСУ на Белгород")["attacker"]
    assert value == "UKR" and "genitive after" in reason, reason
    # Not one a preposition governs: out of the AFU's captivity is no act of theirs.
    value, _ = _captures(RU, "Россия отразила атаку беспилотников из района ВСУ")["attacker"]
    assert value == "RUS"
