"""Issue 12, items 5 and 8: inline examples that assert an alert's group, severity and confirmation (each
can fail), and the docs agree with the behaviour (custom cue lists are added to the built-in ones, `@ID`
works inside a phrase, `backtest --expect` is documented and its documented file works)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack, rule_pack_json_schema
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.examples import run_examples

from .engine_helpers import doc

REPO = Path(__file__).resolve().parents[2]


def _pack(example: dict[str, Any]) -> RulePack:
    """Two reports of a closing by Alphaland: from two outlets, so the alert is confirmed and high."""
    return RulePack.model_validate(
        {
            "version": 2,
            "name": "ex",
            "entities": {
                "ALPHA": {"name": "Alphaland", "kind": "country", "aliases": ["Alphaland"]},
                "BETA": {"name": "Betastan", "kind": "country", "aliases": ["Betastan"]},
            },
            "signals": {
                "closed": {
                    "match": {"all": ["closed", "border"]},
                    "capture": {"country": {"entities": ["ALPHA", "BETA"]}},
                }
            },
            "detections": [
                {
                    "id": "closed",
                    "title": "{country} closed its border",
                    "severity": "medium",
                    "pattern": {"any": "closed"},
                    "group_by": ["country"],
                    "corroborate": {"at_least": 2, "within": "1d", "severity": "high"},
                    "examples": [
                        {
                            **example,
                            "documents": [
                                {
                                    "type": "news.article",
                                    "published_at": f"2025-01-01T{h:02d}:00:00+00:00",
                                    "source": src,
                                    "title": title,
                                }
                                for h, src, title in (
                                    (8, "Wire A", "Alphaland closed the border on Monday"),
                                    (9, "Daily B", "Border closed: Alphaland shuts its crossings"),
                                )
                            ],
                        }
                    ],
                }
            ],
        }
    )


def _result(example: dict[str, Any]) -> tuple[bool, str]:
    pack = _pack(example)
    (r,) = run_examples([pack], compile_packs([pack]))
    return r.passed, r.message


@pytest.mark.parametrize(
    "example",
    [
        {},
        {"group": {"country": "ALPHA"}},
        {"severity": "high"},
        {"confidence": "confirmed"},
        {"group": {"country": "ALPHA"}, "severity": "high", "confidence": "confirmed"},
        {"fires": False, "group": {"country": "BETA"}},
        {"fires": False, "severity": "critical"},
    ],
)
def test_examples_that_hold_pass(example: dict[str, Any]) -> None:
    passed, message = _result(example)
    assert passed, message


@pytest.mark.parametrize(
    ("example", "said"),
    [
        ({"group": {"country": "BETA"}}, "group {'country': 'BETA'}"),
        ({"severity": "critical"}, "severity critical"),
        ({"severity": "high", "confidence": "unconfirmed"}, "severity high, unconfirmed"),
        ({"fires": False, "group": {"country": "ALPHA"}}, "not to fire with group"),
        ({"fires": False, "confidence": "confirmed"}, "not to fire with confirmed"),
    ],
)
def test_examples_that_do_not_hold_fail_and_say_what_fired(example: dict[str, Any], said: str) -> None:
    passed, message = _result(example)
    assert not passed
    assert said in message, message
    # What did fire is named: the first report's alert, then the second outlet's confirmation.
    assert "{'country': 'ALPHA'} (high, confirmed)" in message or "{'country': 'ALPHA'} (medium" in message, message


# --- item 8: the docs say what the code does ------------------------------------------------------------


def test_custom_cue_lists_are_added_to_the_built_in_ones_as_schema_and_docs_say() -> None:
    pack = RulePack.model_validate(
        {"version": 2, "name": "cues", "modality": {"hedged": ["purportedly"]}, "signals": {"s": {"match": "closed"}}}
    )
    engine = Engine(compile_packs([pack]))
    # The pack's own cue and a built-in one both apply.
    assert engine.extract(doc("The border was purportedly closed."))[0].modality == "hedged"
    assert engine.extract(doc("The border could be closed."))[0].modality == "hedged"
    described = rule_pack_json_schema()["$defs"]["ModalityLexicon"]["description"]
    assert "ADDED to the built-in" in described and "replace" not in described.lower()
    rules_md = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "lists are **added** to\nthe built-in lists" in rules_md
    assert not re.search(r"modality[^.\n]*(replace|instead of) the (built-in|default)", rules_md, re.I)


def test_entity_reference_inside_a_phrase_works_as_architecture_says() -> None:
    arch = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "entity aliases are usable inside phrases as `@ID`" in arch
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "at",
            "entities": {"PRK": {"name": "North Korea", "kind": "country", "aliases": ["North Korea", "Pyongyang"]}},
            "signals": {"s": {"match": "troops from @PRK"}},
        }
    )
    engine = Engine(compile_packs([pack]))
    assert [s.name for s in engine.extract(doc("Troops from North Korea arrived."))] == ["s"]
    assert [s.name for s in engine.extract(doc("Troops from Pyongyang arrived."))] == ["s"]
    assert engine.extract(doc("Troops from Russia arrived.")) == []
    assert engine.extract(doc("North Korea said troops from the south arrived.")) == []


def test_backtest_expect_is_documented_and_the_documented_file_works(tmp_path: Path) -> None:
    backtest_md = (REPO / "docs" / "backtest.md").read_text(encoding="utf-8")
    assert "`--expect FILE`" in backtest_md and "--expect FILE`" in (REPO / "docs" / "rules.md").read_text()
    block = re.search(r"`--expect FILE`.*?```yaml\n(.*?)```", backtest_md, re.S)
    assert block is not None
    expect = tmp_path / "expect.yaml"
    expect.write_text(re.sub(r"(?m)^  ", "", block.group(1)), encoding="utf-8")
    events = str(REPO / "tests" / "data" / "events" / "treaty_story.jsonl")
    runner = CliRunner()
    res = runner.invoke(app, ["backtest", events, "--rules", "builtin:dprk_russia", "--expect", str(expect)])
    assert res.exit_code == 0, res.output
    # ... and it is a real gate: the same file with a rule that never fires exits 1.
    expect.write_text(expect.read_text().replace("troop-engagement", "troops-deployed-nowhere"), encoding="utf-8")
    res = runner.invoke(app, ["backtest", events, "--rules", "builtin:dprk_russia", "--expect", str(expect)])
    assert res.exit_code == 1, res.output
