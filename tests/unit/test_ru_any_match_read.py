"""Which match of an `any` a signal's modality is read on, as docs/rules.md (Modality) says (outside trial 66, MED-4:
«ранены трое, погибших нет» made no asserted signal): the narrowest, and among equally narrow ones the one whose
phrase is listed first, not the first in the text. Sentences written for these tests."""

from __future__ import annotations

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import Extractor

from .engine_helpers import doc


def _modality(words: list[str], text: str) -> str:
    pack = RulePack.model_validate(
        {"version": 2, "name": "victims", "language": "ru", "signals": {"victims": {"match": {"any": words}}}}
    )
    (got,) = Extractor(compile_packs([pack])).extract(doc(text))
    return got.modality


def test_the_phrase_listed_first_decides_among_equally_narrow_matches() -> None:
    text = "После атаки беспилотника ранены трое, погибших нет."
    assert _modality(["погибших", "ранены"], text) == "negated"
    assert _modality(["ранены", "погибших"], text) == "asserted"
