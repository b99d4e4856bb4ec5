"""A pack's or signal's `language` with no built-in support ("rus", "xx") is warned about at its place,
naming the field, the built-in codes and the likely code; "RU" is refused with a message that says
which field and what it expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules, warning_problems

PACK = """version: 2
name: t
language: {pack}
signals:
  sanctions:
    match: {{any: [санкции, sanctions]}}
  talks:
    match: переговоры{signal}
"""


def _write(tmp_path: Path, pack: str, signal: str = "") -> str:
    path = tmp_path / "p.yaml"
    path.write_text(PACK.format(pack=pack, signal=signal), encoding="utf-8")
    return str(path)


def _warnings(path: str) -> list[str]:
    loaded, compiled = load_rules([path])
    return [str(w) for w in warning_problems(loaded, compiled)]


@pytest.mark.parametrize(("code", "hint"), [("rus", "did you mean 'ru'?"), ("eng", "did you mean 'en'?"), ("xx", "")])
def test_unknown_pack_language_is_warned_at_its_place(tmp_path: Path, code: str, hint: str) -> None:
    path = _write(tmp_path, code)
    (got,) = _warnings(path)
    assert got.startswith(f"{path}:3:11: warning: language: {code!r} has no built-in support (built-in: en, ru)"), got
    assert hint in got
    if not hint:
        assert "did you mean" not in got


def test_unknown_signal_language_in_a_list_is_warned_at_the_item(tmp_path: Path) -> None:
    path = _write(tmp_path, "ru", "\n    language: [en, rus]")
    (got,) = _warnings(path)
    assert got.startswith(f"{path}:9:20: warning: signals.talks.language: 'rus' has no built-in support"), got
    assert "did you mean 'ru'?" in got


@pytest.mark.parametrize("code", ["ru", "en", "[en, ru]"])
def test_built_in_languages_give_no_warning(tmp_path: Path, code: str) -> None:
    assert _warnings(_write(tmp_path, code)) == []


@pytest.mark.parametrize(("code", "hint"), [("RU", "'ru'"), ("ru-RU", "'ru'"), ("RUS", "'ru'")])
def test_a_malformed_language_says_what_is_expected(tmp_path: Path, code: str, hint: str) -> None:
    path = _write(tmp_path, code)
    with pytest.raises(RuleLoadError) as e:
        load_rules([path])
    (problem,) = e.value.problems
    assert (problem.line, problem.col) == (3, 11)
    assert f"language {code!r} is not a language code" in problem.message
    assert "lower-case ISO 639-1 code" in problem.message and f"did you mean {hint}?" in problem.message
    assert "should match pattern" not in problem.message
