"""How far a Russian negation reaches across clauses (outside trial 71, H1-H3, L1, L3; docs/rules.md "Modality"): the
noun «нет» takes as what there was not stands in its own clause; «без» hangs on its clause's verb and does not reach
past a comma into a clause with its own predicate; «есть» is a predicate; a count with no verb («двое раненых») is a
clause of its own beside a negated one; a colon breaks clauses as a dash does (not after a verb, which it introduces);
«информация о … уточняется» hedges; «Напомним, …» recalls. Sentences written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import Extractor

from .engine_helpers import doc

VICTIMS = ["погибших", "погибли", "ранены", "раненых", "пострадавших", "пострадавшие", "жертв"]


def _modality(text: str, words: list[str] | None = None) -> str:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "victims",
            "language": "ru",
            "signals": {"victims": {"match": {"any": words or VICTIMS}}},
        }
    )
    (got,) = Extractor(compile_packs([pack])).extract(doc(text))
    return str(got.modality)


@pytest.mark.parametrize(
    "text",
    [
        # H3: the noun after the comma is the subject of a clause of its own, not what there was not
        "После удара по Курску погибших нет, повреждения получили три склада.",
        "После атаки дронов погибших нет, пострадали несколько машин.",
        "В результате атаки погибших нет — ущерб причинён двум домам.",
        # ... as before: alone, and with a noun in its own clause
        "После удара по Курску погибших нет.",
    ],
)
def test_the_dead_stay_negated_when_a_clause_of_damage_follows(text: str) -> None:
    assert _modality(text, ["погибших"]) == "negated"


def test_a_noun_right_after_net_in_its_clause_is_still_what_there_was_not() -> None:
    # "о погибших нет данных": no data, the dead not denied (as before)
    assert _modality("После удара по Курску погибших нет данных.", ["погибших"]) == "asserted"


@pytest.mark.parametrize(
    "text",
    [
        # H2: «без» does not reach past the comma into a clause with its own predicate
        "При ударе по Брянску обошлось без погибших, но ранены пять человек.",
        "При атаке на Курск обошлось без жертв, ранены трое.",
        "Ночью в Белгороде обошлось без погибших, однако пострадали двое.",
        # H2: a count before the negated clause
        "При атаке на Курск трое пострадавших, погибших нет.",
        # H1: «есть» is a predicate
        "При ударе по Брянску погибших нет, есть пострадавшие.",
        # H1: a count with no verb after «X нет», after a comma, a dash, a colon
        "После обстрела Курска погибших нет, трое пострадавших.",
        "Атака на Белгород: погибших нет — пятеро раненых.",
        "Атака на Белгород: погибших нет: трое ранены.",
        "Атака на Белгород: никто не погиб: трое ранены.",
        "После обстрела Курска погибших нет, но 4 пострадавших.",
        "Погибших нет, трое пострадавших: дроны атаковали Курск",
    ],
)
def test_the_wounded_in_a_clause_of_their_own_are_asserted(text: str) -> None:
    assert _modality(text) == "asserted"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # a list under one «без» / «нет» stays negated
        ("Обстрел обошёлся без погибших и раненых.", ["раненых"]),
        ("Погибших, раненых и пострадавших нет.", VICTIMS),
        # a count is no clause of its own beside a clause with no predicate of its own
        ("Без погибших, трое раненых.", ["погибших"]),
        # «ни … ни» lists, not counts
        ("Нет ни погибших, ни раненых.", VICTIMS),
    ],
)
def test_a_list_stays_negated(text: str, words: list[str]) -> None:
    assert _modality(text, words) == "negated"


def test_a_colon_after_a_verb_introduces_what_it_says() -> None:
    # the cue of «не подтвердили» (not confirming: hedged) reaches past the colon; «не сообщали» negates
    assert _modality("В МЧС не подтвердили: погибли двое.", ["погибли"]) == "hedged"
    assert _modality("Погибших нет, в МЧС не сообщали: ранены двое.", ["ранены"]) == "negated"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # L1: of a report noun's «о» phrase: not yet known
        ("Сведения о погибших при атаке на Курск уточняются.", "hedged"),
        ("По словам губернатора, информация о пострадавших выясняется.", "hedged"),
        # the number of the dead is being made out: there were dead
        ("Число погибших при атаке на Курск уточняется.", "asserted"),
    ],
)
def test_information_about_victims_being_clarified_is_hedged(text: str, expected: str) -> None:
    assert _modality(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # L3: a recap marker opening the sentence
        ("Напомним, в мае при ударе по Белгороду погибли семь человек.", "recap"),
        ("Стоит напомнить, что в мае при ударе по Белгороду погибли семь человек.", "recap"),
        # not a marker in the middle or at the end
        ("В мае при ударе по Белгороду погибли семь человек, напомним.", "asserted"),
        ("Губернатор решил напомнить жителям об опасности: погибли семь человек.", "asserted"),
    ],
)
def test_a_recap_marker_opening_the_sentence(text: str, expected: str) -> None:
    assert _modality(text) == expected


def _explain(tmp_path: Path, text: str) -> str:
    pack = tmp_path / "victims.yaml"
    words = ", ".join(VICTIMS)
    pack.write_text(
        f"version: 2\nname: victims\nlanguage: ru\nsignals:\n  victims:\n    match: {{any: [{words}]}}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(pack), "--text", text])
    assert res.exit_code == 0, res.output
    return res.output


def test_explain_says_a_count_is_a_clause_of_its_own(tmp_path: Path) -> None:
    out = _explain(tmp_path, "После обстрела Курска погибших нет, трое пострадавших.")
    assert "✓ victims on “пострадавших”: asserted" in out, out
    assert (
        "passed over “погибших”, negated (cue 'нет'): “пострадавших” is asserted and stands apart from it: a clause of "
        "its own, a count ('трое') with no verb, set off by a comma, dash, ';' or ':'"
    ) in out, out


def test_explain_says_bez_does_not_reach_past_the_comma(tmp_path: Path) -> None:
    out = _explain(tmp_path, "При атаке на Курск обошлось без жертв, ранены трое.")
    assert "✓ victims on “ранены”: asserted" in out, out
    assert "cue negated “без” (before): ignored — a clause of its own, with its own predicate 'ранены'" in out, out


def test_explain_no_longer_takes_the_next_clause_as_what_there_was_not(tmp_path: Path) -> None:
    out = _explain(tmp_path, "После удара по Курску погибших нет, повреждения получили три склада.")
    assert "✓ victims on “погибших”: negated" in out, out
    assert "is what there was not" not in out, out
