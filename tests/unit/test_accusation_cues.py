"""Outside trial 32: an accusation governs its object ("accused North Korea of supplying …": hedged), a warning
against an act makes it a goal ("warns X against selling …": future), Russian "договорились + infinitive" is a
future as English "agreed to + verb" is, "amid" / "despite" open a phrase a future cue does not reach, and a hedge
with a time to come reads future in both languages. Sentences written for these tests, modelled on real ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "trial-32-cues",
        "language": ["en", "ru"],
        "signals": {
            "shells_sent": {
                "match": {
                    "all": [
                        {"any": ["ship", "shipping", "shipped", "send", "sending", "sent", "supplying", "selling"]},
                        {"any": ["shells", "weapons", "arms"]},
                    ]
                },
                "near": 6,
            },
            # a signal of the accusation itself: the accusing verb is among its words
            "shell_accusation": {"match": {"all": [{"any": ["accused", "accuses"]}, "shells"]}, "near": 8},
            "treaty_signed": {"match": {"all": ["signed", "treaty"]}, "near": 4},
            "attack": {"match": {"any": ["attack", "shelling"]}},
            "swap": {"match": {"any": ["prisoner exchange", "prisoner swap", "обмен пленными"]}},
            "ru_shells": {
                "match": {"all": [{"any": ["поставках", "поставки", "поставляет", "получает"]}, "снарядов"]},
                "near": 4,
            },
            "ru_treaty": {"match": {"all": ["подписала", "договор"]}, "near": 3},
            "ru_truce": {"match": {"any": ["продлить перемирие", "отводить войска"]}},
            "ru_money": {"match": {"any": ["выделить", "передать"]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(body: str, signal: str, title: str = "") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body, title=title)


@pytest.mark.parametrize(
    ("title", "body", "cue"),
    [
        (
            "",
            "Washington has accused Pyongyang of shipping artillery shells to Moscow for its war.",
            "accused pyongyang of",
        ),
        (
            "",
            "The envoy accuses North Korea's leadership of secretly sending weapons to Russia.",
            "accuses north korea s leadership of",
        ),
        ("Kim hosts Shoigu as Pyongyang accused of shipping shells to Russia", "", "accused of"),
        ("", "The visit comes amid accusations that Pyongyang is shipping shells to Moscow.", "accusations that"),
        ("", "The talks open amid claims that North Korea has been sending weapons to Russia.", "claims that"),
        ("", "Seoul repeated allegations of arms shipped to Russia by rail.", "allegations of"),
        ("", "Kyiv has alleged that North Korea shipped shells to Russia in August.", "alleged that"),
        # the noun object after "of" is what is alleged
        ("", "Moscow accused Kyiv of shelling the power plant overnight.", "accused kyiv of"),
    ],
)
def test_an_accusation_hedges_its_object(title: str, body: str, cue: str) -> None:
    """Trial 32, M3: on real 2023 sentences "accused North Korea of supplying …", "amid accusations that …" read as
    asserted; at least 5 of the trial pack's 13 alerts rested on them. A pack's cues are contiguous and could not
    reach past the object."""
    signal = "attack" if "shelling" in body else "shells_sent"
    assert _read(body, signal, title) == ("hedged", cue)


@pytest.mark.parametrize(
    ("title", "body", "cue"),
    [
        ("US warns N Korea against selling weapons to Moscow", "", "warns n korea against"),
        ("", "The NATO chief warned China against sending arms to Russia.", "warned china against"),
        (
            "",
            "Tokyo cautioned Pyongyang on Friday against shipping shells abroad.",
            "cautioned pyongyang on friday against",
        ),
        ("", "Ministers issued a warning against sending weapons to the junta.", "warning against"),
        ("", "Президент предостерег Пхеньян от поставки снарядов России.", None),
    ],
)
def test_a_warning_against_an_act_makes_it_a_goal(title: str, body: str, cue: str | None) -> None:
    """Trial 32, M3: "US warns N Korea against selling weapons to Russia" read as asserted. The act warned against
    has not happened: a goal, to prevent it (future, as "warned X to halt")."""
    if cue is None:
        assert _read(body, "ru_shells", title) == ("future", "предостерег пхеньян от")
    else:
        assert _read(body, "shells_sent", title) == ("future", cue)


@pytest.mark.parametrize(
    ("body", "signal"),
    [
        # beyond the object: a comma, a word that opens another phrase, "and" before no -ing verb
        ("Russia, accused of war crimes, signed the treaty with North Korea.", "treaty_signed"),
        ("Russia, long accused of war crimes by Kyiv, signed the treaty.", "treaty_signed"),
        ("Kyiv accused Moscow of lying after North Korea shipped shells to Russia.", "shells_sent"),
        ("The minister was accused of fraud and North Korea shipped shells to Russia.", "shells_sent"),
        # the signal before the accusation
        ("North Korea shipped shells to Russia, and Kyiv accused Moscow of lying about it.", "shells_sent"),
        # a part in an event that happened: the involvement is alleged, not the attack
        ("Two men were accused of involvement in the attack on the embassy.", "attack"),
        ("Washington accused Tehran of being behind the attack on the tanker.", "attack"),
        # the accusation is the signal's own word: a signal of accusations
        ("Washington accused Pyongyang of shipping shells to Moscow.", "shell_accusation"),
        # a verb of saying, as "said": a claim with its owner
        ("Kyiv claims that North Korea shipped shells to Russia.", "shells_sent"),
        ("Seoul stood by its claims of shells shipped to Russia.", "shells_sent"),
        # no object: "warns" says, "warned of" is no warning against
        ("The US warns North Korea has sold weapons to Russia.", "shells_sent"),
        ("Seoul warned that North Korea shipped shells to Russia.", "shells_sent"),
        # "charges of": convictions too ("convicted on charges of …"), and "in charge of": no cue
        ("The officer in charge of shipping shells to the front was promoted.", "shells_sent"),
    ],
)
def test_what_an_accusation_does_not_govern_stays_asserted(body: str, signal: str) -> None:
    assert _read(body, signal)[0] == "asserted"


_KILLED_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "consequences",
        "language": ["en", "ru"],
        "signals": {
            "attack": {"match": {"any": ["attacking", "airstrike", "missile strike", "shelling"]}},
            "killed": {"match": {"all": [{"any": ["killing", "killed"]}, {"any": ["two", "30", "civilians"]}]}},
            "ru_strike": {"match": {"any": ["ударе", "обстреле"]}},
        },
    }
)
_KILLED = Engine(compile_packs([_KILLED_PACK]))


@pytest.mark.parametrize(
    ("body", "signal"),
    [
        ("Zelensky accused Russia of attacking the town of Kupiansk, killing two people.", "attack"),
        ("Zelensky accused Russia of attacking the town of Kupiansk, killing two people.", "killed"),
        ("The junta was accused of launching an airstrike that killed 30 villagers.", "attack"),
        ("The junta was accused of launching an airstrike that killed 30 villagers.", "killed"),
        ("Kyiv accused Moscow of a missile strike which has killed civilians in Kharkiv.", "attack"),
        ("Киев обвинил Россию в ударе по Харькову, в результате которого погибли двое.", "ru_strike"),
    ],
)
def test_an_act_alleged_with_its_consequence_reported_happened(body: str, signal: str) -> None:
    """Review of bbcd398: of 356 readings the accusation cues changed over the 2023 corpus, 270 were attacks and
    killings of war news gone from asserted to hedged ("accused Russia of attacking Kupiansk, killing two"). The
    deaths are reported; the accusation disputes who did it, not that it happened."""
    assert reading(_KILLED, signal, body=body, title="")[0] == "asserted"


@pytest.mark.parametrize(
    "body",
    [
        # no consequence: whether the act happened is what is alleged
        "Moscow accused Kyiv of shelling the power plant overnight.",
        # a consequence beyond the object's phrase (another clause, "after") is no consequence of the act alleged
        "Kyiv accused Moscow of shelling the plant after a drone strike that killed two.",
        "Kyiv accused Moscow of shelling the plant; a separate strike killed two.",
    ],
)
def test_an_act_alleged_without_a_consequence_stays_hedged(body: str) -> None:
    assert reading(_KILLED, "attack", body=body, title="")[0] == "hedged"


_TOLL_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "tolls",
        "language": "en",
        "signals": {
            "invasion": {"match": {"any": ["planning an invasion"]}},
            "shells": {"match": {"any": ["artillery shells"]}},
            "espionage": {"match": {"any": ["espionage"]}},
            "interference": {"match": {"any": ["interference"]}},
            "troops": {"match": {"any": ["sending troops"]}},
            "drones": {"match": {"any": ["supplying drones"]}},
            "lying": {"match": {"any": ["lying about"]}},
            "attack": {"match": {"any": ["the attack", "shelling"]}},
            "supply": {"match": {"any": ["shipping shells"]}},
        },
    }
)
_TOLL = Engine(compile_packs([_TOLL_PACK]))


@pytest.mark.parametrize(
    ("body", "signal"),
    [
        # review of 2a43dcd, HIGH: a consequence with no toll is no sign that the act alleged happened
        ("Ukraine accused Russia of planning an invasion, leaving little room for talks.", "invasion"),
        (
            "Seoul accused Pyongyang of supplying artillery shells to Russia, leaving Ukraine short of defenses.",
            "shells",
        ),
        ("North Korea accused Seoul of espionage, leaving relations at a low.", "espionage"),
        ("Kyiv accused Russia of interference in the vote that left the opposition weakened.", "interference"),
        ("Seoul accused Pyongyang of sending troops that have left for Russia.", "troops"),
        # a present tense is what the drones do, if they are supplied: no report that they were
        ("Kyiv accused Moscow of supplying drones that kill civilians in Kharkiv.", "drones"),
        # the toll proves the attack, not the lying about it
        ("Moscow accused Kyiv of lying about the attack, which killed 12 people.", "lying"),
    ],
)
def test_a_consequence_without_a_toll_or_not_of_the_signal_leaves_it_hedged(body: str, signal: str) -> None:
    assert reading(_TOLL, signal, body=body, title="")[0] == "hedged"


@pytest.mark.parametrize(
    "body",
    [
        "Moscow accused Kyiv of lying about the attack, which killed 12 people.",
        "Kyiv accused Russia of shelling Kherson, leaving three dead.",
    ],
)
def test_a_toll_reported_after_the_act_alleged_makes_it_asserted(body: str) -> None:
    assert reading(_TOLL, "attack", body=body, title="")[0] == "asserted"


def test_a_warning_with_a_consequence_is_still_a_goal() -> None:
    body = "The US warned Russia against attacking the plant, killing hopes of talks."
    assert reading(_KILLED, "attack", body=body, title="")[0] == "future"


def test_rules_explain_names_the_consequence(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 2\nname: p\nlanguage: en\nsignals:\n"
        "  attack: {match: {any: [attacking]}}\n"
        "detections:\n  - {id: t, title: t, pattern: {any: attack}}\n",
        encoding="utf-8",
    )
    text = "Zelensky accused Russia of attacking Kupiansk, killing two."
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--text", text])
    assert res.exit_code == 0, res.output
    assert "reported with its consequence (', killing')" in res.output, res.output


def test_rules_explain_says_where_the_object_ends(tmp_path: Path) -> None:
    """`watchfloor rules explain` names why an accusation does not govern the words: its object ended, or the
    accusing word is the signal's own (not "out of reach" when they stand within it)."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 2\nname: p\nlanguage: en\nsignals:\n"
        "  treaty: {match: {all: [signed, treaty]}, near: 4}\n"
        "  accusation: {match: {all: [accused, shells]}, near: 8}\n"
        "detections:\n  - {id: t, title: t, pattern: {any: treaty}}\n",
        encoding="utf-8",
    )
    text = "Russia, accused of war crimes, signed the treaty. Kyiv accused Moscow of shipping shells."
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--text", text])
    assert res.exit_code == 0, res.output
    assert "its object ends at the punctuation before the signal's words" in res.output, res.output
    assert "the accusing or warning word is one of the signal's own" in res.output, res.output


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        ("Сеул обвинил Пхеньян в поставках снарядов России.", "ru_shells", ("hedged", "обвинил пхеньян в")),
        (
            "Киев обвиняет Москву в том, что она получает снаряды из КНДР.",
            "ru_shells",
            ("hedged", "обвиняет москву в том что"),
        ),
        ("На фоне обвинений в поставках снарядов Пхеньян молчит.", "ru_shells", ("hedged", "обвинений в")),
        # beyond the object, and an accusation's target ("в адрес") is no object
        ("Россия, которую обвиняют в военных преступлениях, подписала договор.", "ru_treaty", ("asserted", None)),
        ("Обвинения в адрес Пхеньяна о поставках снарядов прозвучали снова.", "ru_shells", ("asserted", None)),
    ],
)
def test_russian_accusations_govern_their_object(body: str, signal: str, want: tuple[str, str | None]) -> None:
    assert _read(body, signal) == want


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        # trial 32, M4 (1tv-480596): as English "agreed to step up", a thing still to do
        ("Стороны договорились провести обмен пленными.", "swap", ("future", "договорились")),
        ("Лидеры союза договорились выделить Киеву еще денег.", "ru_money", ("future", "договорились")),
        ("Министр согласился передать документы суду.", "ru_money", ("future", "согласился")),
        ("Партнеры обязались выделить средства до конца года.", "ru_money", ("future", "обязались")),
        # a short adjective of readiness or consent, as "ready to" / "agreed to" (review of a768ce7)
        ("Киев готов провести обмен пленными.", "swap", ("future", "готов")),
        ("Стороны готовы провести обмен пленными.", "swap", ("future", "готовы")),
        ("Москва согласна выделить средства.", "ru_money", ("future", "согласна")),
        # "согласно" is a preposition: no cue
        ("Согласно договору, стороны провели обмен пленными.", "swap", ("asserted", None)),
        # a noun of an act: the exchange agreed is still to come (outside trial 51, M4: "an agreement to swap is not a
        # swap"; it read asserted until then)
        ("Стороны договорились об обмене пленными.", "swap", ("future", "договорились об")),
        # an extension agreed is made, as "agreed to extend the truce"
        ("Стороны договорились продлить перемирие на три дня.", "ru_truce", ("asserted", None)),
        # another verb between: the withdrawal is reported
        ("Стороны договорились о перемирии и начали отводить войска.", "ru_truce", ("asserted", None)),
    ],
)
def test_russian_agreed_to_an_infinitive_is_a_future(body: str, signal: str, want: tuple[str, str | None]) -> None:
    """Trial 32, M4: "члены альянса договорились активизировать действия" read as asserted, where "the allies agreed
    to step up action" reads future."""
    assert _read(body, signal) == want


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Both sides agreed to hold a prisoner exchange next month.", "future"),
        ("Both sides agreed to a prisoner exchange last week, which took place on Monday.", "asserted"),
    ],
)
def test_english_agreed_to_reads_as_before(body: str, want: str) -> None:
    assert _read(body, "swap")[0] == want


