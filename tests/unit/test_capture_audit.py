"""English passive agents (outside audit): a "by" names the party only in a clear passive of the signal's
own verb ("was accepted by Hamas", "the ceasefire brokered by Qatar"), never in an active sentence ("Hamas
accepted the truce by Israel's deadline") nor when it belongs to another verb or a possessive that is not
the agent. The reason names the participle the "by" follows. Sentences written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc, engine_for

REPO = Path(__file__).resolve().parents[2]

TRUCE = RulePack.model_validate(
    {
        "version": 2,
        "name": "capture-audit",
        "language": "en",
        "entities": {
            "ISR": {"name": "Israel", "kind": "country", "aliases": ["Israel"]},
            "HAM": {"name": "Hamas", "kind": "organization", "aliases": ["Hamas"]},
            "QAT": {"name": "Qatar", "kind": "country", "aliases": ["Qatar"]},
        },
        "signals": {
            "agreed": {
                "match": {"all": [{"any": ["accepted", "agreed", "brokered"]}, {"any": ["truce", "ceasefire"]}]},
                "near": 6,
                "capture": {"party": {"entities": ["ISR", "HAM", "QAT"]}},
            },
            "raid": {"match": "raid", "capture": {"party": {"entities": ["ISR", "HAM", "QAT"]}}},
        },
    }
)
RULES = compile_packs([TRUCE])
# The same signal without "brokered" among its phrases: where a sentence holds both, "truce brokered" is the shortest
# span with a phrase of each part (docs/rules.md), so "brokered" would be the signal's own verb, not another
# participle (outside trial 44, H2: the span no longer depends on which alternative is listed first).
ACCEPTED = compile_packs(
    [
        RulePack.model_validate(
            {
                **TRUCE.model_dump(exclude_unset=True),
                "signals": {
                    "agreed": {
                        "match": {"all": [{"any": ["accepted", "agreed"]}, {"any": ["truce", "ceasefire"]}]},
                        "near": 6,
                        "capture": {"party": {"entities": ["ISR", "HAM", "QAT"]}},
                    }
                },
            }
        )
    ]
)


def _capture(text: str, rules=RULES, signal: str = "agreed", name: str = "party"):  # type: ignore[no-untyped-def]
    exp = explain_extraction(rules, doc(text))
    got = [c for s in exp.sentences for c in s.signals if c.signal == signal and c.matched]
    assert got, text
    cap = next(c for c in got[0].captures if c.name == name)
    return cap.value, cap.reason


@pytest.mark.parametrize(
    "text",
    [
        # Active sentences: the "by" governs another noun, or another verb; the subject acts.
        "Hamas accepted the truce by Israel's deadline.",
        "Hamas accepted the truce on Friday, followed by Israel.",
        "Hamas accepted the truce brokered by Israel's allies.",  # (read with ACCEPTED)
        "Hamas agreed the ceasefire by Israel's timetable.",
        "Hamas accepted the ceasefire late on Sunday, soon followed by Israel.",
        "Hamas accepted the ceasefire by the deadline Israel set.",
    ],
)
def test_active_sentence_names_its_subject(text: str) -> None:
    value, reason = _capture(text, ACCEPTED if "brokered" in text else RULES)
    assert value == "HAM", (text, reason)
    assert "agent" not in reason


@pytest.mark.parametrize(
    ("text", "party", "verb"),
    [
        ("The truce, announced by Qatar, was accepted by Hamas.", "HAM", "accepted"),
        ("The truce was accepted by Hamas.", "HAM", "accepted"),
        ("The ceasefire has been formally agreed by Israel.", "ISR", "agreed"),
        ("The ceasefire got accepted by Hamas on Monday.", "HAM", "accepted"),
        ("The ceasefire brokered by Qatar held overnight.", "QAT", "brokered"),
        ("The truce with Israel brokered by Qatar held.", "QAT", "brokered"),
        ("The truce was accepted by Israel's cabinet.", "ISR", "accepted"),
        ("The truce was accepted unanimously on Friday by Israel.", "ISR", "accepted"),
    ],
)
def test_passive_names_its_agent_and_the_verb(text: str, party: str, verb: str) -> None:
    value, reason = _capture(text)
    assert (value, reason) == (party, f"the agent of a passive ('by' after {verb!r})")


@pytest.mark.parametrize(
    "text",
    [
        "Qatar said the truce was accepted on Friday, followed by Israel.",
        "Qatar said the truce was accepted by the deadline Israel set.",
    ],
)
def test_passive_by_that_is_not_the_agent(text: str) -> None:
    value, reason = _capture(text)
    assert value == "QAT" and "agent" not in reason, (text, value, reason)


def test_passive_by_an_entitys_people_names_no_one() -> None:
    # "by Israel's allies": the allies acted, a body no entity names, so no capture (docs/rules.md), neither Israel
    # nor Qatar, the speaker before (outside trial 21, #7).
    assert _capture("Qatar said the truce was accepted by Israel's allies.") == (
        None,
        "the agent of a passive ('by' after 'accepted') names no entity ('allies' of the one it names)",
    )


def test_nato_example_joined_by_someones_side() -> None:
    rules = engine_for(str(REPO / "docs" / "examples" / "nato_accession.yaml")).rules
    for text, member in [
        ("Finland joined NATO by Sweden's side.", "FIN"),
        ("Sweden formally joined NATO by Finland's example.", "SWE"),
    ]:
        value, reason = _capture(text, rules, "joined", "member")
        assert value == member and "agent" not in reason, (text, value, reason)


DPRK_RULES = engine_for("builtin:dprk_russia").rules


def test_a_by_phrase_of_the_signals_own_passive_names_the_agent() -> None:
    # The "by" of another participle before it does not stand in the way.
    for text in [
        "The treaty with North Korea was ratified by Russia's parliament on Wednesday.",
        "The treaty signed by Kim Jong Un in June was ratified by Russia's parliament.",
    ]:
        assert _capture(text, DPRK_RULES, "treaty_ratification") == (
            "RUS",
            "the agent of a passive ('by' after 'ratified')",
        ), text
    assert _capture("The truce brokered by Qatar was accepted by Hamas.", ACCEPTED) == (
        "HAM",
        "the agent of a passive ('by' after 'accepted')",
    )


@pytest.mark.parametrize(
    "text",
    [
        # A signal of nouns (no verb of its own in the past): the agent of a participle is still taken, as the
        # subject or the first mention after: here it is the raid's actor.
        "A raid perpetrated by Hamas killed three soldiers.",
        "The raid that killed three soldiers was ordered by Hamas.",
        "The raid, claimed by Hamas within hours, killed three soldiers.",
        "Border towns shaken by the Hamas raid were evacuated.",
        "Markets rattled by Hamas's raid fell on Monday.",
    ],
)
def test_the_agent_of_the_signals_own_event_is_still_the_party(text: str) -> None:
    assert _capture(text, signal="raid")[0] == "HAM", text


@pytest.mark.parametrize(
    ("text", "rules", "signal", "want"),
    [
        # The agent of another participle is not the party, neither as the agent nor as a subject.
        ("The truce brokered by Israel was accepted.", ACCEPTED, "agreed", None),
        ("A ceasefire drafted by Qatar was accepted on Sunday.", RULES, "agreed", None),
        ("Hamas, pressed by Qatar, accepted the truce.", RULES, "agreed", "HAM"),
        (
            "Russia's parliament, urged by Pyongyang, ratified the treaty on Wednesday.",
            DPRK_RULES,
            "treaty_ratification",
            "RUS",
        ),
    ],
)
def test_the_agent_of_another_participle_is_not_the_party(text: str, rules, signal: str, want: str | None) -> None:  # type: ignore[no-untyped-def]
    value, reason = _capture(text, rules, signal)
    assert value == want, (text, value, reason)
    assert "agent of a passive" not in reason


ADJECTIVES = compile_packs(
    [
        RulePack.model_validate(
            {
                "version": 2,
                "name": "capture-adjectives",
                "language": "en",
                "entities": {
                    "HAM": {"name": "Hamas", "kind": "organization", "aliases": ["Hamas"]},
                    "ISR": {"name": "Israel", "kind": "country", "aliases": ["Israel"]},
                },
                "signals": {
                    "armed_attack": {"match": "armed attack", "capture": {"party": {"entities": ["HAM", "ISR"]}}},
                    "ratified_deal": {
                        "match": "ratified the deal",
                        "capture": {"party": {"entities": ["HAM", "ISR"]}},
                    },
                },
            }
        )
    ]
)


def test_an_ed_adjective_in_the_signals_words_is_not_its_verb() -> None:
    """Review of f0d7504: "armed" in "armed attack" qualifies the noun after it; the signal is a noun, and the
    agent of another participle is still its actor. "ratified the deal" holds a verb, and the rule applies."""
    value, reason = _capture("An armed attack claimed by Hamas killed three soldiers.", ADJECTIVES, "armed_attack")
    assert value == "HAM", reason
    value, reason = _capture(
        "Brokered by Israel, the accord was welcomed, as the council ratified the deal.", ADJECTIVES, "ratified_deal"
    )  # (with a ";" before the words the mention is in another part of the sentence: test_capture_parts)
    assert value is None and "another verb" in reason, (value, reason)
