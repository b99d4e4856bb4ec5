"""An unknown entity id names the closest defined one, as other unknown names do (outside trial 41, L3: 'RUSS'
had no "did you mean 'RUS'?"): in `mentions`, a capture's entities, "@ID" and a phrase naming one."""

from __future__ import annotations

from typing import Any

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiled import CompileErrors
from watchfloor.stream_processors.engine.compiler import compile_packs

ENTITIES = {
    "RUS": {"name": "Russia", "kind": "country", "aliases": ["Russia"]},
    "UKR": {"name": "Ukraine", "kind": "country", "aliases": ["Ukraine"]},
}


def _errors(signal: dict[str, Any]) -> list[str]:
    pack = RulePack.model_validate(
        {"version": 2, "name": "hint", "entities": ENTITIES, "signals": {"s": signal}, "detections": []}
    )
    with pytest.raises(CompileErrors) as got:
        compile_packs([pack])
    return [e.message for e in got.value.errors]


@pytest.mark.parametrize(
    ("signal", "said"),
    [
        ({"match": "talks", "mentions": {"any": ["RUSS"]}}, "unknown entity 'RUSS' (did you mean 'RUS'?"),
        ({"match": "talks", "capture": {"side": {"entities": ["ukr"]}}}, "unknown entity 'ukr' (did you mean 'UKR'?"),
        ({"match": "@RUSS"}, "unknown entity '@RUSS' (did you mean 'RUS'?"),
        ({"match": "troops from @UKRR"}, "unknown entity '@UKRR' in phrase 'troops from @UKRR' (did you mean 'UKR'?"),
    ],
)
def test_an_unknown_entity_names_the_closest(signal: dict[str, Any], said: str) -> None:
    got = _errors(signal)
    assert any(m.startswith(said) and m.endswith("else define it under 'entities')") for m in got), got


def test_none_close_says_only_where_to_define_it() -> None:
    assert "unknown entity 'NATO' (define it under 'entities')" in _errors(
        {"match": "talks", "mentions": {"any": ["NATO"]}}
    )
