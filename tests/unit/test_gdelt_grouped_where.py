"""A `where` over the alerts of a detection grouped by a GDELT-coded capture (`{gdelt: actor1_country}`): its group
holds the code GDELT wrote, so an entity whose id is such a code is a value it carries (outside trial 85, F6: refused
as "carry 'actor' as no entity … never RUS", though the alerts carried actor=RUS and the same `where` on the signal
loaded). A value no coded field can hold is still refused, saying what the field holds. Packs written for this test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.gdelt_coded import ROWS
from watchfloor.cli import app
from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

PACK = """version: 2
name: coded-groups
language: en
entities:
  RUS: {{name: Russia, kind: country, aliases: [Russia]}}
  wagner: {{name: Wagner Group, kind: organization, aliases: [Wagner]}}
  "19": {{name: Fighting, kind: other, aliases: [armed fighting]}}
signals:
  coded_conflict:
    match: GDELT event
    gdelt: {{quad_classes: [4]}}
    capture:
      actor: {{gdelt: actor1_country}}
      code: {{gdelt: root_code}}
detections:
  - id: conflict-by-actor
    title: "Material conflict by {{actor}}"
    pattern: {{any: coded_conflict}}
    group_by: [actor, code]
    realert: 1d
  - id: escalated
    title: "Conflict seen again"
    pattern: {{any: {{detection: conflict-by-actor, where: {{{where}}}}}}}
"""


def _load(tmp_path: Path, where: str) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(PACK.format(where=where), encoding="utf-8")
    load_rules([str(path)])


@pytest.mark.parametrize("where", ["actor: RUS", "actor: Russia", "code: '19'", "actor: RUS, code: '19'"])
def test_a_where_on_a_gdelt_coded_group_names_an_entity_whose_id_is_the_code(tmp_path: Path, where: str) -> None:
    _load(tmp_path, where)


def test_a_value_a_gdelt_coded_group_never_holds_is_refused_saying_what_it_holds(tmp_path: Path) -> None:
    with pytest.raises(RuleLoadError) as e:
        _load(tmp_path, "actor: wagner, code: RUS")
    assert [p.message for p in e.value.problems] == [
        "where actor: the alerts of detection 'conflict-by-actor' carry 'actor' as the GDELT event's actor1_country "
        "(a CAMEO country code: three capital letters, as RUS), never wagner: this reference never matches",
        "where code: the alerts of detection 'conflict-by-actor' carry 'code' as the GDELT event's root_code (a CAMEO "
        "root code: two digits, 01 to 20), never RUS: this reference never matches",
    ]


def test_a_signal_reference_refuses_the_same_values_as_a_detection_grouped_by_its_capture(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    text = PACK.format(where="actor: RUS").replace(
        "detection: conflict-by-actor, where: {actor: RUS}", "signal: coded_conflict, where: {actor: wagner}"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleLoadError) as e:
        load_rules([str(path)])
    assert [p.message for p in e.value.problems] == [
        "where actor: signal 'coded_conflict' captures the GDELT event's actor1_country (a CAMEO country code: three "
        "capital letters, as RUS) as 'actor', never wagner: this reference never matches"
    ]
    path.write_text(text.replace("{actor: wagner}", "{actor: RUS}"), encoding="utf-8")
    load_rules([str(path)])


def test_the_where_keeps_the_alerts_of_that_code_only(tmp_path: Path) -> None:
    """End to end: over our coded rows, the detection over detections fires on Russia's conflict alert alone."""
    path = tmp_path / "pack.yaml"
    path.write_text(PACK.format(where="actor: RUS"), encoding="utf-8")
    out = tmp_path / "result.json"
    res = CliRunner().invoke(app, ["backtest", str(ROWS), "--rules", str(path), "--json", str(out)])
    assert res.exit_code == 0, res.output
    fired = sorted((a["rule"], a["group"].get("actor", "")) for a in json.loads(out.read_text())["alerts"])
    # (USA's two rows have two root codes: two groups)
    assert fired == [("conflict-by-actor", "RUS"), *[("conflict-by-actor", "USA")] * 2, ("escalated", "")], fired


def test_rules_check_counts_the_packs_own_entities_not_the_code_names_a_capture_reads(tmp_path: Path) -> None:
    """Outside trial 85, F16: a GDELT capture of actor countries made `rules check` say "261 entities" (the CAMEO
    table's names, which titles read) for a pack that defines none; it counts the packs' own (3 here)."""
    path = tmp_path / "pack.yaml"
    path.write_text(PACK.format(where="actor: RUS"), encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert res.exit_code == 0 and "ok: 1 pack, 3 entities, 1 signal, 2 detections" in res.output, res.output
