"""Modality cues from an outside audit: "agreed to" is a future only before a verb; the Russian denials after
the words are verbs and "назвали фейком", not any word starting "фейк"/"отрица"; a cue hidden by a longer one
that governs only the other side ("назвали фейком" before the words) still applies. Sentences written for
these tests (the Russian law sentence paraphrases a Channel One item)."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import doc, engine_for

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "cue-audit",
        "language": ["en", "ru"],
        "signals": {
            "truce": {"match": {"any": ["truce", "ceasefire deal", "prisoner swap"]}},
            "troops": {"match": "send troops"},
            "aid": {"match": "deliver tanks"},
            "supply": {"match": "supply tanks"},
            "sanctions": {"match": "apply sanctions"},
            "law": {"match": "приняла закон"},
            "raid": {"match": "нанесли удар"},
            "corridor": {"match": "grain corridor"},
            "drills": {"match": "joint drills"},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(text: str, signal: str, engine: Engine = _ENGINE) -> tuple[str, str | None]:
    got = [s for s in engine.extract(doc(text)) if s.name == signal]
    assert got, f"{signal} not found in {text!r}"
    return got[0].modality, got[0].cue


@pytest.mark.parametrize(
    ("text", "signal", "want"),
    [
        # An agreement made: "agreed to" + a noun phrase.
        ("The militia agreed to a truce on Sunday.", "truce", ("asserted", None)),
        ("Tel Aviv agrees to ceasefire deal brokered by Doha", "truce", ("asserted", None)),
        ("The group said it had agreed to an extension of the truce.", "truce", ("asserted", None)),
        # ... but an exchange agreed is still to come (outside trial 51, M4; asserted until then), unless the sentence
        # says it took place
        ("Both sides agreed to the prisoner swap last week.", "truce", ("future", "agreed to")),
        ("Both sides agreed to the prisoner swap, which took place on Monday.", "truce", ("asserted", None)),
        ("Aid pledged to Kyiv arrived after the truce.", "truce", ("asserted", None)),
        # A future: "agreed to" + a verb (also after an adverb), and the other "VERB to" cues as before.
        ("The council agreed to send troops to the border.", "troops", ("future", "agreed to")),
        ("The council agreed to quickly send troops to the border.", "troops", ("future", "agreed to")),
        ("Berlin pledged to deliver tanks by spring.", "aid", ("future", "pledged to")),
        ("Paris promises to deliver tanks.", "aid", ("future", "promises to")),
        # A verb ending in -ly is a verb, not an adverb to skip (review: "agreed to supply tanks" read asserted).
        ("Berlin agreed to supply tanks.", "supply", ("future", "agreed to")),
        ("Brussels pledged to apply sanctions.", "sanctions", ("future", "pledged to")),
        ("The council plans to send troops.", "troops", ("future", "plans to")),
    ],
)
def test_agreed_to_is_a_future_only_before_a_verb(text: str, signal: str, want: tuple[str, str | None]) -> None:
    assert _read(text, signal) == want


@pytest.mark.parametrize(
    ("text", "signal", "want"),
    [
        # "deal" after "agreed to" is the noun unless "with" (or an adverb, a blow's "a") makes it the verb:
        # "to deal" in a year of English news is "to deal with" 195 times in 210 (outside audit).
        ("Ankara agreed to deal terms for the grain corridor on Friday.", "corridor", ("asserted", None)),
        ("Kyiv agrees to deal on grain corridor with Warsaw", "corridor", ("asserted", None)),
        ("Turkey agrees to deal in principle to reopen grain corridor", "corridor", ("asserted", None)),
        ("Moscow agrees to deal, grain corridor to reopen", "corridor", ("asserted", None)),
        ("The ministers agreed to deal with the grain corridor backlog.", "corridor", ("future", "agreed to")),
        ("Ministers pledged to deal swiftly with the grain corridor dispute.", "corridor", ("future", "pledged to")),
        ("Both navies agreed to deal a blow to the grain corridor blockade.", "corridor", ("future", "agreed to")),
        # "plan" + a noun stays the verb: in news it takes its object bare ("to plan attacks", "to plan changes
        # to the Cabinet", "to Plan Gaza Governance"), so "agreed to plan changes" is not read as a noun.
        ("Moscow and Pyongyang agreed to plan joint drills for the autumn.", "drills", ("future", "agreed to")),
        ("Kyiv agreed to plan changes to the grain corridor.", "corridor", ("future", "agreed to")),
        ("The ministers agreed to plan for a grain corridor.", "corridor", ("future", "agreed to")),
    ],
)
def test_agreed_to_deal_is_the_noun_unless_a_verb_use_follows(
    text: str, signal: str, want: tuple[str, str | None]
) -> None:
    assert _read(text, signal) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # Nouns and adjectives after the words are not denials of them.
        ("Госдума приняла закон о фейках об армии.", ("asserted", None)),
        ("Госдума приняла закон, несмотря на отрицательный отзыв правительства.", ("asserted", None)),
        ("Госдума в окончательном чтении приняла закон о конфискации имущества за фейки об армии.", ("asserted", None)),
        ("Дума приняла закон против фейков в сети.", ("asserted", None)),
        # The denial constructions after the words still deny them.
        ("Что Госдума приняла закон, в аппарате спикера отрицают.", ("negated", "отрицают")),
        ("Что Госдума приняла закон, пресс-служба опровергла.", ("negated", "опровергла")),
        ("Сообщения, что Госдума приняла закон, депутаты назвали фейком.", ("negated", "назвали фейком")),
    ],
)
def test_russian_denials_after_the_words(text: str, want: tuple[str, str | None]) -> None:
    assert _read(text, "law") == want


def test_a_cue_hidden_by_one_of_the_other_direction_applies() -> None:
    # "назвали фейком" governs the words before it; the claim after it is denied by its "фейком".
    assert _read("В штабе назвали фейком сообщения о том, что ВСУ нанесли удар по мосту.", "raid")[0] == "negated"
    assert _read("Военные назвали ложными сведения, что ВСУ нанесли удар.", "raid")[0] == "negated"
    # English: "called it fake (news)" before a "that" clause.
    sentence = "The ministry called it fake news that the council agreed to send troops."
    assert _read(sentence, "troops") == ("negated", "fake")
    # The bundled pack: the audit's sentence no longer fires troops-deployed.
    got = [
        s
        for s in engine_for("builtin:dprk_russia").extract(
            doc("The Kremlin called it fake news that North Korean troops had been sent to Russia.")
        )
        if s.name == "troop_deployment"
    ]
    assert got and got[0].modality == "negated"
    # ... while the longer after-cue still governs the words before it.
    assert _read("The council will send troops, the ministry called it fake.", "troops") == (
        "negated",
        "called it fake",
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # A denial noun after a preposition is the law's topic, not a denial of the words after it.
        ("О фейках об армии: Госдума приняла закон в окончательном чтении.", "asserted"),
        ("Против дезинформации Госдума приняла закон вчера.", "asserted"),
        # A denial of the claim still is one, before it or after it.
        ("Фейк: Госдума якобы приняла закон.", "negated"),
        ("Сообщения о том, что Госдума приняла закон, оказались фейком.", "negated"),
    ],
)
def test_russian_denial_nouns_after_a_preposition_are_the_topic(text: str, want: str) -> None:
    assert _read(text, "law")[0] == want
