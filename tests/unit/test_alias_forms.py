"""Entity aliases are names in their dictionary form, and match that name's inflected forms (trial 8, H2):
"Ким Чен Ына", "Пескова", "в Совфеде", "Белоусова", "Зеленского"; not another word the alias also
spells a form of ("песок", "белоус", "Лавра"). Sentences are written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.morphology import name_forms, word_forms

from .engine_helpers import doc, engine_for

PACK = """\
version: 2
name: alias-forms
language: ru
entities:
  KIM: {name: Kim, kind: person, aliases: [Ким Чен Ын]}
  PESKOV: {name: Peskov, kind: person, aliases: [Песков]}
  SOVFED: {name: Federation Council, kind: organization, aliases: [Совфед]}
  BELOUSOV: {name: Belousov, kind: person, aliases: [Белоусов]}
  LAVROV: {name: Lavrov, kind: person, aliases: [Лавров]}
  PUTIN: {name: Putin, kind: person, aliases: [Путин]}
  CHOE: {name: Choe, kind: person, aliases: [Чхве Сон Хи]}
signals:
  met: {match: "встреча с @PESKOV"}
detections:
  - {id: d, title: d, pattern: {any: met}}
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path: Path = tmp_path_factory.mktemp("alias_forms") / "names.yaml"
    path.write_text(PACK, encoding="utf-8")
    return engine_for(str(path))


def found(engine: Engine, text: str) -> set[str]:
    scan, _viable = engine.extractor.scan(doc(text), every=True)
    return set() if scan is None else {e for s in scan.sentences(every=True) for e in s.entities}


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("Визит Ким Чен Ына в Москву завершился.", "KIM"),  # the last word of a name nothing is guessed for
        ("Письмо Ким Чен Ыну передали вчера.", "KIM"),
        ("Слова Пескова процитировали агентства.", "PESKOV"),  # the surname, not "песок"
        ("Журналисты говорили с Песковым.", "PESKOV"),
        ("Договор ратифицируют в Совфеде.", "SOVFED"),  # a word the dictionary does not know: its guess
        ("Решение Совфеда вступит в силу.", "SOVFED"),
        ("Назначение Белоусова одобрили.", "BELOUSOV"),
        ("Заявление Лаврова опубликовано.", "LAVROV"),  # these matched before too
        ("Указ Путина подписан.", "PUTIN"),
        ("Делегацию возглавила Чхве Сон Хи.", "CHOE"),
    ],
)
def test_an_alias_matches_its_inflected_forms(engine: Engine, text: str, entity: str) -> None:
    assert entity in found(engine, text)


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("На берегу много песка, песок тёплый.", "PESKOV"),  # "Песков" is not "песок"'s genitive plural
        ("На склоне рос белоус.", "BELOUSOV"),
        ("Паломники приехали в Лавру.", "LAVROV"),  # nor "Лавров" the plural of the name "Лавр"
    ],
)
def test_an_alias_does_not_read_other_words(engine: Engine, text: str, entity: str) -> None:
    assert entity not in found(engine, text)


def test_an_alias_inside_a_phrase_is_read_as_a_name(engine: Engine) -> None:
    assert [s.name for s in engine.extract(doc("Состоялась встреча с Песковым."))] == ["met"]
    assert [s.name for s in engine.extract(doc("Состоялась встреча с песком."))] == []


def test_name_forms_only_add_the_names_forms() -> None:
    assert {"ына", "ыну", "ыном", "ыне"} <= name_forms("ru", "ын")
    assert word_forms("ru", "ын") == {"ын"}  # a phrase word that is no alias: as before
    assert {"совфеда", "совфеде"} <= name_forms("ru", "совфед")
    assert "песок" not in name_forms("ru", "песков") and "пескова" in name_forms("ru", "песков")
    # Names ending in a vowel and letter abbreviations do not decline.
    assert name_forms("ru", "чхве") == {"чхве"}
    assert name_forms("ru", "лнр") == {"лнр"}
    assert name_forms("en", "peskov") == word_forms("en", "peskov")


def test_the_bundled_pack_reads_its_russian_names_inflected() -> None:
    engine = engine_for("builtin:dprk_russia")
    assert "PRK" in found(engine, "Визит Ким Чен Ына в Москву.")
    assert "RUS" in found(engine, "Об этом сообщили в Совфеде.")
    assert "RUS" in found(engine, "Слова Пескова передали агентства.")
    assert "RUS" not in found(engine, "Колонна застряла в песке.")
