"""What is hoped or counted on, or announced ahead, is still to come (outside trial 51, M4, L2): "Москва надеется
на обмен пленными", "анонсировал обмен" read future, their object only; and a perfective future reaches its object
past a count in figures (L2). Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_ENGINE = Engine(
    compile_packs(
        [
            RulePack.model_validate(
                {
                    "version": 2,
                    "name": "ru-hopes",
                    "language": "ru",
                    "signals": {"swap": {"match": {"all": ["обмен", "пленными"]}, "near": 3}},
                }
            )
        ]
    )
)


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Москва надеется на обмен пленными до конца года.", ("future", "надеется на")),
        ("Родственники солдат рассчитывают на обмен пленными.", ("future", "рассчитывают на")),
        # announced ahead (L2)
        ("Президент анонсировал обмен пленными с соседями.", ("future", "анонсировал")),
        ("Президент анонсировал заявление после обмена пленными.", ("asserted", None)),
        # not past a preposition: the hope is for something else, the exchange a fact
        ("Стороны надеются на продолжение диалога после обмена пленными.", ("asserted", None)),
    ],
)
def test_a_hope_defers_its_object(body: str, want: tuple[str, str | None]) -> None:
    assert reading(_ENGINE, "swap", body=body) == want


def test_a_perfective_future_reaches_its_object_past_a_count() -> None:
    # Outside trial 51, L2: a count in figures between the verb and its object does not end the verb's reach.
    engine = Engine(
        compile_packs(
            [
                RulePack.model_validate(
                    {
                        "version": 2,
                        "name": "ru-returned",
                        "language": "ru",
                        "signals": {"pows": {"match": {"any": ["военнопленных"]}}},
                    }
                )
            ]
        )
    )
    assert reading(engine, "pows", body="Киев вернет Москве 40 военнопленных.") == ("future", "вернет")
    assert reading(engine, "pows", body="Киев вернул Москве 40 военнопленных.") == ("asserted", None)
