"""Russian modality misreadings of outside trial 57, each a false HIGH alert. HIGH-1: a date in digits after a
predicate ("Обмен пленными не состоялся 5 января", "… состоится 25.12") erased the cue, as the English "May 9" rule
ignored every cue before a number. HIGH-2: the object first and a singular past verb of calling off with its subject
after it ("Обмен пленными сорвал Киев", "Ратификацию договора отложила Госдума") read asserted. Sentences written
for these tests; English counterparts read as before."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc, reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "trial57-cues",
        "language": ["en", "ru"],
        "signals": {
            "swap_en": {
                "match": {"all": [{"any": ["exchange", "swap"]}, {"any": ["prisoners", "prisoner"]}]},
                "near": 4,
            },
            "swap_ru": {"match": {"all": [{"any": ["обмен"]}, {"any": ["пленными", "военнопленными"]}]}, "near": 3},
            "ratification_ru": {"match": {"all": ["ратификаци*", "договор*"]}, "near": 4},
            "strike_ru": {"match": {"any": ["обстрел", "удар", "атака"]}},
            "casualties_ru": {
                "match": {"all": [{"any": ["беспилотник*", "удар*"]}, {"any": ["пострадавш*", "погибш*", "жертв*"]}]},
                "near": 8,
            },
            "coup_en": {"match": {"any": ["coup"]}},
            "casualties_en": {"match": {"all": [{"any": ["drone", "strike"]}, {"any": ["casualties", "injured"]}]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, text: str) -> tuple[str, str | None]:
    """The reading of `text` as a body sentence and as a headline, which must agree."""
    body = reading(_ENGINE, signal, body=text)
    assert reading(_ENGINE, signal, body="Пленные.", title=text) == body
    return body


@pytest.mark.parametrize(
    ("signal", "text", "want"),
    [
        ("swap_ru", "Обмен военнопленными не состоялся 12 марта", ("negated", "не состоялся")),
        ("swap_ru", "Обмен военнопленными так и не произошел 12 марта", ("negated", "так и не произошел")),
        ("swap_ru", "Обмен военнопленными был сорван 3 февраля", ("negated", "был сорван")),
        ("swap_ru", "Обмен военнопленными состоится 14 марта", ("future", "состоится")),
        ("swap_ru", "Обмен военнопленными должен состояться 14 марта", ("future", "должен состояться")),
        ("swap_ru", "Обмен военнопленными состоится 14.03", ("future", "состоится")),
        ("swap_ru", "Обмен военнопленными состоится 14-го", ("future", "состоится")),
        ("swap_ru", "Обмен военнопленными состоится 14 марта 2025 года", ("future", "состоится")),
        ("swap_ru", "Обмен военнопленными не состоялся 12 марта, заявили в Минобороны", ("negated", "не состоялся")),
        ("ratification_ru", "Ратификация договора с Минском Госдумой состоится 12 мая", ("future", "состоится")),
    ],
)
def test_a_date_after_a_russian_predicate_keeps_its_cue(signal: str, text: str, want: tuple[str, str]) -> None:
    assert _read(signal, text) == want


@pytest.mark.parametrize(
    "text",
    [
        "Обмен военнопленными состоялся 12 марта",
        # "не" before the date denies the date, not the exchange
        "Обмен военнопленными состоялся не 12 марта, а 13-го",
    ],
)
def test_a_date_after_a_done_exchange_leaves_it_asserted(text: str) -> None:
    assert _read("swap_ru", text) == ("asserted", None)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("The prisoner swap did not take place on March 12", ("negated", "did not take place")),
        ("The prisoner swap will take place on March 14", ("future", "will take place")),
        ("The prisoner swap took place May 9", ("asserted", None)),  # the month, not the modal
    ],
)
def test_english_dates_read_as_before(text: str, want: tuple[str, str | None]) -> None:
    assert _read("swap_en", text) == want


@pytest.mark.parametrize(
    ("signal", "text", "cue"),
    [
        ("swap_ru", "Обмен военнопленными сорвал Киев", "сорвал"),
        ("swap_ru", "Обмен военнопленными отменил Зеленский", "отменил"),
        ("swap_ru", "Обмен военнопленными перенесла Украина", "перенесла"),
        ("swap_ru", "Обмен военнопленными отложил Кремль в последний момент", "отложил"),
        ("swap_ru", "Обмен военнопленными сорвал официальный Киев", "сорвал"),
        ("swap_ru", "В Москве заявили, что обмен военнопленными сорвала Украина", "сорвала"),
        ("ratification_ru", "Ратификацию договора с Минском отложила Госдума", "отложила"),
        ("ratification_ru", "Ратификацию договора с Минском отложила Государственная дума", "отложила"),
        # (as before: the plural, and the subject first)
        ("swap_ru", "Обмен военнопленными отложили депутаты", "отложили"),
        ("swap_ru", "Киев сорвал обмен военнопленными", "сорвал"),
    ],
)
def test_the_object_first_and_a_singular_verb_of_calling_off_is_negated(signal: str, text: str, cue: str) -> None:
    assert _read(signal, text) == ("negated", cue)


@pytest.mark.parametrize(
    ("signal", "text"),
    [
        # the words before are the subject: what they did happened
        ("strike_ru", "Обстрел сорвал обмен военнопленными"),
        ("strike_ru", "Удар сорвал эвакуацию"),
        ("strike_ru", "Атака сорвала переговоры"),
        ("swap_ru", "Обмен военнопленными сорвал планы Киева"),
        # a negation cancels the calling off
        ("swap_ru", "Обмен военнопленными не сорвал Киев"),
    ],
)
def test_a_singular_verb_of_calling_off_with_its_subject_before_leaves_it_asserted(signal: str, text: str) -> None:
    assert _read(signal, text) == ("asserted", None)


def test_the_english_call_off_reads_as_before() -> None:
    assert _read("swap_en", "Kyiv called off the prisoner swap") == ("negated", "called off")
    assert _read("swap_en", "The prisoner swap called off the talks") == ("asserted", None)


def _cue_reasons(signal: str, title: str) -> list[str]:
    exp = explain_extraction(_ENGINE.rules, doc("Пленные.", title=title))
    checks = [c for s in exp.sentences for c in s.signals if c.signal == signal and c.matched]
    return [f"{c.words}: {c.reason}" for c in checks[0].cues]


def test_explain_says_where_a_verb_of_calling_off_after_the_words_stands() -> None:
    """It stands after the signal's words, not "among" them (trial 57, HIGH-2: the reason given was false)."""
    reasons = _cue_reasons("swap_ru", "Обмен военнопленными сорвал планы Киева")
    assert "сорвал: on the side it does not govern (1 word(s) after, and it governs only the word it leads to)" in (
        reasons
    )
    assert not any("among the signal's words" in r for r in reasons)


