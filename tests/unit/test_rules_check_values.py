"""`rules check` on the values a pack names: a reference's `where` and an example's `group` read an entity's id,
display name or alias (any case) as its id, and refuse anything else at its place with the closest spellings;
and it says everything it finds in one run (all of a title's unknown placeholders, a bad phrase once, the
examples' problems and the warnings beside the compile errors), with `rules test` failures placed too."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.examples import run_examples
from watchfloor.stream_processors.rulefile import RuleLoadError, example_problems, load_rules, warning_problems

DOC = (
    '{type: news.article, published_at: "2024-03-02T08:00:00+00:00", source: Wire, '
    'title: "Troops of Borduria seize the dam"}'
)

HEAD = """version: 2
name: dams
entities:
  BRD: {name: Borduria, kind: country, aliases: [Borduria, Bordurian army]}
  SYL: {name: Syldavia, kind: country, aliases: [Syldavia]}
  UNN: {name: United Nations, kind: organization, aliases: [United Nations, UN]}
signals:
  seized:
    match: seize the dam
    capture: {country: {entities: [BRD, SYL]}, body: {kind: organization}}
detections:
  - {id: dam-seized, title: "{country} seized a dam", pattern: {any: seized}, group_by: [country]}
  - {id: by-source, title: "a dam", pattern: {any: seized}, group_by: [source]}
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("value", ["BRD", "brd", "Borduria", "BORDURIA", "bordurian  army"])
def test_a_where_value_may_be_an_id_name_or_alias_and_means_the_id(tmp_path: Path, value: str) -> None:
    path = _write(
        tmp_path,
        HEAD
        + f"""  - id: over-alert
    title: t
    pattern: {{any: {{detection: dam-seized, where: {{country: {value}}}}}}}
    examples: [{{name: alert, documents: [{DOC}]}}]
  - id: over-signal
    title: t
    pattern: {{any: {{signal: seized, where: {{country: "{value}"}}}}}}
    examples: [{{name: signal, documents: [{DOC}]}}]
""",
    )
    loaded, compiled = load_rules([path])
    refs = {d.id: d.refs[0] for d in compiled.detections}
    assert refs["over-alert"].where == refs["over-signal"].where == (("country", "BRD"),)
    results = run_examples([lp.pack for lp in loaded], compiled)
    assert [(r.name, r.passed) for r in results] == [("alert", True), ("signal", True)], results


def test_a_where_value_that_names_no_entity_is_an_error_at_its_place_with_a_hint(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + """  - {id: typo-alert, title: t, pattern: {any: {detection: dam-seized, where: {country: BRR}}}}
  - {id: typo-signal, title: t, pattern: {any: {signal: seized, where: {country: Bordria}}}}
""",
    )
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    got = [(p.line, p.col, p.message) for p in e.value.problems]
    assert [(line, col) for line, col, _m in got] == [(14, 88), (15, 82)], got
    assert "where country: 'BRR' names no entity of the rule packs" in got[0][2]
    assert "(did you mean BRD?)" in got[0][2]
    assert "'Bordria'" in got[1][2] and "did you mean BRD, Borduria?" in got[1][2]


def test_a_where_value_a_capture_never_takes_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + """  - {id: not-a-candidate, title: t, pattern: {any: {signal: seized, where: {country: UN}}}}
  - {id: not-of-its-kind, title: t, pattern: {any: {signal: seized, where: {body: Syldavia}}}}
  - {id: fine, title: t, pattern: {any: {signal: seized, where: {body: united nations}}}}
""",
    )
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    got = [(p.line, p.message) for p in e.value.problems]
    assert got == [
        (
            14,
            "where country: signal 'seized' captures one of BRD, SYL as 'country', never UNN: this reference never "
            "matches",
        ),
        (
            15,
            "where body: signal 'seized' captures an entity of kind 'organization' as 'body', never SYL: this "
            "reference never matches",
        ),
    ]


def test_a_spelling_two_entities_share_must_be_written_as_an_id(tmp_path: Path) -> None:
    text = HEAD.replace("aliases: [Syldavia]", "aliases: [Syldavia, Bordurian army]")
    path = _write(
        tmp_path,
        text + "  - {id: x, title: t, pattern: {any: {detection: dam-seized, where: {country: Bordurian army}}}}\n",
    )
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    (problem,) = e.value.problems
    assert "names more than one entity (BRD (Borduria), SYL (Syldavia)): write the id" in problem.message


