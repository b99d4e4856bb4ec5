"""`rules check` warns of a title that wraps a placeholder an alert may leave empty in parentheses (outside trial 68,
LOW-1: "Sanctions on Niger after coup ()"), and names the `_suffix` form; a group key, never empty, is not said."""

from __future__ import annotations

from pathlib import Path

from watchfloor.stream_processors.rulefile import load_rules, warning_problems

PACK = """version: 2
name: aid
entities:
  NER: {name: Niger, kind: country, aliases: [Niger]}
  EU: {name: European Union, kind: organization, aliases: [EU]}
signals:
  aid_cut:
    match: {any: ["cut off aid"]}
    capture:
      country: {entities: [NER]}
      donor: {entities: [EU]}
detections:
  - id: cut
    title: "Aid to {country} cut ({donor})"
    pattern: {any: aid_cut}
    group_by: [country]
  - id: cut-by-donor
    title: "Aid cut ({donor}) [{reports} reports] ({country})"
    pattern: {any: aid_cut}
    group_by: [country, donor]
"""


def test_a_capture_in_parentheses_that_may_be_empty_is_warned_of_with_its_suffix_form(tmp_path: Path) -> None:
    path = tmp_path / "aid.yaml"
    path.write_text(PACK, encoding="utf-8")
    loaded, compiled = load_rules([str(path)], every_problem=True)
    said = [str(p) for p in warning_problems(loaded, compiled) if '"()"' in str(p)]
    assert said == [
        f"{path}:14:12: warning: title 'Aid to {{country}} cut ({{donor}})': an alert whose 'donor' is empty is titled "
        'with "()"; {donor_suffix} gives " (the name)" or nothing: \'Aid to {country} cut{donor_suffix}\''
    ], said
