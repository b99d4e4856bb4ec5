"""Packs loaded together that define the same entity id (outside trial 41, H2): ids are shared, so their aliases
merge and widen each other's signals, and the first pack's name is the entity's. `rules check` and the loaders say
so, with what each pack adds to the other and which name shows where; a pack's own detections still title the
entity with its own name. And the bundled pack does not read WWII's «Курская битва» as the Kursk region. Texts
written for these tests."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import Timeline, doc, engine_for

FIRST = {
    "version": 2,
    "name": "first-pack",
    "language": "en",
    "entities": {
        "UKR": {"name": "Ukraine", "kind": "country", "aliases": ["Ukraine", "Kyiv"]},
        "PRK": {"name": "North Korea", "kind": "country", "aliases": ["North Korea"]},
    },
    "signals": {"talks": {"match": "talks", "mentions": {"any": ["PRK"]}}},
    "detections": [{"id": "talks", "title": "Talks", "pattern": {"any": "talks"}}],
}
SECOND = {
    "version": 2,
    "name": "second-pack",
    "language": "ru",
    "entities": {
        "UKR": {"name": "Украина", "kind": "country", "aliases": ["Украина", "Kyiv", "ВСУ"]},
        "PRK": {"name": "North Korea", "kind": "country", "aliases": ["North Korea"]},
    },
    "signals": {
        "raid": {"match": {"any": ["прорыв", "прорвались"]}, "capture": {"side": {"entities": ["UKR"]}}},
    },
    "detections": [
        {"id": "raid", "title": "Прорыв{side_suffix}", "group_by": ["side"], "pattern": {"any": "raid"}},
    ],
}


def _messages(*packs: dict[str, object]) -> list[str]:
    compiled = compile_packs([RulePack.model_validate(p) for p in packs])
    return [w.message for w in compiled.warnings if "is also defined in pack" in w.message]


def test_a_shared_id_with_another_name_and_aliases_is_said() -> None:
    got = _messages(FIRST, SECOND)
    assert len(got) == 2, got  # UKR's name and aliases; PRK is the same in both: nothing to say
    name, aliases = got
    assert "entity UKR is also defined in pack 'first-pack', loaded before this one, as 'Ukraine'" in name
    assert "this pack's detections show 'Украина'" in name
    assert "'first-pack' adds 'Ukraine' to this pack's signals" in aliases
    assert "this pack adds 'Украина', 'ВСУ' to the signals of 'first-pack'" in aliases


def test_the_same_entity_in_both_packs_is_not_said() -> None:
    assert _messages(FIRST, {**FIRST, "name": "copy", "signals": {}, "detections": []}) == []


def test_the_loaders_log_it_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    base = tmp_path
    (base / "a.yaml").write_text(yaml.safe_dump(FIRST, allow_unicode=True), encoding="utf-8")
    (base / "b.yaml").write_text(yaml.safe_dump(SECOND, allow_unicode=True), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        load_rules([str(base / "a.yaml"), str(base / "b.yaml")])
    assert any("entity UKR is also defined in pack 'first-pack'" in r.getMessage() for r in caplog.records)


def test_a_packs_titles_show_its_own_name_for_a_shared_entity() -> None:
    compiled = compile_packs([RulePack.model_validate(p) for p in (FIRST, SECOND)])
    tl = Timeline(Engine(compiled))
    fired = tl.feed(doc("ВСУ прорвались к селу."))
    assert [d.title for d in fired] == ["Прорыв (Украина)"]
    assert compiled.entity_names["UKR"] == "Ukraine"  # everywhere else, the first pack's


@pytest.mark.parametrize(
    "title",
    [
        "Северокорейские военные прибыли в Россию на годовщину Курской битвы",
        "Северокорейские военные прибыли в Россию к памятнику героям Курской дуги",
    ],
)
def test_the_bundled_pack_does_not_read_the_battle_of_kursk_as_the_region(title: str) -> None:
    tl = Timeline(engine_for("builtin:dprk_russia"))
    fired = tl.feed(doc("", title=title))
    assert [d.title for d in fired] == ["North Korean troops reported in Russia"]


def test_the_bundled_pack_still_reads_the_region_in_russian() -> None:
    tl = Timeline(engine_for("builtin:dprk_russia"))
    fired = tl.feed(doc("", title="Северокорейские военные прибыли в курское приграничье России"))
    assert [d.title for d in fired] == ["North Korean troops reported in Russia (Kursk)"]
