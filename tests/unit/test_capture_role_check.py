"""A capture of what an act was done to, written with the default actor role (outside trial 62): the actor role passes
over "Finland's" in "Hungary ratifies Finland's NATO bid", so such a capture names nothing, or "Sweden" named after it.
`rules check` warns of one that names only what was acted on in the packs' own examples, and `rules explain` says
which mention it passed over and that `role: any` takes it. The NATO walkthrough pack (docs/examples) with its
candidate capture back at the default role shows both."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.role_check import capture_role_warnings
from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import doc

NATO = Path(__file__).resolve().parents[2] / "docs" / "examples" / "nato_accession.yaml"
ANY = "candidate: {entities: [FIN, SWE], role: any}"


def _actor_pack(tmp_path: Path) -> Path:
    """The NATO pack as it was before it said `role: any` for its candidate."""
    text = NATO.read_text(encoding="utf-8")
    assert ANY in text
    path = tmp_path / "nato.yaml"
    path.write_text(text.replace(ANY, "candidate: {entities: [FIN, SWE]}"), encoding="utf-8")
    return path


def _line_of(path: Path, words: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if words in line)


def test_rules_check_warns_of_an_actor_capture_that_names_only_what_was_acted_on(tmp_path: Path) -> None:
    path = _actor_pack(tmp_path)
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 0, result.output  # a warning, not an error
    line = _line_of(path, "candidate: {entities: [FIN, SWE]}")
    (warning,) = [w for w in result.output.splitlines() if "warning:" in w]
    assert warning.startswith(f"{path}:{line}:7: warning: capture 'candidate' of signal 'accession_ratified' "), warning
    assert "names only what was acted on in the packs' examples" in warning
    assert '"Hungarian lawmakers approve Finland\'s NATO membership"' in warning  # the example's sentence
    assert "“finland's” (inside the signal's words) is what the act was done to, not the actor" in warning
    assert "the actor role (the default of `entities`) names none" in warning
    assert "add `role: any` (the first of FIN, SWE named, whatever its role)" in warning
    # The party capture names its actor ("Hungarian lawmakers"), and so does `joined`'s member: no warning of them.
    assert "'party'" not in result.output and "'member'" not in result.output


def test_no_warning_with_role_any() -> None:
    result = CliRunner().invoke(app, ["rules", "check", str(NATO)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "warning" not in result.output and lines[-1].startswith("ok:"), result.output
    # (no other line: the distributed workers run its detection over detections too, so there is nothing to note)
    assert len(lines) == 1, lines


ATTACKS = """version: 2
name: attacks
language: en
entities:
  RUS: {name: Russia, kind: country, aliases: [Russia, Russian]}
  UKR: {name: Ukraine, kind: country, aliases: [Ukraine, Ukrainian, Kyiv]}
signals:
  strike:
    match: {any: [strikes, strike]}
    capture: {attacker: {entities: [RUS, UKR]}}
detections:
  - id: strike
    title: "strike by {attacker}"
    pattern: {any: strike}
    examples:
      - name: the target only
        documents:
          - {type: news.article, published_at: "2024-01-02T10:00:00+00:00", source: Wire,
             title: "Mass strikes on Ukraine hit power plants"}
"""
ACTOR_EXAMPLE = """      - name: the attacker named
        documents:
          - {type: news.article, published_at: "2024-01-03T10:00:00+00:00", source: Wire,
             title: "Russia strikes power plants"}
"""


def _role_warnings(path: Path) -> list[str]:
    loaded, compiled = load_rules([str(path)])
    return [w.message for w in capture_role_warnings([lp.pack for lp in loaded], compiled)]


def test_an_example_that_names_an_actor_keeps_the_actor_role_unwarned(tmp_path: Path) -> None:
    # Only a target in the examples: the capture never names an actor there, and the warning says what to do if it
    # is of the target. With an example where it names the attacker, the passing over is the grammar at work.
    path = tmp_path / "attacks.yaml"
    path.write_text(ATTACKS, encoding="utf-8")
    (only,) = _role_warnings(path)
    assert "“ukraine” (the target of 'strikes on')" in only, only
    path.write_text(ATTACKS + ACTOR_EXAMPLE, encoding="utf-8")
    assert _role_warnings(path) == []


def _candidate(rules, title: str) -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    exp = explain_extraction(rules, doc("", title=title))
    (got,) = [c for s in exp.sentences for c in s.signals if c.signal == "accession_ratified" and c.matched]
    cap = next(c for c in got.captures if c.name == "candidate")
    return cap.value, cap.reason


def test_explain_names_the_mention_the_actor_role_passed_over(tmp_path: Path) -> None:
    loaded, _compiled = load_rules([str(_actor_pack(tmp_path))])
    rules = compile_packs([lp.pack for lp in loaded])
    value, why = _candidate(rules, "Hungary ratifies Finland's NATO bid")
    assert value is None
    assert why == (
        "the only mention is inside the signal's words ('finland'), not their subject; passed over “finland's” "
        "(inside the signal's words): what was acted on, not the actor (role: actor); `role: any` takes it"
    ), why
    # The headline CI caught: the actor role took Sweden, named after the words; explain says what it passed over.
    value, why = _candidate(rules, "Hungary Ratifies Finland's NATO Bid, Leaving Sweden in the Cold")
    assert value == "SWE"
    assert why == (
        "the first mention after the signal's words; passed over “finland's” (inside the signal's words): what was "
        "acted on, not the actor (role: actor)"
    ), why
    # With `role: any`, the first named: Finland.
    loaded, _compiled = load_rules([str(NATO)])
    value, why = _candidate(
        compile_packs([lp.pack for lp in loaded]), "Hungary Ratifies Finland's NATO Bid, Leaving Sweden"
    )
    assert value == "FIN" and "passed over" not in why, why


REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_packs_have_no_capture_that_names_only_what_was_acted_on() -> None:
    # The bundled pack, the docs' packs and the examples' (each as `rules check` reads it, alone).
    paths = [REPO / "watchfloor" / "rules" / "dprk_russia.yaml", *sorted((REPO / "docs" / "examples").glob("*.yaml"))]
    paths += sorted((REPO / "examples").glob("**/*.yaml"))
    checked = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if "signals:" not in text:
            continue  # (a label map)
        assert _role_warnings(path) == [], path
        checked += 1
    assert checked >= 4
