"""Which match of an `any` a signal's modality is read on, as docs/rules.md (Modality) says (outside trial 66, MED-4:
«ранены трое, погибших нет» made no asserted signal): the narrowest, then the phrase listed first; and when that one is
negated, the first other match, in text order, that is asserted in a clause of its own (a comma, dash or ';' between,
a predicate on each side). A negation does not reach across a comma into such a clause either. A coordinated list
stays negated. Sentences written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import Extractor

from .engine_helpers import doc


def _read(words: list[str], text: str, language: str = "ru", capture: bool = False) -> tuple[str, dict[str, str]]:
    signal: dict[str, object] = {"match": {"any": words}}
    if capture:  # a signal with captures is matched through the general path (not the plain list of phrases)
        signal["capture"] = {"region": {"kind": "place"}}
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "victims",
            "language": language,
            "entities": {
                "BEL": {"name": "Белгородская область", "kind": "place", "aliases": ["Белгород"]},
                "KUR": {"name": "Курская область", "kind": "place", "aliases": ["Курск"]},
            },
            "signals": {"victims": signal},
        }
    )
    (got,) = Extractor(compile_packs([pack])).extract(doc(text))
    return got.modality, got.captures


def _modality(words: list[str], text: str, language: str = "ru") -> str:
    return _read(words, text, language)[0]


@pytest.mark.parametrize("capture", [False, True])
def test_an_asserted_match_in_a_clause_of_its_own_is_read_over_the_negated_one_listed_first(capture: bool) -> None:
    text = "После атаки беспилотника ранены трое, погибших нет."
    assert _read(["погибших", "ранены"], text, capture=capture)[0] == "asserted"
    assert _read(["ранены", "погибших"], text, capture=capture)[0] == "asserted"
    assert _read(["погиб", "ранены"], "В Белгороде ранены трое, но никто не погиб.", capture=capture)[0] == "asserted"


@pytest.mark.parametrize(
    ("words", "text"),
    [
        (["killed", "wounded"], "Three people were wounded in the drone attack, no one was killed."),
        (["killed", "wounded"], "No one was killed, but three people were wounded."),
        (["killed", "injured"], "Nobody was killed in the strike; two were injured."),
    ],
)
def test_english_too(words: list[str], text: str) -> None:
    assert _modality(words, text, "en") == "asserted"


@pytest.mark.parametrize(
    ("words", "text", "language"),
    [
        (["пострадавших", "погибших"], "После атаки беспилотника пострадавших и погибших нет.", "ru"),
        # (read alone, the first of these lists is asserted, as before: a list's other match is no clause of its own)
        (["пострадавших", "погибших"], "Погибших и пострадавших в результате атаки, по данным губернатора, нет.", "ru"),
        (["пострадавших", "погибших"], "Погибших, раненых и пострадавших нет.", "ru"),
        # «пострадавших» is no clause: a participle, no predicate of its own
        (["погибших", "пострадавших"], "Среди жителей, пострадавших при атаке, погибших нет.", "ru"),
        (["dead", "wounded"], "There were no dead or wounded.", "en"),
        (["killed", "wounded"], "No one was killed or wounded in the attack.", "en"),
    ],
)
def test_a_coordinated_list_stays_negated(words: list[str], text: str, language: str) -> None:
    assert _modality(words, text, language) == "negated"


@pytest.mark.parametrize(
    ("words", "text", "language"),
    [
        (["ранены"], "Погибших нет, ранены трое.", "ru"),
        (["ранены"], "Никто не погиб, ранены трое.", "ru"),
        (["wounded"], "No one was killed, three people were wounded.", "en"),
    ],
)
def test_a_negation_does_not_reach_across_a_comma_into_a_clause_with_its_own_predicate(
    words: list[str], text: str, language: str
) -> None:
    assert _modality(words, text, language) == "asserted"


@pytest.mark.parametrize(
    ("words", "text", "language"),
    [
        # the negation's own part has no predicate: a list it goes on negating
        (["ammunition"], "No weapons, troops or ammunition were sent.", "en"),
        # what a verb of the negated clause says: «что», "that"
        (["пострадали"], "В МЧС не сообщали, что пострадали люди.", "ru"),
    ],
)
def test_a_negation_still_reaches_a_list_or_what_it_says(words: list[str], text: str, language: str) -> None:
    assert _modality(words, text, language) == "negated"


def test_captures_are_read_around_the_match_read() -> None:
    # the match read is «ранены», in Kursk's clause: the capture is read around it, not around «погибших»
    text = "В Курске ранены трое, в Белгороде погибших нет."
    assert _read(["погибших", "ранены"], text, capture=True) == ("asserted", {"region": "KUR"})


def test_explain_shows_the_words_read_and_the_match_passed_over(tmp_path: Path) -> None:
    pack = tmp_path / "victims.yaml"
    pack.write_text(
        "version: 2\nname: victims\nlanguage: ru\nsignals:\n  victims:\n    match: {any: [погибших, ранены]}\n",
        encoding="utf-8",
    )
    text = "После атаки беспилотника ранены трое, погибших нет."
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--text", text])
    assert res.exit_code == 0, res.output
    assert "✓ victims on “ранены”: asserted" in res.output, res.output
    assert "passed over “погибших”, negated (cue 'нет'): “ранены” is asserted" in res.output, res.output


def test_explain_says_why_no_other_match_is_read(tmp_path: Path) -> None:
    pack = tmp_path / "victims.yaml"
    pack.write_text(
        "version: 2\nname: victims\nlanguage: ru\nsignals:\n  victims:\n    match: {any: [пострадавших, погибших]}\n",
        encoding="utf-8",
    )
    text = "Погибших и пострадавших в результате атаки, по данным губернатора, нет."
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--text", text])
    assert res.exit_code == 0, res.output
    assert "✓ victims on “пострадавших”: negated" in res.output, res.output
    assert (
        "other matches not read: “погибших” is asserted alone, but not in a clause of its own apart from the negation"
    ) in res.output, res.output
