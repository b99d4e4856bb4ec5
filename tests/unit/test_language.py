"""Rule language v2 on text: sentences in any script, stems and word forms, '=' and '*' words, entities
inside phrases, context words. Sentences are written for these tests (invented or paraphrased news)."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.morphology import word_forms
from watchfloor.stream_processors.engine.text import phrase_words, split_sentences, tokens

from .engine_helpers import DATA, doc, engine_for

V2 = str(DATA / "rules" / "v2_features.yaml")


def names(text: str, spec: str = V2, title: str = "") -> list[str]:
    return sorted(s.name for s in engine_for(spec).extract(doc(text, title=title)))


def test_russian_sentences_split_before_cyrillic_capitals() -> None:
    # Issue 12, point 1: this was one sentence, so `near` and cues ran across it.
    text = "Об этом заявили в Москве. Ранее документ одобрила Госдума."
    assert split_sentences(text) == ["Об этом заявили в Москве.", "Ранее документ одобрила Госдума."]


@pytest.mark.parametrize(
    ("text", "language", "want"),
    [
        # Initials and Russian abbreviations do not end a sentence; a lower-case word after a period
        # continues it.
        ("Госпиталь им. Вишневского посетил В. В. Путин. Итог.", "ru", 2),
        ("Сумма составила 5 млн. рублей. Итог.", "ru", 2),
        ("В 2024 г. Госдума одобрила закон. Итог.", None, 2),
        ("«Это важно», — сказал он. Затем ушёл.", "ru", 2),
        # Scripts without capitals, and full-width stops.
        ("这是第一句。这是第二句！对吗？", "zh", 3),
        ("Mr. Smith met Gen. Lee in the U.S. capital. Then he left.", "en", 2),
    ],
)
def test_sentences_in_any_script(text: str, language: str | None, want: int) -> None:
    assert len(split_sentences(text, language)) == want, split_sentences(text, language)


def test_tokens_read_yo_as_ye() -> None:
    assert tokens("Придётся ещё") == ["придется", "еще"]


def test_phrase_words_keep_prefix_and_exact_marks() -> None:
    assert phrase_words("Северн* Коре*") == ["северн*", "коре*"]
    assert phrase_words("=May 9") == ["=may", "9"]
    assert phrase_words("Kim Jong-un") == ["kim", "jong", "un"]


def test_word_forms_are_inflections_of_the_lemma() -> None:
    # English irregular verbs, and Russian stem changes: one phrase word reads every form.
    assert {"send", "sends", "sending", "sent"} <= word_forms("en", "sent")
    assert {"ratify", "ratifies", "ratified", "ratifying"} <= word_forms("en", "ratified")
    for form in ("ратифицировала", "ратифицируют", "ратифицирован", "ратифицировать"):
        assert form in word_forms("ru", "ратифицировал"), form
    assert {"пхеньяна", "пхеньяном"} <= word_forms("ru", "пхеньян")
    assert "зюдмарка" in word_forms("ru", "зюдмарк")  # a name the dictionary does not know: its guess
    # Inflections, not derivations (a stemmer conflates these).
    assert "president" not in word_forms("en", "presidency")
    assert "nation" not in word_forms("en", "nationals")
    assert "is" not in word_forms("en", "being") and "be" not in word_forms("en", "beings")
    assert "кора" not in word_forms("ru", "корея")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Sudmark ratifies Nordland's membership.", ["accession_ratified"]),
        ("Sudmark ratified Nordland's accession.", ["accession_ratified"]),
        ("Зюдмарк ратифицировал вступление Нордландии.", ["accession_ratified"]),
        ("Зюдмарк ратифицирует членство Нордландии.", ["accession_ratified"]),
        ("Nordland joins the Alliance.", ["joined"]),
        ("Нордландия вступила в Альянс.", ["joined"]),
        ("Нордландия вступит в Альянс.", ["joined"]),
    ],
)
def test_phrases_match_inflected_forms(text: str, want: list[str]) -> None:
    assert names(text) == want


def test_exact_word_and_inner_prefix() -> None:
    assert names("The Nordic seas carried the ships.") == ["northern_sea"]
    assert names("The Nordic seas carried one ship.") == []  # "=ships": that form only
    assert names("The Nordic coast carried the ships.") == []


def test_entity_inside_a_phrase() -> None:
    assert names("Troops from Nordland crossed at Port Vell.") == ["troops_from"]
    assert names("Troops from Sudmark crossed at Port Vell.") == []
    sig = engine_for(V2).extract(doc("Troops from Nordland crossed at Port Vell."))[0]
    assert sig.captures == {"place": "HARBOR"}


def test_context_words_anywhere_in_the_document() -> None:
    assert names("A deal for Port Vell was signed.") == []
    assert names("A deal for Port Vell was signed. The lease runs ten years.") == ["port_deal"]
    assert names("Сделка по Порт Велл подписана. Аренда продлится десять лет.") == ["port_deal"]


def test_version_1_packs_keep_exact_words() -> None:
    # tests/data/rules/patterns.yaml is version 1: "closed" does not read "closes".
    pack = str(DATA / "rules" / "patterns.yaml")
    assert names("Alphaland closed the border today.", pack) == ["border_closed"]
    assert names("Alphaland closes the border today.", pack) == []
