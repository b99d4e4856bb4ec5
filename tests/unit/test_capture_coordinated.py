"""A capture holds one entity: of a coordinated subject ("Россия и КНДР обменялись ратификационными грамотами") it
takes the nearest, so the title names one side of a joint act (outside trial 62, L1). The value is as before;
`rules explain` now says the subject was coordinated and how to need both. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc

RULES = compile_packs(
    [
        RulePack.model_validate(
            {
                "version": 2,
                "name": "exchange",
                "entities": {
                    "RUS": {"name": "Russia", "kind": "country", "aliases": ["Russia", "Россия", "Москва"]},
                    "PRK": {"name": "North Korea", "kind": "country", "aliases": ["North Korea", "КНДР", "Пхеньян"]},
                    "CHN": {"name": "China", "kind": "country", "aliases": ["China"]},
                },
                "signals": {
                    "exchange": {
                        "match": {
                            "all": [
                                {"any": ["exchang*", "обменялись"]},
                                {"any": ["instruments of ratification", "ратификационн* грамот*"]},
                            ]
                        },
                        "near": 12,
                        "capture": {"party": {"entities": ["RUS", "PRK", "CHN"]}},
                    }
                },
            }
        )
    ]
)


def _party(title: str) -> tuple[str | None, str]:
    exp = explain_extraction(RULES, doc("", title=title))
    (got,) = [c for s in exp.sentences for c in s.signals if c.signal == "exchange" and c.matched]
    (cap,) = got.captures
    return cap.value, cap.reason


@pytest.mark.parametrize(
    ("title", "value", "reason"),
    [
        (
            "Россия и КНДР обменялись ратификационными грамотами",
            "PRK",
            "the subject: nearest nominative mention before (one of the coordinated subject “россия и кндр”: a capture "
            "holds one entity; to need both, `mentions: {all: [PRK, RUS]}`)",
        ),
        (
            "Москва и Пхеньян в среду обменялись ратификационными грамотами",
            "PRK",
            "the subject: nearest nominative mention before (one of the coordinated subject “москва и пхеньян”: a "
            "capture holds one entity; to need both, `mentions: {all: [PRK, RUS]}`)",
        ),
        (
            "Russia and North Korea exchanged instruments of ratification",
            "PRK",
            "the nearest mention before the signal's words (one of the coordinated subject “russia and north korea”: "
            "a capture holds one entity; to need both, `mentions: {all: [PRK, RUS]}`)",
        ),
        (
            "North Korea, China and Russia exchanged instruments of ratification",
            "RUS",
            "the nearest mention before the signal's words (one of the coordinated subject “north korea, china and "
            "russia”: a capture holds one entity; to need both, `mentions: {all: [CHN, PRK, RUS]}`)",
        ),
    ],
)
def test_explain_says_a_coordinated_subject_gave_one_of_its_entities(title: str, value: str, reason: str) -> None:
    assert _party(title) == (value, reason)


@pytest.mark.parametrize(
    "title",
    [
        "North Korea exchanged instruments of ratification with Russia",  # one subject
        "Russia said North Korea exchanged instruments of ratification",  # the subject is not coordinated
        "Russia and the West watched as North Korea exchanged instruments of ratification",
    ],
)
def test_one_subject_has_no_such_note(title: str) -> None:
    value, reason = _party(title)
    assert value == "PRK" and "coordinated" not in reason, (value, reason)
