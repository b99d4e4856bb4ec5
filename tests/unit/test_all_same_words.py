"""The items of `all` may be met by the same words (outside trial 28, F6): a phrase listed in two items of one `all`
(in any of its word forms) is satisfied by one word, so "after military offensive" met a verb list and a noun
list that both held `offensive`. Matching stays as it is (packs rely on it); `rules check` warns at the later
phrase, naming the earlier, and exits 0. Pack and headlines written for these tests (invented countries)."""

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
name: offensives
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  launched:
    match:
      all:
        - any: [launch, begin, offensive]
        - any: [offensive, operation]
    near: 10
    mentions: {all: [A]}
  forms:
    match: {all: [{any: [launches, start]}, {any: [launch, attack]}]}
  apart:
    match: {any: [troops], all: [{any: [troops, army]}, {none: [troops]}, massed]}
  fine:
    match: {all: [{any: [launch, begin]}, {any: [offensive, operation]}], none: [offensive]}
detections:
  - {id: launched, title: t, pattern: {any: launched}}
"""


def _write(tmp_path: Path) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(PACK, encoding="utf-8")
    return str(path)


def test_rules_check_warns_at_a_phrase_listed_in_two_items_of_one_all(tmp_path: Path) -> None:
    path = _write(tmp_path)
    res = runner.invoke(app, ["rules", "check", path], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output  # a warning: the pack still runs as written
    lines = res.output.splitlines()
    assert lines[0] == (
        f"{path}:10:17: warning: phrase 'offensive' is also in item 1 of this `all`: items of `all` may be met by the "
        "same words, so one word 'offensive' satisfies both (keep it in one item only, so that each item needs words "
        "of its own)"
    ), res.output
    # The same word in another form ("launch" and "launches" have the same forms): said, with the form listed first.
    assert lines[1].startswith(
        f"{path}:14:52: warning: phrase 'launch' is also in item 1 of this `all` ('launches': the same word in another "
        "form)"
    ), res.output
    # A mapping's `any` beside its `all` must hold too: one more item. Under `none` a phrase meets nothing.
    assert lines[2].startswith(f"{path}:16:19: warning: phrase 'troops' is also in item 1 of this `all`"), res.output
    # 'fine' (none: offensive) is no phrase in two items; its `none` reads one of its own phrases, which is said
    # (outside trial 56, M3): a sentence with "offensive" is excluded, so only "operation" can meet item 2
    assert lines[3] == (
        f"{path}:18:82: warning: none: 'offensive' reads the same words as the match's own phrase 'offensive': "
        "wherever 'offensive' matches, the signal is excluded"
    ), res.output
    assert len(lines) == 5 and lines[4].startswith("ok: "), res.output


def test_one_word_still_satisfies_both_items_as_documented(tmp_path: Path) -> None:
    loaded, compiled = load_rules([_write(tmp_path)], every_problem=True)
    assert len(warning_problems(loaded, compiled)) == 4  # (the three above, and fine's `none`)
    engine = Engine(compiled)
    _state, outs = engine.process_document(
        engine.initial_state(), doc("Refugees pour out of the valley after military offensive by Alphaland")
    )
    assert [o.name for o in outs if isinstance(o, Signal)] == ["launched"]
