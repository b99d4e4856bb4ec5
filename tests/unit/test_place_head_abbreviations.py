""" "обл." and "р-н" after the adjective of a place name close it (outside trial 41, L1): a capitalised word after them
starts a new sentence, so a cue of one sentence does not act on the next. Sentences are written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.text import split_sentences

from .engine_helpers import DATA
from .test_modality_v2 import modality


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Их нет в Брянской обл. Войска отошли.", ["Их нет в Брянской обл.", "Войска отошли."]),
        ("Это Глушковский р-н. Войска отошли.", ["Это Глушковский р-н.", "Войска отошли."]),
        # ... not before a name they head, nor without an adjective before them, nor before a lower-case word
        ("Он живёт в р-н Марьино.", ["Он живёт в р-н Марьино."]),
        ("Москва, р-н. Марьино.", ["Москва, р-н. Марьино."]),
        ("Приехали в Брянскую обл. вчера.", ["Приехали в Брянскую обл. вчера."]),
    ],
)
def test_a_place_name_closed_by_its_head_ends_the_sentence(text: str, want: list[str]) -> None:
    assert split_sentences(text, "ru") == want


def test_a_cue_of_the_sentence_before_does_not_reach_the_next() -> None:
    body = "Диверсанты не смогли войти в Брянскую обл. Вечером они прорвались к селу."
    assert modality(body, "breach", spec=str(DATA / "rules" / "ru_border.yaml"))[0] == "asserted"
