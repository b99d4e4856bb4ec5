"""`rules check` and loading for the v2 language: title placeholders, cue warnings, packs that share
entities, JSON packs, inline examples that assert severity and confidence, and the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack, rule_pack_json_schema
from watchfloor.stream_processors.examples import run_examples
from watchfloor.stream_processors.rulefile import RuleLoadError, example_problems, load_rules, warning_problems

PACK_HEAD = """version: 2
name: t
entities:
  ALPHA: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closed:
    match: {all: [closed, border]}
    capture: {country: {entities: [ALPHA]}}
"""


def _write(tmp_path: Path, text: str, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_unknown_title_placeholder_is_an_error_at_its_place(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        PACK_HEAD
        + """detections:
  - id: closed
    title: "{country} closed the border in {region}"
    pattern: {any: closed}
    group_by: [country]
""",
    )
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    (problem,) = e.value.problems
    assert (problem.line, problem.col) == (11, 12)
    assert "unknown placeholder {region}" in problem.message and "{country}" in problem.message


@pytest.mark.parametrize(
    "title",
    ["{country} closed", "{country_id}: closed{place_suffix}", "{country_suffix}", "Plain {{braces}}"],
)
def test_known_placeholders_pass(tmp_path: Path, title: str) -> None:
    body = f'detections:\n  - id: c\n    title: "{title}"\n    pattern: {{any: closed}}\n    group_by: [country]\n'
    load_rules([_write(tmp_path, PACK_HEAD + body)])


def test_cue_warnings_have_places_and_do_not_fail(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        PACK_HEAD.replace(
            "signals:",
            "modality:\n  hedged: [reportedly]\n  negated: [reportedly, closed border]\n  neutral: [not yet]\n"
            "  future: [not yet]\nsignals:",
        ).replace("match: {all: [closed, border]}", 'match: {any: ["closed border", shut]}'),
    )
    loaded, compiled = load_rules([path])
    got = [(w.line, w.message.split(":")[0]) for w in warning_problems(loaded, compiled)]
    assert got == [
        (6, "warning"),  # reportedly: hedged and negated
        (7, "warning"),  # "closed border" is the signal's own phrase
        (9, "warning"),  # "not yet": neutral cancels it
    ], [str(w) for w in warning_problems(loaded, compiled)]


def test_the_program_ends_at_once_with_all_its_output_and_exit_code(tmp_path: Path) -> None:
    """`watchfloor rules check` as its own process ends without freeing the compiled rules (os._exit, see
    cli._common.end_process): its lines still all arrive through a pipe, with exit code 0 (warnings) or 1."""
    import subprocess
    import sys

    warned = _write(
        tmp_path,
        PACK_HEAD.replace("signals:", "modality:\n  hedged: [reportedly]\n  negated: [reportedly]\nsignals:")
        + "detections:\n  - {id: c, title: closed, pattern: {any: closed}}\n",
        "warned.yaml",
    )
    broken = _write(
        tmp_path, PACK_HEAD + "detections:\n  - {id: c, title: closed, pattern: {any: nothing}}\n", "b.yaml"
    )
    for path, code, lines in (
        (warned, 0, [f"{warned}:6:12: warning:", "ok: 1 pack, 1 entity, 1 signal, 1 detection"]),
        (broken, 1, [f"{broken}:10:43: unknown signal 'nothing'"]),
    ):
        got = subprocess.run(
            [sys.executable, "-m", "watchfloor", "rules", "check", path], capture_output=True, text=True, timeout=120
        )
        assert got.returncode == code, got.stderr
        out = got.stdout.strip().splitlines()
        assert len(out) == len(lines) and all(o.startswith(x) for o, x in zip(out, lines, strict=True)), out


def test_packs_compile_together_once_and_share_entities(tmp_path: Path) -> None:
    a = _write(tmp_path, "version: 2\nname: a\nentities:\n  BETA: {name: Betastan, aliases: [Betastan]}\n", "a.yaml")
    b = _write(
        tmp_path,
        "version: 2\nname: b\nsignals:\n  s: {match: {all: ['@BETA', talks]}}\n"
        "detections:\n  - {id: s, title: talks, pattern: {any: s}}\n",
        "b.yaml",
    )
    _loaded, compiled = load_rules([a, b])
    assert set(compiled.signals) == {"s"}
    # An error in the second file is reported in the second file.
    bad = _write(tmp_path, "version: 2\nname: c\nsignals:\n  t: {match: '@NOPE'}\n", "c.yaml")
    with pytest.raises(RuleLoadError) as e:
        load_rules([a, bad])
    assert e.value.problems[0].file == bad and e.value.problems[0].line == 4


def test_a_pack_written_as_json_loads(tmp_path: Path) -> None:
    data = {"version": 2, "name": "j", "signals": {"s": {"match": "talks"}}, "detections": []}
    _loaded, compiled = load_rules([_write(tmp_path, json.dumps(data), "j.yaml")])
    assert set(compiled.signals) == {"s"}


def test_examples_assert_severity_and_confidence() -> None:
    loaded, compiled = load_rules(["builtin:dprk_russia"])
    results = {(r.detection, r.name): r for r in run_examples([lp.pack for lp in loaded], compiled)}
    assert all(r.passed for r in results.values()), [r.message for r in results.values() if not r.passed]
    assert ("troop-engagement", "one outlet alone never reaches high") in results
    # A wrong expectation fails with what did fire.
    pack = loaded[0].pack
    det = next(d for d in pack.detections if d.id == "troop-engagement")
    wrong = det.examples[0].model_copy(update={"severity": "critical"})
    pack2 = pack.model_copy(update={"detections": [det.model_copy(update={"examples": [wrong]})]})
    (r,) = run_examples([pack2], compiled)
    assert not r.passed and "severity critical" in r.message and "(medium, unconfirmed)" in r.message


def test_version_1_and_2_in_the_schema() -> None:
    schema = rule_pack_json_schema()
    props = schema["properties"]
    assert props["version"]["enum"] == [1, 2] or {"const": 1} in props["version"].get("anyOf", [])
    assert "language" in props and "morphology" in props
    example = schema["$defs"]["Example"]["properties"]
    assert {"severity", "confidence", "group"} <= set(example)
    lexicon = schema["$defs"]["ModalityLexicon"]
    assert "ADDED to the built-in" in lexicon["description"]
    assert {"after", "neutral", "scope_after"} <= set(lexicon["properties"])
    RulePack.model_validate({"version": 1, "name": "old"})


def test_migrate_keeps_a_version_1_packs_signals(tmp_path: Path) -> None:
    from watchfloor.schemas.inputs import parse_document
    from watchfloor.stream_processors.engine import Engine
    from watchfloor.stream_processors.rulefile import migrate_text

    repo = Path(__file__).resolve().parents[2]
    old = repo / "tests" / "data" / "rules" / "world_news.yaml"
    new = _write(tmp_path, migrate_text(old.read_text(encoding="utf-8")), "new.yaml")
    assert "version: 2" in Path(new).read_text() and "morphology: exact" in Path(new).read_text()
    assert "#" in Path(new).read_text()  # comments kept
    samples = repo / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
    docs = [parse_document(json.loads(line)) for line in samples.read_text().splitlines() if line.strip()]
    docs += [
        parse_document({"type": "news.article", "published_at": "2024-01-01T00:00:00+00:00", "source": "W", "title": t})
        for t in ("Troops closes the border", "Parliament votes to ratify a treaty", "Strikes spread in ports")
    ]
    a, b = Engine(load_rules([str(old)])[1]), Engine(load_rules([new])[1])
    for d in docs:
        assert [s.model_dump() for s in a.extract(d)] == [s.model_dump() for s in b.extract(d)]
    assert migrate_text(Path(new).read_text()) == Path(new).read_text()  # version 2: unchanged


def test_docs_russian_example_pack_is_the_file_and_passes() -> None:
    import re

    repo = Path(__file__).resolve().parents[2]
    doc = (repo / "docs" / "rules.md").read_text(encoding="utf-8")
    block = re.search(r"## A Russian pack.*?```yaml\n(.*?)```", doc, re.S)
    assert block is not None
    path = repo / "docs" / "examples" / "dprk_russia_ru.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.split("\n", 1)[1] == block.group(1)
    loaded, compiled = load_rules([str(path)])
    results = run_examples([lp.pack for lp in loaded], compiled)
    assert results and all(r.passed for r in results), [r.message for r in results if not r.passed]


def test_fast_yaml_reads_a_pack_as_ruamel_does() -> None:
    """Packs are read with libyaml and YAML 1.2's core schema (speed); ruamel's reading is the reference."""
    import io
    import math

    from ruamel.yaml import YAML

    from watchfloor.stream_processors.yamlfile import load_data

    repo = Path(__file__).resolve().parents[2]
    texts = [
        p.read_text(encoding="utf-8")
        for d in ("rules", "tests/data/rules", "docs/examples")
        for p in sorted((repo / d).glob("*.yaml"))
    ]
    texts.append(
        "a: [no, yes, on, off, y, n, True, false, ~, null, '', 012, 0o12, 0x1f, 1e3, -1.5, .inf, -.INF, .nan,\n"
        "    2024-01-01, 1_000, +5, 0b101, '1:20', 1.0e+3, 2024-1-5, 0.5, 7e, -0, 00, 1., -0x1F, 3.14_15]\n"
        "b: {x: 1, 'y': 'n', <<: {m: 1}}\nc: |\n  multi\n  line\ne: 2024-10-24 10:00:00\nf: 2024-10-24T10:00:00+03:00\n"
        "g: 2024-10-24T10:00:00Z\nh:\n"
    )

    def same(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x):
            return math.isnan(y)
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
        return type(x) is type(y) and x == y

    for text in texts:
        assert same(YAML(typ="safe", pure=False).load(io.StringIO(text)), load_data(text)), text[:80]


ABSENCE_PACK = """\
version: 2
name: truce
language: en
signals:
  agreed: {match: {all: [{any: [accepted, agreed]}, {any: [truce, ceasefire]}]}}
  fighting: {match: {any: [airstrike]}}
