"""`rules check` warns where a pack's cue word stopped reading its other forms on upgrade: a pack's cue words match
as written since `modality.morphology` (default exact) came in, where before they took the pack's forms, so
`hedged: [hint]` in a version 2 pack no longer reads "hinted" or "hints". Packs are written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.stream_processors.rulefile import load_rules, warning_problems

ROOT = Path(__file__).resolve().parents[2]

PACK = """version: 2
name: cues
language: {language}
{morphology}modality:
{cues}signals:
  closed:
    match: {{all: [closed, border]}}
"""


def _warnings(tmp_path: Path, cues: str, *, language: str = "en", morphology: str = "") -> list[str]:
    path = tmp_path / "cues.yaml"
    path.write_text(PACK.format(language=language, morphology=morphology, cues=cues), encoding="utf-8")
    loaded, compiled = load_rules([str(path)])
    return [str(w) for w in warning_problems(loaded, compiled)]


def test_a_dictionary_form_cue_is_warned_at_its_place_with_the_forms_it_no_longer_reads(tmp_path: Path) -> None:
    got = _warnings(tmp_path, "  hedged: [purportedly, hint]\n")
    assert got == [
        f"{tmp_path / 'cues.yaml'}:5:25: warning: cue 'hint' matches only as written: 'hints', 'hinted', 'hinting' "
        "are not read (list them, end the word with *, or set `morphology: forms` under modality)"
    ], got


def test_forms_listed_beside_it_are_not_named(tmp_path: Path) -> None:
    got = _warnings(tmp_path, "  hedged: [hint, hints, hinted]\n")
    assert len(got) == 1 and "cue 'hint' matches only as written: 'hinting' is not read" in got[0], got
    assert _warnings(tmp_path, "  hedged: [hint, hints, hinted, hinting]\n") == []


def test_a_form_a_built_in_cue_reads_is_not_named(tmp_path: Path) -> None:
    """ "rejected", "rejects", "rejecting" are built-in negations; "suspected" is a built-in hedge, not "suspects"."""
    got = _warnings(tmp_path, "  negated: [reject]\n  hedged: [suspect]\n")
    assert len(got) == 1 and "cue 'suspect' matches only as written: 'suspects', 'suspecting' are not read" in got[0]


def test_an_adjectives_comparative_and_superlative_are_not_named(tmp_path: Path) -> None:
    """Outside trial 61, L4: `after: {hedged: [unlikely]}` warned that "unlikelier", "unlikeliest" are not read."""
    assert _warnings(tmp_path, "  after:\n    hedged: [unlikely, doubtful, uncertain]\n") == []
    assert _warnings(tmp_path, "  hedged: [big]\n") == []


def test_a_built_in_cue_word_is_not_warned(tmp_path: Path) -> None:
    """lemminflect's forms of "will" and "may" are "would" and "might": other words, other cues (or none)."""
    assert _warnings(tmp_path, "  hedged: [may]\n  after:\n    future: [will]\n") == []


@pytest.mark.parametrize(
    ("cues", "morphology"),
    [
        ("  hedged: [hints, hinted]\n", ""),  # written in a form: the form is what the cue means
        ("  hedged: [hint*, =hint]\n", ""),  # a prefix, an exact word: as written on purpose
        ('  future: ["prepare to", "on the agenda"]\n', ""),  # a phrase of several words: fixed
        ("  morphology: forms\n  hedged: [hint]\n", ""),  # the pack asks for forms: nothing changed
        ("  hedged: [hint]\n", "morphology: exact\n"),  # the pack's words match as written: nothing changed
    ],
)
def test_no_warning_where_nothing_changed_or_the_form_is_meant(tmp_path: Path, cues: str, morphology: str) -> None:
    assert _warnings(tmp_path, cues, morphology=morphology) == []


@pytest.mark.parametrize("word", ["why", "how", "whether", "unless", "because", "amid"])
def test_a_function_word_has_no_forms_to_warn_of(tmp_path: Path, word: str) -> None:
    """Outside trial 47 (LOW-2): `hedged: [why]` was warned "'whies' is not read" (the dictionary's noun "the whys",
    misspelt); "unless" and "because", unknown to it, had a guessed plural ("unlesses"). Neither is a form a
    reader meets: no warning. A content word beside them still is."""
    assert [w for w in _warnings(tmp_path, f"  hedged: [{word}]\n") if "only as written" in w] == []
    got = [w for w in _warnings(tmp_path, f"  hedged: [{word}, hope]\n") if "only as written" in w]
    assert len(got) == 1 and "cue 'hope' matches only as written" in got[0], got


def test_russian_by_the_dictionary_form(tmp_path: Path) -> None:
    """ "намекать" is a lemma (its forms were read before); "одобрит" is a form, a future: as written on purpose;
    "отрицать" is a lemma, but the built-in negated "отрица*" reads all its forms."""
    got = _warnings(tmp_path, "  hedged: [намекать]\n  future: [одобрит]\n  negated: [отрицать]\n", language="ru")
    assert len(got) == 1 and "cue 'намекать' matches only as written: " in got[0], got
    assert "more are not read" in got[0], got


def test_a_neutral_phrase_is_named_as_one(tmp_path: Path) -> None:
    got = _warnings(tmp_path, "  neutral: [hint]\n")
    assert len(got) == 1 and "phrase 'hint' matches only as written: 'hints'" in got[0], got


def test_forms_a_built_in_prefix_reads_are_not_named(tmp_path: Path) -> None:
    """ "rumour*" is a built-in hedge: `neutral: [rumour]` loses nothing a cue would not read anyway."""
    assert _warnings(tmp_path, "  neutral: [rumour]\n") == []


@pytest.mark.parametrize(
    "pack",
    ["rules/dprk_russia.yaml", *(f"docs/examples/{p.name}" for p in (ROOT / "docs" / "examples").glob("*.yaml"))],
)
def test_the_bundled_and_example_packs_stay_warning_free(pack: str) -> None:
    loaded, compiled = load_rules([str(ROOT / pack)])
    assert [str(w) for w in warning_problems(loaded, compiled)] == []


def test_a_cue_in_a_signals_none_list_is_not_its_phrase(tmp_path: Path) -> None:
    """Outside trial 47 (LOW-1): `future: [call for]` was warned "is itself a phrase of signal truce_collapsed: …
    never applies" where "call for" was only in that signal's `none:` list, never part of a match. Only the
    signal's matching phrases count; one of them is still warned."""
    path = tmp_path / "truce.yaml"
    path.write_text(
        """version: 2
name: truce
language: en
modality:
  future: ["call for", collapse]
signals:
  truce_collapsed:
    match:
      all:
        - any: [truce, ceasefire]
        - any: [collapse, collapsed, ends]
      none: ["end to", "call for"]
    near: 5
""",
        encoding="utf-8",
    )
    loaded, compiled = load_rules([str(path)])
    got = [str(w) for w in warning_problems(loaded, compiled) if "is itself a phrase of signal" in str(w)]
    assert len(got) == 1 and "cue 'collapse' is itself a phrase of signal truce_collapsed" in got[0], got
