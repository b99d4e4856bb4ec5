"""A signal no sentence can meet is warned of at `rules check` (outside trial 32, L2: a phrase longer than `near`
allows, and a `none` word every match of a required item holds, passed as ok; only `rules explain` showed them
never matching). Pack written for these tests."""

from __future__ import annotations

from pathlib import Path

from watchfloor.stream_processors.rulefile import load_rules, warning_problems

PACK = """version: 2
name: swaps
signals:
  too_long:
    match: {all: ["exchange of prisoners between the two sides"]}
    near: 3
  fits:
    match: {all: ["prisoner exchange", {any: ["took place", "was completed today"]}]}
    near: 3
  any_short_enough:
    match: {any: ["swap", "exchange of prisoners between the two sides"]}
    near: 2
  excluded:
    match: {all: ["prisoner exchange", {any: [agreed, held]}], none: [exchange]}
  excluded_any:
    match: {any: ["prisoner swap", "swap of prisoners"], none: [swap]}
  not_every_phrase:
    match: {all: [{any: ["prisoner exchange", "prisoner swap"]}], none: [swap]}
  wildcard:
    match: {all: ["prisoner exchang*"], none: [exchange]}
detections:
  - id: d
    title: t
    pattern: {any: [too_long, fits, any_short_enough, excluded, excluded_any, not_every_phrase, wildcard]}
"""


def warnings(tmp_path: Path) -> list[str]:
    path = tmp_path / "swaps.yaml"
    path.write_text(PACK, encoding="utf-8")
    loaded, compiled = load_rules([str(path)], every_problem=True)
    return [str(p) for p in warning_problems(loaded, compiled)]


def test_a_phrase_longer_than_near_and_a_none_word_every_match_holds_are_warned_of(tmp_path: Path) -> None:
    said = warnings(tmp_path)
    never = [w for w in said if "never made" in w]
    # and nothing else: items of `all` may share words, so their longest, not their sum, is what a match needs
    # (fits: 2 and 2 words); an `any` needs only its shortest; a phrase without the excluded word; a wildcard
    assert len(never) == 3, said
    assert any(
        ":6:" in w and "near: 3 is less than the 7 words of 'exchange of prisoners between the two sides'" in w
        for w in never
    ), never
    assert any("none: 'exchange' excludes every sentence" in w and "'prisoner exchange' (item 1 of `all`)" in w
               for w in never), never  # fmt: skip
    assert any("none: 'swap' excludes every sentence" in w and "each phrase of `any`" in w for w in never), never


def test_a_none_word_that_reads_one_of_the_match_s_own_phrases_is_warned_of(tmp_path: Path) -> None:
    """Outside trial 56, M3: `none: [coups]` in a pack that reads words in their forms excluded every "coup" of
    `any: [coup, putsch]`, and `rules check` said ok (coup recall 42/50 → 16/50)."""
    path = tmp_path / "coups.yaml"
    path.write_text(
        "version: 2\nname: coups\nsignals:\n"
        "  coup:\n    match: {any: [coup, putsch, takeover], none: [coups, football]}\n"
        "  only_plural:\n    match: {any: [coup, putsch], none: ['=coups']}\n"
        "detections:\n  - {id: d, title: t, pattern: {any: [coup, only_plural]}}\n",
        encoding="utf-8",
    )
    loaded, compiled = load_rules([str(path)], every_problem=True)
    said = [str(p) for p in warning_problems(loaded, compiled)]
    assert [w for w in said if "reads the same words" in w] == [
        f"{path}:5:51: warning: none: 'coups' reads the same words as the match's own phrase 'coup' (another form of "
        "them): wherever 'coup' matches, the signal is excluded (to exclude only the form written, mark it: '=coups')"
    ], said


def test_a_russian_none_word_in_another_case_of_the_match_s_own_word_is_warned_of(tmp_path: Path) -> None:
    """Outside trial 66, MED-3: `none: [пленные]` beside `any: [пленными]` excluded every match, and `rules check`
    said ok: a Russian word's forms are its own readings' («пленные» reads the adjective's forms too, «пленными» only
    the noun's), so the two keyed apart. A `none` word whose forms hold every form of the match's word is warned of;
    one that reads only some of them («пленными» beside «пленные»: not «пленная») is not."""
    path = tmp_path / "pows.yaml"
    path.write_text(
        "version: 2\nname: pows\nlanguage: ru\nsignals:\n"
        "  swap:\n    match: {any: [пленными, перемирие], none: [пленные]}\n"
        "  partly:\n    match: {any: [пленные], none: [пленными]}\n"
        "  exact:\n    match: {any: [пленными], none: ['=пленные']}\n"
        "detections:\n  - {id: d, title: t, pattern: {any: [swap, partly, exact]}}\n",
        encoding="utf-8",
    )
    loaded, compiled = load_rules([str(path)], every_problem=True)
    said = [str(p) for p in warning_problems(loaded, compiled)]
    assert [w for w in said if "reads the same words" in w] == [
        f"{path}:6:48: warning: none: 'пленные' reads the same words as the match's own phrase 'пленными' "
        "(another form of them): wherever 'пленными' matches, the signal is excluded (to exclude only the form "
        "written, mark it: '=пленные')"
    ], said