detections:
  - id: holding
    title: Truce holding
    pattern: {absence: {first: agreed, then_not: fighting}}
    within: 1d
    examples:
      - name: one report
        documents:
          - {type: news.article, published_at: "2023-11-22T10:00:00+00:00", source: W, title: Rebels accepted the truce}
"""


def test_an_absence_example_that_cannot_close_says_why(tmp_path: Path) -> None:
    # Outside audit: an example of one report never closes its window (event time is the newest report's minus
    # the lateness), and the failure said only "it did not".
    loaded, compiled = load_rules([_write(tmp_path, ABSENCE_PACK)])
    (r,) = run_examples([lp.pack for lp in loaded], compiled)
    assert not r.passed and "give the example a later document" in r.message and "(1d)" in r.message


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("  s1: {match: {any: [truce]}, near: 5d}", "near: Input should be a valid integer"),
        ("  s1: {match: {any: [truce]}, near: 5d}", "(got '5d')"),
    ],
)
def test_a_type_error_names_its_field_and_what_was_given(tmp_path: Path, line: str, says: str) -> None:
    # Outside audit: pydantic's own messages ("Input should be a valid integer…") named no field.
    text = f"version: 2\nname: p\nsignals:\n{line}\ndetections:\n  - {{id: d1, title: t, pattern: {{any: s1}}}}\n"
    with pytest.raises(RuleLoadError) as e:
        load_rules([_write(tmp_path, text)])
    assert any(says in p.message and p.line == 4 for p in e.value.problems), [p.message for p in e.value.problems]


def test_inline_examples_that_could_never_pass_are_errors_at_their_place(tmp_path: Path) -> None:
    # Outside audit: a typo'd group key and an example document that is not valid input passed `rules check`,
    # and failed only later under `rules test`, without a place.
    text = """\
