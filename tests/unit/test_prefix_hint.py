"""`rules check` hints where an English phrase word written as a prefix misses the word's own forms ("seize*" does not
read "seizing", "withdraw*" not "withdrew"): outside trial 44, L4. Phrases written for these tests."""

from __future__ import annotations

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs


def _warnings(*phrases: str, language: str = "en") -> list[str]:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "prefix-hint",
            "language": language,
            "signals": {"taken": {"match": {"all": [{"any": list(phrases)}, {"any": ["power", "troops"]}]}}},
        }
    )
    return [w.message for w in compile_packs([pack]).warnings]


def test_a_prefix_that_misses_forms_of_its_word_is_hinted() -> None:
    said = _warnings("seize*", "withdraw*")
    assert any("'seize*' in 'seize*' misses forms of 'seize' (seizing)" in m and "`seiz*`" in m for m in said), said
    assert any("misses forms of 'withdraw' (withdrew)" in m and "`withdr*`" in m for m in said), said


def test_no_hint_where_the_prefix_reads_every_form() -> None:
    assert not any("misses forms" in m for m in _warnings("attack*", "seiz*", "expel*", "sanction*")), _warnings()


def test_no_hint_for_a_word_as_written_or_a_russian_pack() -> None:
    assert not any("misses forms" in m for m in _warnings("seize", "seizing"))
    assert not any("misses forms" in m for m in _warnings("захват*", language="ru"))
