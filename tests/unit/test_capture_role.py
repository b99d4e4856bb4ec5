"""A capture's `role` (outside trial 56, M1): `any` takes the first of its entities named in the signal's part of
the sentence, a headline's lead before ':' included, whatever its role (where or to whom an act happened);
`actor`, the default of `entities`, the acting one; a `kind` capture may ask for the actor of that kind too.
Headlines written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc

# Each read on its own (`distinct: false`), to set the roles side by side: else they would take different entities.
CAPTURES = {
    "actor": {"entities": ["MLI", "BFA", "FRA"], "distinct": False},
    "scene": {"entities": ["MLI", "BFA"], "role": "any", "distinct": False},
    "country": {"kind": "country", "distinct": False},
    "country_actor": {"kind": "country", "role": "actor", "distinct": False},
}
RULES = compile_packs(
    [
        RulePack.model_validate(
            {
                "version": 2,
                "name": "capture-role",
                "entities": {
                    "MLI": {"name": "Mali", "kind": "country", "aliases": ["Mali", "Malian"]},
                    "BFA": {"name": "Burkina Faso", "kind": "country", "aliases": ["Burkina Faso"]},
                    "FRA": {"name": "France", "kind": "country", "aliases": ["France", "French"]},
                    "BAMAKO": {"name": "Bamako", "kind": "place", "aliases": ["Bamako"]},
                },
                "signals": {"act": {"match": {"any": ["putsch", "struck", "seize power"]}, "capture": CAPTURES}},
            }
        )
    ]
)


def _captures(text: str) -> dict[str, tuple[str | None, str]]:
    exp = explain_extraction(RULES, doc(text))
    got = [c for s in exp.sentences for c in s.signals if c.signal == "act" and c.matched]
    assert got, text
    return {c.name: (c.value, c.reason) for c in got[0].captures}


def test_role_any_takes_the_headlines_lead_the_actor_capture_leaves() -> None:
    got = _captures("Mali: army colonels seize power in Bamako overnight")
    assert got["actor"][0] is None and "(role: any takes it)" in got["actor"][1], got
    assert got["scene"] == ("MLI", "the first of MLI, BFA named in the sentence (role: any, whether it acted or not)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The first country of the sentence is France; the place of the putsch is the one the capture lists. France
        # is the object of "strikes", whose subject is the signal's words: struck, not the actor (outside trial 61,
        # M3; it was taken as the first mention after the words).
        ("Putsch bid strikes French partner Burkina Faso", {"country": "FRA", "scene": "BFA", "actor": None}),
        # The actor of that kind: who struck, not the first country named.
        ("Mali says French jets struck a convoy", {"country": "MLI", "country_actor": "FRA", "scene": "MLI"}),
    ],
)
def test_role_says_which_entity_a_capture_takes(text: str, expected: dict[str, str | None]) -> None:
    got = _captures(text)
    assert {k: got[k][0] for k in expected} == expected, got


def test_an_unknown_role_is_an_error_at_its_place(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 2\nname: p\nentities:\n  MLI: {name: Mali, kind: country, aliases: [Mali]}\nsignals:\n"
        "  coup:\n    match: {any: [coup]}\n    capture:\n      country: {entities: [MLI], role: target}\n"
    )
    res = CliRunner().invoke(app, ["rules", "check", str(pack)])
    assert res.exit_code == 1
    assert f"{pack}:9:40: role: Input should be 'actor' or 'any' (got 'target')" in res.output, res.output