@pytest.mark.parametrize(
    "text",
    [
        "Захарова назвала сообщения об обмене военнопленными фейком",
        "В Минобороны назвали публикации об обмене военнопленными ложью",
        "В Кремле назвали слухи об обмене военнопленными дезинформацией",
        "Песков назвал сообщения об обмене военнопленными провокацией",
        "Песков называет заявления Киева об обмене военнопленными ложными",
    ],
)
def test_naming_a_report_false_denies_it(text: str) -> None:
    """As the English "calls coup reports fake" (trial 57, MED-1)."""
    assert _read("swap_ru", text)[0] == "negated"


@pytest.mark.parametrize(
    "text",
    [
        "Песков назвал обмен военнопленными важным шагом",
        # a provocation is a deed, not a report: it happened
        "Захарова назвала обмен военнопленными провокацией",
        # the topic after a preposition, and a report of something else
        "Песков назвал борьбу с дезинформацией важной, обмен военнопленными состоялся",
        "Обмен военнопленными состоялся, а Песков назвал сообщения о потерях фейком",
    ],
)
def test_other_naming_leaves_the_exchange_asserted(text: str) -> None:
    assert _read("swap_ru", text) == ("asserted", None)


def test_the_english_naming_denial_reads_as_before() -> None:
    assert _read("coup_en", "Gabon government calls coup reports fake")[0] == "negated"
    assert _read("coup_en", "Junta calls coup a rescue of the nation") == ("asserted", None)


@pytest.mark.parametrize(
    "text",
    [
        "Над Брянском сбиты три беспилотника, пострадавших нет",
        "Беспилотник атаковал Брянск, погибших нет",
        "Удар по Брянску: погибших и пострадавших нет",
        "Удар по Брянску, жертв нет",
        "Удар по Брянску, пострадавших, по предварительным данным, нет",
        "Удар по Брянску, пострадавших, как сообщили в МЧС, нет",
    ],
)
def test_none_hurt_after_the_casualty_word_negates_it(text: str) -> None:
    """«пострадавших нет», as «не было» (trial 57, MED-2)."""
    assert _read("casualties_ru", text) == ("negated", "нет")


@pytest.mark.parametrize(
    ("signal", "text"),
    [
        ("casualties_ru", "Удар беспилотника по Брянску, пострадавших много"),
        ("casualties_ru", "Удар беспилотника по Брянску, есть пострадавшие"),
        ("casualties_ru", "Удар беспилотника по Брянску, пострадавших много, а разрушений нет"),
        ("casualties_ru", "Удар беспилотника по Брянску, погибших нет данных"),
        # "нет" is said of the casualties, not of the exchange
        ("swap_ru", "Обмен военнопленными состоялся, пострадавших нет"),
    ],
)
def test_other_casualty_lines_stay_asserted(signal: str, text: str) -> None:
    assert _read(signal, text) == ("asserted", None)


def test_the_english_casualty_line_reads_as_before() -> None:
    assert _read("casualties_en", "Drone strike on Bryansk, no casualties")[0] == "negated"
    assert _read("casualties_en", "Drone strike on Bryansk, many injured") == ("asserted", None)