version: 2
name: p
entities:
  HAM: {name: Hamas, kind: organization, aliases: [Hamas]}
signals:
  s1: {match: {any: [truce]}, capture: {party: {entities: [HAM]}}}
detections:
  - id: d1
    title: t
    pattern: {any: s1}
    group_by: [party]
    examples:
      - group: {partyy: HAM}
        documents: [{type: news.article, published_at: "2024-01-01T00:00:00Z", source: A, title: Hamas truce}]
      - documents:
          - {type: article, published_at: "2024-01-01T00:00:00Z", source: A, title: Hamas truce}
"""
    path = _write(tmp_path, text)
    loaded, _compiled = load_rules([path])  # examples change no detection: the pack still loads and runs
    problems = example_problems(loaded)
    got = {(p.line, p.message.split(":")[0]) for p in problems}
    assert (13, "group key 'partyy'") in got
    bad_doc = [p for p in problems if p.message.startswith("example document:")]
    assert [p.line for p in bad_doc] == [16] and "type" in bad_doc[0].message
    # ... and `rules check` refuses it (exit 1), each at its place.
    res = CliRunner().invoke(app, ["rules", "check", path])
    assert res.exit_code == 1 and f"{path}:13:" in res.output and f"{path}:16:" in res.output, res.output


def test_an_example_document_dated_a_day_that_cannot_be_says_the_day(tmp_path: Path) -> None:
    # Trial 35, L2: "2024-02-30T12:00:00+03:00" was "not an ISO-8601 timestamp"; the form is right, the day is not.
    text = """\
version: 2
name: p
signals:
  s1: {match: {any: [truce]}}
detections:
  - id: d1
    title: t
    pattern: {any: s1}
    examples:
      - documents: [{type: news.article, published_at: "2024-02-30T12:00:00+03:00", source: A, title: A truce}]
