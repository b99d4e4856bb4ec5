"""`rules check` warns where two items of one `all` hold phrases that one text meets with the same words, not only the
same phrase (outside trial 29, F6): a '*' prefix that covers the other's word (`offens*` and `offensive`), or, where
the pack matches word forms, words that share a form (`leaves` and `left`: both read "left"; `ratified` and `ratifies`
have the same forms and were warned already). The warning names both phrases and their items, and says why. Pack and
headlines written for these tests (invented countries)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import Signal
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules, warning_problems

from .engine_helpers import doc

runner = CliRunner()

PACK = """version: 2
name: covered
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  wildcard:
    match: {all: [{any: [offens*, strike]}, {any: [offensive, operation]}]}
  shared-form:
    match: {all: [{any: [leaves]}, {any: [left, quit]}]}
  stems:
    match: {all: [{any: [ratified, signed]}, {any: [ratifies]}]}
  two-words:
    match: {all: [{any: [military offens*]}, {any: [military offensive]}]}
  beside:
    match: {all: [{any: [launch*]}, {any: [troops]}], any: [launches]}
  apart:
    match: {all: [{any: [offens*]}, {any: [offence, defensive]}, {none: [offensive]}]}
  exact:
    morphology: exact
    match: {all: [{any: [leaves]}, {any: [left]}]}
detections:
  - {id: wildcard, title: t, pattern: {any: wildcard}}
"""


def _check(tmp_path: Path) -> tuple[str, int, list[str]]:
    path = tmp_path / "p.yaml"
    path.write_text(PACK, encoding="utf-8")
    res = runner.invoke(app, ["rules", "check", str(path)], env={"COLUMNS": "400"})
    return str(path), res.exit_code, res.output.splitlines()


def test_a_prefix_covering_a_phrase_of_another_item_is_warned_naming_both(tmp_path: Path) -> None:
    path, code, lines = _check(tmp_path)
    assert code == 0, lines  # warnings: the pack runs as written
    assert lines[0] == (
        f"{path}:7:52: warning: phrase 'offensive' (item 2) and 'offens*' in item 1 of this `all` can read the same "
        "word ('offens*' covers 'offensive'): items of `all` may be met by the same words, so one word 'offensive' "
        "satisfies both (keep such words in one item only, so that each item needs words of its own)"
    ), lines


def test_words_sharing_a_form_and_the_same_stems_are_warned(tmp_path: Path) -> None:
    path, _code, lines = _check(tmp_path)
    assert lines[1].startswith(
        f"{path}:9:43: warning: phrase 'left' (item 2) and 'leaves' in item 1 of this `all` can read the same word "
        "('left' is a form of 'leaves'): items of `all` may be met by the same words, so one word 'left' satisfies "
        "both"
    ), lines
    # The same forms ("ratified", "ratifies"): said as before (one phrase in another form).
    assert lines[2].startswith(f"{path}:11:53: warning: phrase 'ratifies' is also in item 1 of this `all`"), lines


def test_phrases_of_several_words_and_an_any_beside_the_all(tmp_path: Path) -> None:
    path, _code, lines = _check(tmp_path)
    assert lines[3].startswith(
        f"{path}:13:53: warning: phrase 'military offensive' (item 2) and 'military offens*' in item 1 of this `all` "
        "can read the same words ('offens*' covers 'offensive'): items of `all` may be met by the same words, so the "
        "words 'military offensive' alone satisfy both"
    ), lines
    assert lines[4].startswith(
        f"{path}:15:61: warning: phrase 'launches' (this condition's `any`) and 'launch*' in item 1 of this `all` can "
        "read the same word ('launch*' covers 'launches')"
    ), lines
    # 'apart': 'offence' and 'defensive' are not covered by 'offens*', and `none` meets nothing; 'exact': as written,
    # 'leaves' and 'left' share no word.
    assert len(lines) == 6 and lines[5].startswith("ok: "), lines


def test_one_word_still_satisfies_both_items_as_warned(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PACK, encoding="utf-8")
    loaded, compiled = load_rules([str(path)], every_problem=True)
    assert len(warning_problems(loaded, compiled)) == 5
    engine = Engine(compiled)
    _state, outs = engine.process_document(
        engine.initial_state(), doc("Alphaland troops regroup after the offensive near the border")
    )
    assert "wildcard" in [o.name for o in outs if isinstance(o, Signal)]
