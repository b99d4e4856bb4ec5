"""Captures (outside trial 21): a passive's "by" agent past a prepositional phrase ("imposed on Niger's junta by
ECOWAS"), and an explanation that says "no 'by'" only when there is none; an entity's people as the agent ("by
France's allies") name no one, not the entity by the fallback. Sentences from the trial and written for
these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc

SAHEL = RulePack.model_validate(
    {
        "version": 2,
        "name": "sahel-captures",
        "language": "en",
        "entities": {
            "NER": {"name": "Niger", "kind": "country", "aliases": ["Niger", "Nigerien", "Niamey"]},
            "NGA": {"name": "Nigeria", "kind": "country", "aliases": ["Nigeria", "Nigerian"]},
            "FRA": {"name": "France", "kind": "country", "aliases": ["France", "French"]},
            "USA": {"name": "United States", "kind": "country", "aliases": ["United States", "US", "U.S."]},
            "ECOWAS": {"name": "ECOWAS", "kind": "organization", "aliases": ["ECOWAS"]},
            "EU": {"name": "European Union", "kind": "organization", "aliases": ["European Union", "EU"]},
        },
        "signals": {
            "sanctions": {
                "match": {"all": [{"any": ["imposed", "slapped"]}, "sanctions"]},
                "near": 10,
                "capture": {
                    "country": {"entities": ["NER"]},
                    "imposer": {"entities": ["ECOWAS", "EU", "USA", "FRA", "NGA"]},
                },
            },
        },
    }
)
RULES = compile_packs([SAHEL])


def _capture(text: str, name: str = "imposer") -> tuple[str | None, str]:
    exp = explain_extraction(RULES, doc(text))
    got = [c for s in exp.sentences for c in s.signals if c.signal == "sanctions" and c.matched]
    assert got, text
    cap = next(c for c in got[0].captures if c.name == name)
    return cap.value, cap.reason


@pytest.mark.parametrize(
    "text",
    [
        "Sanctions were imposed on Niger's junta by ECOWAS.",
        "Sweeping sanctions were imposed on Niger's junta by ECOWAS on Sunday.",
        "Sanctions were imposed on the Nigerien army's top officers by ECOWAS.",
        "Sanctions were imposed on members of Niger's junta by ECOWAS.",
        "Niger's junta hit with sanctions imposed on its leaders by ECOWAS.",
        "Sanctions were imposed on Niger by ECOWAS.",
    ],
)
def test_by_agent_past_a_prepositional_phrase(text: str) -> None:
    assert _capture(text) == ("ECOWAS", "the agent of a passive ('by' after 'imposed')"), text
    assert _capture(text, "country")[0] == "NER", text


def test_far_by_of_another_verb_is_no_agent_and_the_reason_does_not_say_there_is_no_by() -> None:
    value, why = _capture("Sanctions were imposed on Niger after talks that were held in Abuja by ECOWAS.")
    assert value is None
    assert why == "a passive with no agent ('imposed', no 'by' of its own): what it names was acted on", why
    value, why = _capture("Sanctions were imposed on Niger on Sunday.", "country")
    assert (value, why) == (None, "a passive with no agent ('imposed', no 'by'): what it names was acted on")


def test_unnamed_agent_past_a_prepositional_phrase() -> None:
    value, why = _capture("Sanctions were imposed on Niger's junta by senators.", "country")
    assert (value, why) == (None, "the agent of a passive ('by' after 'imposed') names no entity")


@pytest.mark.parametrize(
    ("text", "head"),
    [
        ("Sanctions were imposed on Niger by France's allies.", "allies"),
        ("Sanctions were imposed on Niger by Nigeria's neighbours.", "neighbours"),
        ("Sanctions were imposed on Niger's junta by the EU's member states.", "member"),
        ("Niger hit with sanctions imposed by France's partners.", "partners"),
    ],
)
def test_by_an_entitys_people_names_no_imposer(text: str, head: str) -> None:
    # Not the possessor by the fallback "first mention after the signal's words" (outside trial 21, #7).
    assert _capture(text) == (
        None,
        f"the agent of a passive ('by' after 'imposed') names no entity ({head!r} of the one it names)",
    ), text


@pytest.mark.parametrize(
    ("text", "imposer"),
    [
        ("Sanctions were imposed on Niger by Nigeria's government.", "NGA"),
        ("Sanctions were imposed on Niger by France's foreign ministry.", "FRA"),
    ],
)
def test_by_an_entitys_organ_names_the_entity(text: str, imposer: str) -> None:
    assert _capture(text) == (imposer, "the agent of a passive ('by' after 'imposed')"), text


def test_by_an_entitys_deadline_or_decree_leaves_the_capture_to_the_subject() -> None:
    # A time or a means is no agent: the subject is taken, as for "by decree".
    for text in [
        "ECOWAS said sanctions were imposed by France's deadline.",
        "ECOWAS said sanctions were imposed by Nigeria's decree.",
    ]:
        assert _capture(text) == ("ECOWAS", "the nearest mention before the signal's words"), text


@pytest.mark.parametrize(
    "text",
    [
        "West Africa's neighbours imposed sanctions on Niger on Sunday, and the EU may follow.",
        "Neighbours imposed sanctions on Niger; the EU may follow.",
        "Neighbours imposed sanctions on Niger on Sunday, but France has not said whether it will.",
    ],
)
def test_first_mention_after_stays_in_the_clause(text: str) -> None:
    # Outside trial 21, #6: the fallback does not reach past a clause break, as cues do not; nor past a ";", which
    # bounds the part of the sentence every capture looks in (outside trial 35).
    why = "every mention named is in another part of the sentence (past a ';')" if ";" in text else None
    assert _capture(text) == (None, why or "the first mention after the signal's words is in another clause"), text
    assert _capture(text, "country")[0] == "NER", text


def test_first_mention_after_in_the_same_clause_is_still_taken() -> None:
    assert _capture("Imposing sanctions on Niger, ECOWAS said the junta must go.") == (
        "ECOWAS",
        "the first mention after the signal's words",
    )


RU = RulePack.model_validate(
    {
        "version": 2,
        "name": "sanctions-ru",
        "language": "ru",
        "entities": {
            "RUS": {"name": "Россия", "kind": "country", "aliases": ["Россия"]},
            "USA": {"name": "США", "kind": "country", "aliases": ["США", "Вашингтон"]},
            "EU": {"name": "Евросоюз", "kind": "organization", "aliases": ["ЕС", "Евросоюз"]},
        },
        "signals": {
            "sanctions_ru": {
                "match": {"all": [{"any": ["ввели", "утвердили"]}, {"any": ["санкци*"]}]},
                "near": 8,
                "capture": {"imposer": {"entities": ["USA", "EU"]}},
            },
        },
    }
)
RU_RULES = compile_packs([RU])


def _capture_ru(text: str) -> tuple[str | None, str]:
    exp = explain_extraction(RU_RULES, doc(text))
    got = [c for s in exp.sentences for c in s.signals if c.signal == "sanctions_ru" and c.matched]
    assert got, text
    cap = next(c for c in got[0].captures if c.name == "imposer")
    return cap.value, cap.reason


def test_russian_subject_after_the_words_stays_in_their_clause() -> None:
    assert _capture_ru("Новые санкции против России ввели США.") == (
        "USA",
        "the subject: first nominative mention after",
    )
    value, _why = _capture_ru("Новые санкции против России ввели в пятницу, а Евросоюз может последовать.")
    assert value is None


@pytest.mark.parametrize(
    "text",
    [
        "Niger's junta: neighbours imposed sanctions to punish us.",
        "Neighbours imposed sanctions on Niger, which the junta says will not break us.",
        "Us? Neighbours imposed sanctions on Niger.",
    ],
)
def test_an_alias_in_capitals_is_not_the_pronoun(text: str) -> None:
    # Outside trial 21, #9: the alias "US" read the pronoun "us" as the United States.
    exp = explain_extraction(RULES, doc(text))
    assert all("USA" not in s.entities for s in exp.sentences), text
    assert _capture(text)[0] is None, text


@pytest.mark.parametrize(
    "text",
    [
        "The US imposed sanctions on Niger.",
        "Sanctions were imposed on Niger by the U.S.",
        "US IMPOSES SANCTIONS ON NIGER",
        "Sanctions were imposed on Niger by the United States.",
        "Sanctions were imposed on Niger by the united states.",
    ],
)
def test_an_alias_in_capitals_still_names_its_entity_in_capitals(text: str) -> None:
    assert _capture(text)[0] == "USA", text


def test_an_alias_with_a_lower_case_letter_matches_any_case() -> None:
    # "Nigeria" is no acronym: "NIGERIA" and "nigeria" are read as it (only aliases all in capitals keep their case).
    assert _capture("NIGERIA IMPOSED SANCTIONS ON NIGER")[0] == "NGA"
    assert _capture("sanctions were imposed on niger by nigeria.")[0] == "NGA"


def test_russian_abbreviations_in_capitals_keep_matching() -> None:
    for text, imposer in [
        ("ЕС ввёл новые санкции против России.", "EU"),
        ("США ввели новые санкции против России.", "USA"),
        ("Новые санкции против России ввели США.", "USA"),
    ]:
        assert _capture_ru(text)[0] == imposer, text
    # "сша" in lower case is no acronym as written: not read as one.
    assert _capture_ru("сша ввели новые санкции против России.")[0] is None


def test_an_alias_in_capitals_keeps_them_inside_a_phrase() -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "phrase-capitals",
            "language": "en",
            "entities": {"USA": {"name": "United States", "kind": "country", "aliases": ["US", "Washington"]}},
            "signals": {"backed": {"match": "backed by @USA"}},
        }
    )
    rules = compile_packs([pack])

    def fired(text: str) -> bool:
        exp = explain_extraction(rules, doc(text))
        return any(c.matched for s in exp.sentences for c in s.signals if c.signal == "backed")

    assert fired("The plan is backed by US officials.")
    assert fired("The plan is backed by Washington.")
    assert fired("THE PLAN IS BACKED BY US")
    assert not fired("The plan is backed by us and our friends.")


def test_a_long_alias_in_capitals_reads_british_style_but_not_lower_case() -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "long-acronym",
            "language": "en",
            "entities": {
                "NATO": {"name": "NATO", "kind": "organization", "aliases": ["NATO"]},
                "WHO": {"name": "World Health Organization", "kind": "organization", "aliases": ["WHO"]},
            },
            "signals": {"joined": {"match": "joined"}},
        }
    )
    rules = compile_packs([pack])

    def entities(text: str) -> set[str]:
        return {e for s in explain_extraction(rules, doc(text)).sentences for e in s.entities}

    assert entities("Finland joined NATO.") == {"NATO"}
    assert entities("Finland joined Nato.") == {"NATO"}
    assert entities("Finland joined nato.") == set()
    assert entities("Finland joined WHO.") == {"WHO"}
    assert entities("Who joined? Finland joined the alliance, who knew.") == set()
