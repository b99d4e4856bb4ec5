"""Abbreviations that close a list end the sentence before a capitalised word (outside trial 17, L1): "и т. д.",
"и т. п.", "и др.", "etc." no longer join the next sentence to theirs, so a cue or a `none:` word of one sentence
does not act on the next. Sentences are written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.text import split_sentences

from .engine_helpers import DATA
from .test_modality_v2 import modality


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Будут поставки, ракеты и т. д. Военные прибыли.", ["Будут поставки, ракеты и т. д.", "Военные прибыли."]),
        ("Будут ракеты и т.д. Сегодня прибыли.", ["Будут ракеты и т.д.", "Сегодня прибыли."]),
        ("Ракеты, танки и т. п. Солдаты прибыли.", ["Ракеты, танки и т. п.", "Солдаты прибыли."]),
        ("Ракеты, танки и др. Солдаты прибыли.", ["Ракеты, танки и др.", "Солдаты прибыли."]),
        ("Tanks, missiles, etc. Troops arrived.", ["Tanks, missiles, etc.", "Troops arrived."]),
        # a lower-case word after them continues the sentence; other abbreviations and initials keep theirs
        ("ракеты и др. страны", ["ракеты и др. страны"]),
        ("Tanks etc. and more", ["Tanks etc. and more"]),
        ("Он живёт на пр. Мира.", ["Он живёт на пр. Мира."]),
        ("Приехал т. Д. Иванов.", ["Приехал т. Д. Иванов."]),
        ("В 1990-е гг. Пхеньян молчал.", ["В 1990-е гг. Пхеньян молчал."]),
    ],
)
def test_a_list_closing_abbreviation_ends_the_sentence(text: str, want: list[str]) -> None:
    assert split_sentences(text) == want


def test_a_cue_of_the_sentence_before_does_not_reach_the_next() -> None:
    ru = str(DATA / "rules" / "ru_treaty.yaml")
    body = "Будут новые поставки, ракеты и т. д. КНДР направила войска в Россию."
    assert modality(body, "troops_sent", spec=ru)[0] == "asserted"
    en = "There will be tanks, missiles, etc. North Korean troops were sent to Russia."
    assert modality(en, "troop_deployment")[0] == "asserted"