def test_a_where_on_source_is_a_source_name_left_as_written(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + f"""  - id: from-wire
    title: t
    pattern: {{any: {{detection: by-source, where: {{source: Wire}}}}}}
    examples: [{{name: wire, documents: [{DOC}]}}]
""",
    )
    loaded, compiled = load_rules([path])
    (ref,) = next(d for d in compiled.detections if d.id == "from-wire").refs
    assert ref.where == (("source", "Wire"),)
    assert [r.passed for r in run_examples([lp.pack for lp in loaded], compiled)] == [True]


def test_an_example_group_reads_names_and_refuses_what_names_no_entity(tmp_path: Path) -> None:
    text = HEAD.replace(
        "group_by: [country]}",
        f"group_by: [country],\n     examples: [{{name: by-name, group: {{country: borduria}}, documents: [{DOC}]}},\n"
        f"                {{name: typo, group: {{country: BDR}}, documents: [{DOC}]}}]}}",
    )
    path = _write(tmp_path, text)
    loaded, compiled = load_rules([path])
    (problem,) = example_problems(loaded)
    assert (problem.line, problem.col) == (14, 47), str(problem)
    assert "group country: 'BDR' names no entity of the rule packs" in problem.message
    assert "did you mean BRD?" in problem.message
    results = {r.name: r.passed for r in run_examples([lp.pack for lp in loaded], compiled)}
    assert results == {"by-name": True, "typo": False}


def test_every_unknown_placeholder_of_a_title_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD.replace('title: "{country} seized a dam"', 'title: "{contry} seized {dam}"'))
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    (problem,) = e.value.problems
    assert "unknown placeholders {contry}, {dam} (this detection can use" in problem.message


def test_a_bad_star_phrase_is_said_once(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD.replace("match: seize the dam", "match: seize*the dam"))
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    assert [p.message.split(":")[0] for p in e.value.problems] == ["phrase 'seize*the dam'"]


def test_check_says_compile_errors_example_problems_and_warnings_in_one_run(tmp_path: Path) -> None:
    text = HEAD.replace("name: dams", "name: dams\nlanguage: eng").replace(
        "group_by: [source]}",
        f"group_by: [source]}}\n  - id: broken\n    title: t\n    pattern: {{any: sigx}}\n"
        f"  - id: fine\n    title: t\n    pattern: {{any: seized}}\n    group_by: [country]\n"
        f"    examples: [{{group: {{country: BDR}}, documents: [{DOC}]}}]",
    )
    path = _write(tmp_path, text)
    res = CliRunner().invoke(app, ["rules", "check", path])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert [line.split(": ", 1)[0].rsplit(":", 2)[-2] for line in lines] == ["3", "17", "22"], res.output
    assert "warning: language: 'eng'" in lines[0]
    assert "unknown signal 'sigx'" in lines[1]
    assert "group country: 'BDR'" in lines[2]


def test_a_failed_example_is_named_at_its_place(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + f"""  - id: quiet
    title: t
    pattern: {{any: seized}}
    examples:
      - {{name: passes, documents: [{DOC}]}}
      - {{name: fails, fires: false, documents: [{DOC}]}}
""",
    )
    res = CliRunner().invoke(app, ["rules", "test", path])
    assert res.exit_code == 1
    (failed,) = [line for line in res.output.splitlines() if "FAIL" in line]
    assert failed.startswith(f"{path}:19:9: FAIL quiet: fails — expected quiet not to fire"), res.output


def test_rules_test_says_no_example_ran_when_the_rules_do_not_load(tmp_path: Path) -> None:
    """A pack with a schema error ran no example, and the output had the error alone: that no example ran (the
    sound detections' too) was left to be noticed from missing PASS lines."""
    path = _write(
        tmp_path,
        HEAD
        + f"""  - id: quiet
    title: t
    pattern: {{any: seized, within: 3h}}
    examples:
      - {{name: passes, documents: [{DOC}]}}
""",
    )
    res = CliRunner().invoke(app, ["rules", "test", path], env={"COLUMNS": "400"})
    assert res.exit_code == 1
    assert res.output.splitlines() == [
        f"{path}:16:28: unknown key 'within' (`within` belongs to the detection itself, beside `pattern:`)",
        "no example run: the rules do not load (1 problem above); fix them and run again (`watchfloor rules check` "
        "says the same, with the examples' own problems)",
    ], res.output


