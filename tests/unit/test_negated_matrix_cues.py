"""A negated verb of hiding or doubting, and a double negation, before a «…, что …» / "that" complement say it is so
(outside trial 51, M1): "Не секрет, что обмен состоялся", "никто не сомневается, что …", "не могли не знать, что …",
"It is no secret that the swap took place" read asserted, not negated. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "negated-matrix",
        "language": ["en", "ru"],
        "signals": {
            "swap_en": {"match": {"all": [{"any": ["swap", "exchange"]}, "prisoners"]}, "near": 4},
            "swap_ru": {"match": {"all": ["обмен", "пленными"]}, "near": 3},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        ("swap_ru", "Ни для кого не секрет, что обмен пленными прошел в субботу."),
        ("swap_ru", "В штабе не сомневаются, что обмен пленными состоялся."),
        ("swap_ru", "Стороны не скрывали, что обмен пленными дался тяжело."),
        ("swap_ru", "Нельзя не признать, что обмен пленными прошел без сбоев."),
        ("swap_ru", "Там не могли не заметить, что обмен пленными уже идет."),
        ("swap_en", "It is no secret that the exchange of prisoners went ahead on Saturday."),
    ],
)
def test_a_negated_verb_of_hiding_or_doubting_asserts_its_complement(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        ("swap_ru", "Обмена пленными не было, и никто этого не скрывает."),
        ("swap_ru", "Киев не сообщал, что обмен пленными состоялся."),
        ("swap_en", "There was no exchange of prisoners on Saturday."),
        ("swap_en", "Kyiv says there is no secret swap of prisoners."),
    ],
)
def test_other_negations_still_negate(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body)[0] == "negated"