"""
    path = _write(tmp_path, text)
    res = CliRunner().invoke(app, ["rules", "check", path], env={"COLUMNS": "400"})
    assert res.exit_code == 1
    assert res.output == (
        f"{path}:10:21: example document: field 'published_at': not a date: 2024-02-30 has no such day "
        "(February 2024 has 29 days): '2024-02-30T12:00:00+03:00'\n"
    )


def test_a_missing_rule_file_names_no_place_in_it() -> None:
    # Outside audit: "nonexist.yaml:0:0: no such rule file or directory".
    with pytest.raises(RuleLoadError) as e:
        load_rules(["no/such/pack.yaml"])
    assert [str(p) for p in e.value.problems] == ["no/such/pack.yaml: no such rule file or directory"]


def test_a_duplicate_key_is_named_without_its_values(tmp_path: Path) -> None:
    # Outside audit: 'found duplicate key "s1" with value "{}" (original value: "{}")' for mapping values.
    text = "version: 2\nname: d\nsignals:\n  s1: {match: {any: [a]}}\n  s1: {match: {any: [b]}}\ndetections: []\n"
    with pytest.raises(RuleLoadError) as e:
        load_rules([_write(tmp_path, text)])
    [p] = e.value.problems
    assert (p.line, p.col) == (5, 3) and p.message.startswith('duplicate key "s1": a key may appear once')


@pytest.mark.parametrize("phrase", ["*truce", "tru*ce", "peace *talks"])
def test_a_star_that_ends_no_word_is_an_error_at_its_place(tmp_path: Path, phrase: str) -> None:
    # "*truce" was read as "truce", silently (audit 4, F8): a '*' only ever ends a word.
    path = _write(
        tmp_path,
        PACK_HEAD.replace("[closed, border]", f'[closed, "{phrase}"]')
        + "detections:\n  - {id: closed, title: closed, severity: low, pattern: {any: closed}}\n",
    )
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    (problem,) = e.value.problems
    assert problem.line == 7 and "'*' may only end a word" in problem.message and phrase in problem.message


def test_a_star_that_ends_a_word_still_loads(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        PACK_HEAD.replace("[closed, border]", '[closed, "Северн* Коре*", "ratif*"]')
        + "detections:\n  - {id: closed, title: closed, severity: low, pattern: {any: closed}}\n",
    )
    load_rules([path])


def test_a_union_typo_is_one_message_with_every_choice_and_a_key_typo_gets_a_suggestion(tmp_path: Path) -> None:
    # audit 4, F8: `modality: asertted` also printed "any: Input should be a valid list" (another branch of the
    # union), and its message left out 'any' and lists, which work; `hedge:` got no "did you mean".
    path = _write(
        tmp_path,
        PACK_HEAD
        + """modality:
  hedge: [reportedly]
detections:
  - id: closed
    title: closed
    severity: low
    pattern: {any: {signal: closed, modality: asertted}}
""",
    )
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    key, value = e.value.problems
    assert (key.line, key.message) == (10, "unknown key 'hedge' (did you mean 'hedged'?)")
    assert value.line == 15 and value.message.startswith("modality: Input should be one of 'asserted'"), value
    assert "'negated', 'recap', 'any', or a list of them (got 'asertted')" in value.message, value


def test_yaml_two_readers_read_otherwise_is_a_syntax_error_at_its_place_not_a_traceback(tmp_path: Path) -> None:
    # Outside operator audit F6: `entities: [a:b]` loads (a mapping in a flow sequence) but the composer that places
    # problems stops at the ':': `rules check` and `run` printed a ScannerError traceback.
    path = _write(tmp_path, "version: 2\nentities: [a:b]\n")
    with pytest.raises(RuleLoadError) as got:
        load_rules([path])
    assert str(got.value).startswith(f"{path}:2:13: YAML syntax: found unexpected ':'")
    res = CliRunner().invoke(app, ["rules", "check", path])
    assert res.exit_code == 1 and "Traceback" not in res.output and f"{path}:2:13: YAML syntax" in res.output


@pytest.mark.parametrize("version_line", ["version: 1   # the old format\n", ""])
def test_migrate_changes_only_the_version_lines_and_keeps_the_layout(version_line: str) -> None:
    # Outside trial 28, F8: `rules migrate --write` dumped the pack again: every block sequence re-indented, comment
    # columns moved, a review diff of the whole file for a two-line change.
    from watchfloor.stream_processors.rulefile import migrate_text

    body = (
        "name: ports   # harbour news\n"
        "signals:\n"
        "    - id: closed           # an offset of four\n"
        "      phrases: [closes the port, 'port closed']\n"
        "detections:\n"
        "    - id: port-closed\n"
        "      pattern: {signal: closed}\n"
        "      title: >-\n"
        "          Port closed\n"
        "      severity: medium\n"
    )
    got = migrate_text("# a pack of our own\n" + version_line + body)
    version = "version: 2   # the old format\n" if version_line else "version: 2\n"
    assert got == "# a pack of our own\n" + version + "morphology: exact\n" + body  # the rest byte for byte
