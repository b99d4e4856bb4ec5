"""A title placeholder in a Russian case (outside trial 57, LOW-1): `{place:dative}` reads «Удар по Белгородской
области», not «Удар по Белгородская область»; anything else after ':' is refused at load, where a Python format spec
passed `rules check` and then failed the engine at the first alert ("Invalid format specifier")."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.engine.morphology import inflect_name_ru

from .engine_helpers import Timeline, doc, engine_for

PACK = """\
version: 2
name: title-cases
language: ru
entities:
  BELG: {name: Белгородская область, kind: place, aliases: [Белгородская область]}
  KURSK: {name: Курская область, kind: place, aliases: [Курская область]}
  RUS: {name: Россия, kind: country, aliases: [Россия, Госдума]}
  PRK: {name: КНДР, kind: country, aliases: [КНДР, Пхеньян]}
signals:
  strike:
    match: {any: [удар]}
    capture: {place: {kind: place}}
  ratified:
    match: {all: [{any: ["ратифицир*"]}, {any: [договор]}]}
    capture: {party: {entities: [RUS, PRK]}}
detections:
  - id: strike
    title: "Удар по {place:dative}{place_suffix:genitive}"
    pattern: {any: strike}
    group_by: [place]
  - id: ratified
    title: "Договор ратифицирован {party:instrumental}"
    pattern: {any: ratified}
    group_by: [party]
"""


@pytest.mark.parametrize(
    ("name", "case", "form"),
    [
        ("Белгородская область", "dative", "Белгородской области"),
        ("Белгородская область", "accusative", "Белгородскую область"),
        ("Государственная дума", "instrumental", "Государственной думой"),
        ("Совет Федерации", "dative", "Совету Федерации"),  # the head declines, its complement stays
        ("Владимир Путин", "genitive", "Владимира Путина"),  # a person's names together
        ("Соединённые Штаты", "prepositional", "Соединённых Штатах"),
        ("Россия", "instrumental", "Россией"),
        ("КНДР", "dative", "КНДР"),  # indeclinable
        ("Ким Чен Ын", "dative", "Ким Чен Ын"),  # a word the dictionary does not know: as written, not half declined
        ("United States", "dative", "United States"),
        ("Курская область", "nominative", "Курская область"),
    ],
)
def test_a_name_in_a_case(name: str, case: str, form: str) -> None:
    assert inflect_name_ru(name, case) == form


def test_a_title_shows_each_name_in_the_case_it_asks_for(tmp_path: Path) -> None:
    pack = tmp_path / "cases.yaml"
    pack.write_text(PACK, encoding="utf-8")
    line = Timeline(engine_for(str(pack)))
    fired = line.feed(
        doc("Удар по Белгородской области: пострадавших трое", at=0),
        doc("Договор с КНДР ратифицирован Россией", at=1),
        doc("Договор с Россией ратифицирован Пхеньяном", at=2),
    )
    assert [d.title for d in fired] == [
        "Удар по Белгородской области (Белгородской области)",
        "Договор ратифицирован Россией",
        "Договор ратифицирован КНДР",
    ]


@pytest.mark.parametrize("placeholder", ["{place:dativ}", "{place:>20}", "{place!r}"])
def test_anything_else_after_a_colon_is_refused_at_load(tmp_path: Path, placeholder: str) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text(PACK.replace("{place:dative}", placeholder), encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(pack)])
    assert res.exit_code == 1, res.output
    assert f"bad.yaml:18:12: title 'Удар по {placeholder}" in res.output, res.output
    assert "a placeholder takes only a case for a Russian name" in res.output, res.output
