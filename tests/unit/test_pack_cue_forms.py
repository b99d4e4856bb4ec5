"""A pack's own cue words match as written, as the built-in ones do (outside trial 17, M1): a cue's form is its
meaning, so `future: [одобрит]` does not read the past "одобрила", nor `future: [prepares to]` "prepared to";
`modality: {morphology: forms}` asks for the inflected forms. Sentences are written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import DATA
from .test_modality_v2 import modality

RU = (DATA / "rules" / "ru_treaty.yaml").read_text(encoding="utf-8")


def _pack(tmp_path: Path, cues: str) -> str:
    path = tmp_path / "cues.yaml"
    path.write_text(RU.replace("entities:", f"modality:\n{cues}entities:", 1), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("Госдума одобрит договор, ратифицированный Пхеньяном", "future"),
        ("Госдума одобрила договор, ратифицированный Пхеньяном", "asserted"),
    ],
)
def test_a_pack_cue_matches_as_written(tmp_path: Path, title: str, want: str) -> None:
    spec = _pack(tmp_path, "  future: [одобрит]\n")
    assert modality("", "ratification", title=title, spec=spec)[0] == want


def test_forms_when_the_pack_asks_for_them(tmp_path: Path) -> None:
    spec = _pack(tmp_path, "  morphology: forms\n  future: [одобрит]\n")
    title = "Госдума одобрила договор, ратифицированный Пхеньяном"
    assert modality("", "ratification", title=title, spec=spec) == ("future", "одобрила")


def test_a_cue_of_the_signal_s_own_words_is_still_warned_about(tmp_path: Path) -> None:
    """The check compares a cue with the phrases as they are keyed (a cue as written is one of their forms)."""
    spec = _pack(tmp_path, "  hedged: [договор]\n")
    _loaded, compiled = load_rules([spec])
    assert any("is itself a phrase" in w.message for w in compiled.warnings), compiled.warnings
