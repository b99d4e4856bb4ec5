"""An attempt or an apparent coup reads asserted by the built-in cues, a suspected one hedged (outside trial 56, L1);
the pack that wants them hedged adds `hedged: [apparent, attempted]` and, for "coup attempt", where the word follows,
`after: {hedged: [attempt]}`, as docs/rules.md says. Headlines written for this test."""

from __future__ import annotations

from typing import Any

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

HEDGES = {"hedged": ["apparent", "attempted"], "after": {"hedged": ["attempt"]}}


def _engine(modality: dict[str, Any] | None) -> Engine:
    pack: dict[str, Any] = {"version": 2, "name": "coup-hedges", "language": "en"}
    pack["signals"] = {"coup": {"match": {"any": ["coup"]}}}
    if modality is not None:
        pack["modality"] = modality
    return Engine(compile_packs([RulePack.model_validate(pack)]))


BUILT_IN, WITH_HEDGES = _engine(None), _engine(HEDGES)


@pytest.mark.parametrize(
    ("title", "cue"),
    [
        ("Apparent coup under way in Ruritania", "apparent"),
        ("Soldiers stage attempted coup in Ruritania", "attempted"),
        ("Coup attempt reported in Ruritania's capital", "attempt"),
    ],
)
def test_the_packs_hedges_hedge_an_attempted_or_apparent_coup(title: str, cue: str) -> None:
    assert reading(BUILT_IN, "coup", body="", title=title)[0] == "asserted", title
    assert reading(WITH_HEDGES, "coup", body="", title=title) == ("hedged", cue), title


def test_a_coup_said_plainly_stays_asserted() -> None:
    assert reading(WITH_HEDGES, "coup", body="", title="Coup in Ruritania topples the president")[0] == "asserted"
