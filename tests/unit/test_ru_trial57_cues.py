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

from .engine_helpers import reading

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
