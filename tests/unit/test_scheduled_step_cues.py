"""Trial 47 (the Israel–Hamas war of late 2023 on the 2023 RSS corpus): H1, a step fixed for a day to come in the
present tense ("Cease-Fire Starts Thursday") read asserted and raised a false "truce in effect" two days early; "…
after truce ends" under a headline's "to hit", and "nears end", raised a false "truce collapsed". M2: a negation
before the words reached across "as" into a clause of its own ("rejects calls for ceasefire as troops push into
Gaza"). M5: "rather than", "instead of", "prepared to", "determined to" were no cues. The sentences follow real
headlines and body sentences of the corpus, most in other words; the counter-cases are readings that must stay."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "scheduled-steps",
        "signals": {
            "truce_begins": {
                "match": {"all": [{"any": ["truce", "cease-fire", "ceasefire"]}, {"any": ["starts", "begins"]}]},
                "near": 4,
            },
            "truce_ends": {
                "match": {
                    "all": [
                        {"any": ["truce", "cease-fire", "ceasefire", "pause"]},
                        {"any": ["ends", "expires", "end", "=collapses"]},
                    ]
                },
                "near": 5,
            },
            "hostages_freed": {"match": {"any": ["release of hostages", "hostages released", "freed hostages"]}},
            "troops_advance": {"match": {"any": ["troops push", "troops pushed", "troops advance"]}},
            "ground_offensive": {"match": {"any": ["ground offensive", "ground invasion"]}},
            "pause_agreed": {"match": {"all": [{"any": ["agree", "agreed"]}, "pause"]}, "near": 6},
            "summit": {"match": {"all": ["summit", {"any": ["=opens", "=starts", "=begins"]}]}, "near": 4},
            "fighting_resumes": {"match": {"any": ["fighting resumes", "resumes fighting", "resume fighting"]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    ("title", "body", "signal", "cue"),
    [
        # the 22 Nov headline (the truce began on 24 Nov)
        (
            "Israel-Hamas Cease-Fire Starts Thursday, Followed by Release of Hostages",
            "",
            "truce_begins",
            "starts thursday",
        ),
        (
            "Israel-Hamas Cease-Fire Starts Thursday, Followed by Release of Hostages",
            "",
            "hostages_freed",
            "starts thursday",
        ),
        (
            "",
            "Mediators raced to secure more days before the cease-fire expires Thursday morning.",
            "truce_ends",
            "expires thursday",
        ),
        ("", "The truce begins on Friday at 7 a.m. local time.", "truce_begins", "begins on friday"),
        ("", "A key NATO summit starts Tuesday in Vilnius.", "summit", "starts tuesday"),
        ("", "The ceasefire begins tomorrow, officials said.", "truce_begins", None),
    ],
)
def test_a_step_in_the_present_before_a_day_to_come_is_future(
    title: str, body: str, signal: str, cue: str | None
) -> None:
    modality, got = reading(_ENGINE, signal, body=body, title=title)
    assert modality == "future"
    if cue is not None:
        assert got == cue


def test_takes_effect_is_read_with_its_particle() -> None:
    pack = RulePack.model_validate(
        {"version": 2, "name": "effect", "signals": {"truce": {"match": {"all": ["truce", "takes effect"]}}}}
    )
    got = reading(Engine(compile_packs([pack])), "truce", body="The truce in Gaza takes effect on Friday.")
    assert got == ("future", "takes effect on friday")


@pytest.mark.parametrize(
    ("title", "body", "signal", "cue"),
    [
        # a headline's "to VERB" before the clause of time (RT, 27 Nov)
        ("Israel to hit Hamas 'with full force' after truce ends – Netanyahu", "", "truce_ends", "after … ends"),
        # body sentences whose main clause looks ahead
        (
            "",
            "Gazans expect Israel to resume air strikes when the truce ends, and hope to go home first.",
            "truce_ends",
            None,
        ),
        ("", "The evacuation could continue after the ceasefire ends, the Foreign Office said.", "truce_ends", None),
        (
            "",
            "Israel's ambassador said her country would not accept a Palestinian state when the truce ends.",
            "truce_ends",
            None,
        ),
    ],
)
def test_a_step_in_a_clause_of_time_under_a_future_is_future(
    title: str, body: str, signal: str, cue: str | None
) -> None:
    modality, got = reading(_ENGINE, signal, body=body, title=title)
    assert modality == "future"
    if cue is not None:
        assert got == cue


@pytest.mark.parametrize(
    ("title", "body", "signal", "cue"),
    [
        ("As pause nears end, Israel and Hamas express openness to extension", "", "truce_ends", "nears"),
        ("", "The truce nears its end as Israel steps up raids in the West Bank.", "truce_ends", "nears"),
        (
            "",
            "Protests spread as Israel edges closer to a ground invasion of Gaza.",
            "ground_offensive",
            "edges closer to",
        ),
    ],
)
def test_nearing_is_not_reaching(title: str, body: str, signal: str, cue: str) -> None:
    assert reading(_ENGINE, signal, body=body, title=title) == ("future", cue)


@pytest.mark.parametrize(
    ("title", "body", "signal", "want"),
    [
        # M5: a choice against, and readiness in a body sentence
        (
            "",
            "The army said it might take a different course in Gaza rather than launching a ground offensive.",
            "ground_offensive",
            ("negated", "rather than"),
        ),
        (
            "",
            "The government chose a limited raid instead of a ground invasion.",
            "ground_offensive",
            ("negated", "instead of"),
        ),
        (
            "",
            "Herzog told ambassadors the country is prepared to agree to a second pause in fighting.",
            "pause_agreed",
            ("future", "prepared to"),
        ),
        (
            "",
            "Officials said Israel is determined to resume fighting after the pause.",
            "fighting_resumes",
            ("future", "determined to"),
        ),
    ],
)
def test_choice_against_and_readiness(title: str, body: str, signal: str, want: tuple[str, str]) -> None:
    assert reading(_ENGINE, signal, body=body, title=title) == want


@pytest.mark.parametrize(
    ("title", "body", "signal"),
    [
        # M2: the 31 Oct headline; the negation governs "calls for ceasefire", not the next clause
        ("Netanyahu rejects calls for ceasefire as troops push into Gaza", "", "troops_advance"),
        ("", "Hamas denied the report while Israeli troops pushed into Gaza City.", "troops_advance"),
        ("", "There were no casualties on the Israeli side after troops pushed into the camp.", "troops_advance"),
        ("", "Israel has not agreed to a truce but its troops advance slowly.", "troops_advance"),
    ],
)
def test_a_negation_does_not_reach_a_clause_of_its_own(title: str, body: str, signal: str) -> None:
    assert reading(_ENGINE, signal, body=body, title=title) == ("asserted", None)


@pytest.mark.parametrize(
    ("title", "body", "signal", "want"),
    [
        # the present of a headline, without a time word, tells the past
        ("Truce ends; fighting resumes in Gaza", "", "truce_ends", ("asserted", None)),
        ("Israel resumes offensive in Gaza after weeklong truce expires", "", "truce_ends", ("asserted", None)),
        (
            "",
            "Israel resumes military offensive in Gaza after weeklong truce expires.",
            "truce_ends",
            ("asserted", None),
        ),
        ("", "Residents say clashes erupt in Khartoum before the truce expires.", "truce_ends", ("asserted", None)),
        # a past form keeps its day; a plural noun before a weekday is no verb
        (
            "",
            "The hostages released on Friday were in good health, the Red Cross said.",
            "hostages_freed",
            ("asserted", None),
        ),
        ("", "Hamas freed hostages Friday after the truce began.", "hostages_freed", ("asserted", None)),
        # "into second day after": a span of time before "after" is no time to come
        (
            "Renewed Gaza fighting stretches into second day after truce collapses",
            "",
            "truce_ends",
            ("recap", "day after"),
        ),
        # "near" the preposition, and a nearing verb far from the words
        ("", "Israeli troops near the border began a ground offensive.", "ground_offensive", ("asserted", None)),
        (
            "",
            "The visit comes as Russia nears the first anniversary of its ground invasion.",
            "ground_offensive",
            ("recap", "anniversary of"),  # not future
        ),
        # "rather than" past a comma, or far from the words
        ("", "Rather than wait, the army began a ground offensive at dawn.", "ground_offensive", ("asserted", None)),
        # "as" that opens no clause keeps the negation
        ("", "Israel will not accept a truce as part of the ground offensive.", "ground_offensive", ("negated", "not")),
        ("", "The army did not launch a ground offensive as planned.", "ground_offensive", ("negated", "not")),
        # a comma closes the phrase: the cue reaches on
        ("", "Israel will, amid protests, launch a ground offensive.", "ground_offensive", ("future", "will")),
        # "will" reaches through "after" with a time to come
        ("", "Israel will resume fighting after the truce ends.", "fighting_resumes", ("future", "will")),
    ],
)
def test_counter_cases_keep_their_reading(title: str, body: str, signal: str, want: tuple[str, str | None]) -> None:
    assert reading(_ENGINE, signal, body=body, title=title) == want


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        # real forms of the corpus, in other words
        ("But the truce is due to end on Tuesday at 7am.", "truce_ends", ("future", "is due to")),
        ("Hostages will go first as the truce begins at 7am on Friday, Qatar said.", "truce_begins", None),
        ("Diplomats rush to Doha as the end of the truce looms.", "truce_ends", ("future", "looms")),
        (
            "Hospitals in Gaza City run short of fuel as a ground invasion looms.",
            "ground_offensive",
            ("future", "looms"),
        ),
        ("Aid convoys wait as the ground offensive nears, officials said.", "ground_offensive", ("future", "nears")),
        # counter-cases: "due to" a cause, a court date, "looms over" what is there
        ("The truce ends due to renewed fighting in Gaza.", "truce_ends", ("asserted", None)),
        ("The threat of a ground invasion looms over Gaza.", "ground_offensive", ("asserted", None)),
        ("Uncertainty looms over the ground offensive.", "ground_offensive", ("asserted", None)),
    ],
)
def test_due_to_and_looms(body: str, signal: str, want: tuple[str, str | None] | None) -> None:
    got = reading(_ENGINE, signal, body=body)
    if want is None:
        assert got[0] == "future"
    else:
        assert got == want


@pytest.mark.parametrize(
    ("body", "signal"),
    [
        ("Truce to begin Friday morning and the first captives to follow, a Qatari official says.", "truce_begins"),
        ("Gazans fear a return of Israeli air strikes after the truce ends.", "truce_ends"),
    ],
)
def test_an_infinitive_before_a_day_and_a_fear_before_a_clause_of_time(body: str, signal: str) -> None:
    assert reading(_ENGINE, signal, body=body)[0] == "future"