@pytest.mark.parametrize(
    ("body", "signal", "want"),
    [
        # the claim is no future: what the claims say reads as the claims do
        ("Lavrov will visit Pyongyang amid claims of shells shipped to Moscow.", "shells_sent", "hedged"),
        ("Kyiv will hold talks despite the shelling of Kharkiv.", "attack", "asserted"),
        # a second comma closes the phrase: the words are in the cue's clause again
        ("Russia will, amid protests, sign the treaty.", "treaty_signed", "future"),
        ("Moscow will ship more shells after the drills.", "shells_sent", "future"),
        # ... but not before a noun of what is wanted or threatened: that is not there already (review of d23f251)
        ("Russia will not halt the shelling despite calls for a prisoner swap.", "swap", "negated"),
        ("Moscow could halt strikes amid new talk of a prisoner swap.", "swap", "hedged"),
        # ... and only over that noun's own phrase (review of 2a43dcd, MED)
        ("Seoul will not retaliate despite pressure after the shelling of Incheon.", "attack", "asserted"),
        ("Moscow may impose sanctions amid talks as Ukraine kept up the shelling of Belgorod.", "attack", "asserted"),
        ("The minister denied the claims despite warnings that Russia shipped shells.", "shells_sent", "asserted"),
    ],
)
def test_amid_and_despite_open_a_phrase_of_their_own(body: str, signal: str, want: str) -> None:
    """Trial 32, M3: "will visit North Korea amid claims of weapons supplied" read future ("will" reached across
    "amid" without a comma)."""
    assert _read(body, signal)[0] == want


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Обмен пленными может состояться.", ("hedged", "может состояться")),
        ("The prisoner swap may take place.", ("hedged", "may take place")),
        # a hedge with a time to come: the stronger class, future, in both languages (docs/rules.md)
        ("Обмен пленными может состояться на следующей неделе.", ("future", "на следующей неделе")),
        ("The prisoner swap may take place next week.", ("future", "next week")),
    ],
)
def test_a_hedge_about_a_time_to_come_is_a_future_in_both_languages(body: str, want: tuple[str, str]) -> None:
    """Trial 32, L3: the docs gave "может состояться" as hedged; with "на следующей неделе" it reads future, as
    English "may take place next week" does (negated > conditional > future > hedged)."""
    assert _read(body, "swap") == want


