"""Extraction: sentences, entities (longest match), phrases and stems, near, captures, modality."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.text import split_sentences, tokens

from .engine_helpers import DATA, doc, engine_for

PACK = str(DATA / "rules" / "patterns.yaml")


def signals(text: str, spec: str = "builtin:dprk_russia", title: str = "") -> list:
    return engine_for(spec).extract(doc(text, title=title))


def test_sentences_keep_abbreviations_and_dates() -> None:
    text = "Putin signed it on Nov. 9 in Moscow. The U.S. official said so! Did he? Yes.\nNew line"
    assert split_sentences(text) == [
        "Putin signed it on Nov. 9 in Moscow.",
        "The U.S. official said so!",
        "Did he?",
        "Yes.",
        "New line",
    ]


def test_tokens_split_punctuation_and_negation_clitic() -> None:
    assert tokens("Kim Jong-un's troops haven't fought") == [
        "kim",
        "jong",
        "un",
        "s",
        "troops",
        "have",
        "not",
        "fought",
    ]


def test_stem_matches_word_prefix_only_at_word_start() -> None:
    got = signals("Russia's parliament ratified the treaty with North Korea.")
    assert [s.name for s in got] == ["treaty_ratification"]
    assert not signals("The gratification of Russia and North Korea over the treaty.")


def test_longest_alias_wins() -> None:
    # "South Korean" is KOR, never PRK via a shorter alias.
    got = signals("South Korean troops were sent to Russia, North Korea said.", spec=PACK)
    assert got == []
    sig = engine_for("builtin:dprk_russia").extract(
        doc("South Korean officials said North Korean troops were sent to Russia.")
    )
    assert sig and set(sig[0].entities) >= {"KOR", "PRK", "RUS"}


@pytest.mark.parametrize(
    ("sentence", "modality"),
    [
        ("North Korea has deployed troops to Russia.", "asserted"),
        ("Moscow denied that North Korea had deployed troops to Russia.", "negated"),
        ("North Korea has not deployed troops to Russia, officials said.", "negated"),
        ("North Korea could soon deploy troops to Russia.", "future"),
        ("North Korea may deploy troops to Russia.", "hedged"),
        ("North Korea is expected to deploy troops to Russia.", "future"),
        ("If North Korea deploys troops to Russia, Seoul will respond.", "conditional"),
    ],
)
def test_modality(sentence: str, modality: str) -> None:
    got = [s for s in signals(sentence) if s.name == "troop_deployment"]
    assert got and got[0].modality == modality, [(s.name, s.modality, s.cue) for s in got]


def test_cue_after_the_signal_words_does_not_apply() -> None:
    # "appear ready to" governs "engage", not "deployed".
    text = "North Korean troops deployed in Russia appear ready to engage in combat in the Kursk region."
    got = {s.name: s for s in signals(text)}
    assert got["troop_deployment"].modality == "asserted"
    assert got["troop_deployment"].places == ("KURSK",)
    assert "troop_engagement" not in got or got["troop_engagement"].modality != "asserted"


def test_month_may_is_not_a_hedge() -> None:
    got = [
        s for s in signals("In May 9 parade news, North Korea sent troops to Russia.") if s.name == "troop_deployment"
    ]
    assert got and got[0].modality == "asserted"


def test_capture_subject_and_passive_agent() -> None:
    active = [s for s in signals("Russia's parliament ratified the treaty with North Korea.")]
    assert active[0].captures == {"party": "RUS"}
    passive = [s for s in signals("The treaty with Russia was ratified by North Korea's assembly.")]
    assert passive[0].captures == {"party": "PRK"}


def test_near_limits_the_span() -> None:
    close = signals("Alphaland closed the border today.", spec=PACK)
    far = signals("Alphaland closed the ports, the airports, the railways, the roads and then the border.", spec=PACK)
    assert [s.name for s in close] == ["border_closed"]
    assert far == []


def test_document_context_requirement() -> None:
    # Ratification needs both parties somewhere in the document.
    assert not signals("Russia's parliament ratified the treaty.")
    assert signals("Russia's parliament ratified the treaty.", title="Treaty with North Korea")


def test_html_is_stripped_before_matching() -> None:
    got = signals("<p>North Korean <b>troops</b> were sent to Russia &amp; Kursk.</p>")
    assert got and "<" not in got[0].sentence and "&amp;" not in got[0].sentence


def test_signal_ids_are_deterministic() -> None:
    a = signals("North Korea sent troops to Russia.")
    b = signals("North Korea sent troops to Russia.")
    assert [s.id for s in a] == [s.id for s in b]
