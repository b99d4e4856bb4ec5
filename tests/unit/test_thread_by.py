"""`thread_by` (outside trial 68, G2 and MED-2): one story per country, realert per imposer. Loading and `rules check`
refuse a key that is not a group_by key, at its place; the engine is unchanged by it (same alerts, same ids); the
dispatcher's intake threads the groups that share the thread_by values as one story, each group's first alert a new
alert of that story, a follow-up of a group the update it always was."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import rule_pack_json_schema
from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

NIGER_HEAD = """version: 2
name: sahel
entities:
  NER: {name: Niger, kind: country, aliases: [Niger, Niamey]}
  FRA: {name: France, kind: country, aliases: [France, Paris]}
  EU: {name: European Union, kind: organization, aliases: [EU, European Union]}
  USA: {name: United States, kind: country, aliases: [United States, Washington]}
signals:
  sanctions:
    match: {all: [sanctions, "@NER"]}
    capture:
      country: {entities: [NER]}
      imposer: {entities: [FRA, EU, USA]}
detections:
  - id: niger-sanctions
    title: "{imposer} sanctions on {country}"
    pattern: {any: sanctions}
    group_by: [country, imposer]
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sahel.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_thread_by_loads_and_reaches_the_catalog(tmp_path: Path) -> None:
    from watchfloor.wiring import build_catalog

    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [country]\n    realert: 3d\n")
    compiled = load_rules([path])[1]
    catalog = build_catalog(compiled)
    assert catalog.thread_by == {"niger-sanctions": ("country",)}
    france = {"country": "NER", "imposer": "FRA"}
    eu = {"country": "NER", "imposer": "EU"}
    assert catalog.ledger_thread("niger-sanctions", france) == catalog.ledger_thread("niger-sanctions", eu)
    # a rule without it keeps the thread key of its rule and group, as before
    from watchfloor.alerts.notice import thread_key

    assert catalog.ledger_thread("other", france) == thread_key("other", france)


def test_thread_by_names_a_group_by_key_at_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [contry]\n")
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    said = str(e.value)
    assert f"{path}:19:17" in said, said
    assert "thread_by 'contry' is not a group_by key of this detection (did you mean 'country'?)" in said
    assert "it groups by country, imposer" in said


def test_rules_check_refuses_a_thread_by_key_not_in_group_by(tmp_path: Path) -> None:
    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [country, place]\n")
    got = CliRunner().invoke(app, ["rules", "check", path])
    assert got.exit_code != 0
    assert "thread_by 'place' is not a group_by key" in got.output, got.output
    assert ":19:26:" in got.output


def test_thread_by_twice_and_unknown_option_spelling(tmp_path: Path) -> None:
    path = _write(tmp_path, NIGER_HEAD + "    thread_by: [country, country]\n")
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    assert "thread_by 'country' is named twice" in str(e.value)
    path = _write(tmp_path, NIGER_HEAD + "    thread_bye: [country]\n")
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    assert "did you mean thread_by" in str(e.value) or "did you mean 'thread_by'" in str(e.value), str(e.value)


def test_the_rule_pack_schema_carries_thread_by() -> None:
    props = rule_pack_json_schema()["$defs"]["DetectionDef"]["properties"]
    assert "thread_by" in props and "group_by" in props["thread_by"]["description"]