def test_migrate_of_a_version_2_pack_prints_it_as_is_and_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD)
    res = CliRunner().invoke(app, ["rules", "migrate", path])
    assert res.exit_code == 0
    assert res.stdout == HEAD
    assert res.stderr == f"{path}: already version 2: nothing to migrate (printed as is)\n"


def test_a_version_1_pack_may_end_any_word_of_a_phrase_with_a_star(tmp_path: Path) -> None:
    """As docs/rules.md ("Version 1 packs") says: version 1 packs read phrases with version 2's syntax."""
    path = _write(
        tmp_path,
        'version: 1\nname: old\nsignals:\n  sent: {match: "troop* sent"}\n'
        "detections:\n  - id: sent\n    title: t\n    pattern: {any: sent}\n"
        "    examples:\n"
        '      - documents: [{type: news.article, published_at: "2024-03-02T08:00:00+00:00", source: Wire,\n'
        '                     title: "More troops sent to the border"}]\n',
    )
    loaded, compiled = load_rules([path])
    assert [r.passed for r in run_examples([lp.pack for lp in loaded], compiled)] == [True]


def _cue_warnings(tmp_path: Path, modality: str, language: str = "en") -> list[tuple[int, str]]:
    text = HEAD.replace("name: dams\n", f"name: dams\nlanguage: {language}\nmodality:\n{modality}")
    loaded, compiled = load_rules([_write(tmp_path, text)])
    return [(w.line, w.message) for w in warning_problems(loaded, compiled)]


def test_a_cue_a_stronger_built_in_cue_overrides_is_warned(tmp_path: Path) -> None:
    got = _cue_warnings(tmp_path, "  hedged: [will, perhaps]\n  after:\n    hedged: [will]\n")
    assert got == [
        (
            5,
            "warning: cue 'will' is also a built-in future cue (en: 'will'): the stronger class wins on the same "
            "words, so as hedged it never applies",
        )
    ]  # "will" after the words is no built-in cue: as an after-cue it applies


def test_a_cue_inside_a_stronger_built_in_phrase_is_warned(tmp_path: Path) -> None:
    """Outside trial 56, H2: `hedged: [threaten*]` (a threat as uncertain) was read future wherever the built-in
    "threatened to" / "threatens to" is written, and `rules check` said ok. It applies elsewhere ("threatened
    sanctions"), so the warning says where it is overridden, not that it never applies."""
    got = _cue_warnings(tmp_path, "  hedged: [threaten*, perhaps]\n")
    assert [line for line, _m in got] == [5], got
    assert got[0][1].startswith("warning: cue 'threaten*' is read as the built-in future cue (en: 'threat"), got
    assert (
        "wherever that is written (the stronger class wins on the same words): as hedged it applies only" in got[0][1]
    )


def test_a_cue_under_a_built_in_prefix_or_neutral_phrase_is_warned(tmp_path: Path) -> None:
    got = _cue_warnings(tmp_path, "  hedged: [отрицается]\n  future: [soon after]\n", language="[en, ru]")
    assert [line for line, _m in got] == [5, 6], got
    assert "is also a built-in negated cue (ru: 'отрица*')" in got[0][1]
    assert "is also a built-in neutral phrase (en: 'soon after'), which cancels a cue on its words" in got[1][1]


def test_a_cue_that_is_an_entity_alias_is_warned(tmp_path: Path) -> None:
    got = _cue_warnings(tmp_path, "  negated: [bordurian army, army]\n")
    assert got == [
        (
            5,
            "warning: cue 'bordurian army' is an alias of entity BRD: wherever it stands it names BRD, and inside a "
            "name a cue never applies",
        ),
        (  # "army" alone is no alias; it is a one-word cue that stopped reading "armies" (test_cue_form_warnings)
            5,
            "warning: cue 'army' matches only as written: 'armies' is not read (list them, end the word with *, or "
            "set `morphology: forms` under modality)",
        ),
    ]


def test_a_where_value_an_input_detection_never_groups_by_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + """  - {id: both, title: t, pattern: {all_of: [seized, {detection: dam-seized}]}, group_by: [country],
     within: 1d}
  - {id: never, title: t, pattern: {any: {detection: both, where: {country: UN}}}}
  - {id: may, title: t, pattern: {any: {detection: both, where: {country: Syldavia}}}}
""",
    )
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    (problem,) = e.value.problems
    assert (problem.line, problem.message) == (
        16,
        "where country: the alerts of detection 'both' carry 'country' as one of BRD, SYL (what its inputs capture), "
        "never UNN: this reference never matches",
    )
