"""`serve`'s rule refresh (cli.serve.ServedRules) on files on disk: a config that names a rule file that does not load
yet, then is fixed, is offered once fixed (review 25, M2); a config path that can no longer be read is said, and
serve goes on (review 25, L1); the line names what changed, not what `run` would say of it (review 25, L2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.cli.serve import ServedRules
from watchfloor.stream_processors.stores.memory import MemoryStore

PACK = """version: 2
name: missiles
language: en
entities:
  PRK: {name: North Korea, kind: country, aliases: [North Korea]}
signals:
  missile_fired:
    match: {all: [{any: [fires]}, {any: [missile]}]}
detections:
  - id: missile-fired
    title: "A missile was fired"
    severity: medium
    pattern: {any: missile_fired}
"""


def served(tmp_path: Path, rules: str) -> tuple[Path, ServedRules, AppContext]:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: memory://\nrules: {rules}\n", encoding="utf-8")
    context = AppContext(control=ControlLog(MemoryStore()), rules={})
    return cfg, ServedRules(cfg, [], SimpleNamespace(context=context)), context


def test_a_rule_file_the_config_names_is_offered_once_it_loads(tmp_path: Path) -> None:
    cfg, watch, context = served(tmp_path, "[]")
    pack = tmp_path / "m.yaml"
    pack.write_text(PACK.replace("severity: medium", "severity: urgent"), encoding="utf-8")
    cfg.write_text(f"store: memory://\nrules: ['{pack}']\n", encoding="utf-8")
    said = watch.look(10.0)
    assert said is not None and "do not load; the Slack app keeps its rules" in said, said
    assert watch.look(20.0) is None  # nothing changed since
    pack.write_text(PACK, encoding="utf-8")
    said = watch.look(30.0)
    assert said is not None and "now offers 1 rule; new: missile-fired" in said, said
    assert f"({pack})" in said and "not loaded" not in said, said
    assert set(context.rules) == {"missile-fired"}


def test_a_config_that_cannot_be_read_is_said_and_serve_goes_on(tmp_path: Path) -> None:
    cfg, watch, context = served(tmp_path, "[]")
    cfg.unlink()
    cfg.mkdir()  # (a config replaced by a directory: reading it raises IsADirectoryError)
    said = watch.look(10.0)
    assert said is not None and "keeps its rules" in said, said
    assert context.rules == {}


def test_a_command_reads_one_set_of_rules_while_they_are_replaced(tmp_path: Path) -> None:
    # Review 25, L4: the catalogue, the entity names and the aliases were replaced one after another, so a command at
    # that instant could read the new catalogue with the old names. A command reads `now()`: what it took stays whole.
    cfg, watch, context = served(tmp_path, "[]")
    before = context.now()
    pack = tmp_path / "m.yaml"
    pack.write_text(PACK, encoding="utf-8")
    cfg.write_text(f"store: memory://\nrules: ['{pack}']\n", encoding="utf-8")
    assert watch.look(10.0) is not None
    assert (before.rules, before.entity_names) == ({}, {})  # the command in flight: the old set, whole
    after = context.now()
    assert set(after.rules) == {"missile-fired"} and after.entity_names == {"PRK": "North Korea"}