def test_an_accused_named_among_the_signals_words_is_still_the_accusations_object() -> None:
    """The bundled pack's troop deployment spans "КНДР … войск в Россию": the accused "КНДР" is one of its words,
    so the accusation's lead "в" stands inside them; what follows it is still what is alleged (review of trial 32's
    cues: it read asserted, "out of reach")."""
    from watchfloor.stream_processors.rulefile import load_rules

    _, compiled = load_rules(["builtin:dprk_russia"])
    engine = Engine(compiled)
    said = "Южная Корея обвинила КНДР в отправке войск в Россию."
    assert reading(engine, "troop_deployment", body=said, title="")[0] == "hedged"
    apart = "Южная Корея обвинила КНДР в провокациях, а северокорейские войска прибыли в Россию."
    assert reading(engine, "troop_deployment", body=apart, title="")[0] == "asserted"


@pytest.mark.parametrize(
    ("body", "modality"),
    [
        ("The US urged Kyiv to negotiate, Russian shelling went on.", "asserted"),  # a name opens a clause
        ("The UN urged Moscow to stop, the shelling went on regardless.", "asserted"),  # so does an article
        ("Allies urged Kyiv to hold talks, halt shelling and free prisoners.", "future"),  # a list of its verbs
    ],
)
def test_a_goal_does_not_reach_a_clause_with_a_subject_of_its_own_after_a_comma(body: str, modality: str) -> None:
    """Trial 32, a leftover of M3: "urged Kyiv to negotiate, Russia fired missiles" read the firing as a goal."""
    assert _read(body, "attack")[0] == modality


@pytest.mark.parametrize(
    ("body", "signal", "modality"),
    [
        ("Residents fled amid fears of a new attack on the city.", "attack", "hedged"),
        ("There are fears that the shelling of the port resumed overnight.", "attack", "hedged"),
        ("Fears of a further attack grew as the shelling of the port went on.", "attack", "hedged"),
        ("Soldiers fear for their lives after the attack on the base.", "attack", "asserted"),  # no object
    ],
)
def test_a_fear_hedges_what_is_feared(body: str, signal: str, modality: str) -> None:
    """A fear ("fears of", "fears that") names what has not happened (a review of trial 32's leftovers: "amid
    fears of a new Russian offensive" read the offensive asserted); "fear for" names no such thing."""
    assert _read(body, signal)[0] == modality
