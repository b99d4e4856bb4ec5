"""Verification disclaimers (outside audit, F6): news hedges a claim with a trailing disclaimer that points back
to it ("..., but this could not be independently verified", "..., which Reuters could not immediately verify",
"однако эту информацию не удалось независимо проверить"). Such a disclaimer hedges the words before it in its
sentence across the clause break that stops every other cue; one whose subject or object names something new
("the number of casualties could not be verified") does not, and "Russia ratified the treaty, but Ukraine may
respond" stays asserted. A disclaimer that opens the next sentence ("This could not be independently
verified.") hedges the sentence before it. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "disclaimer-cues",
        "language": ["en", "ru"],
        "signals": {
            "captured": {"match": {"all": ["=captured", {"any": ["village", "town"]}]}, "near": 6},
            "ratified": {"match": {"all": ["=ratified", "treaty"]}, "near": 6},
            "captured_ru": {
                "match": {"all": [{"any": ["захватили", "заняли"]}, {"any": ["село", "поселок"]}]},
                "near": 5,
            },
            "ratified_ru": {"match": {"all": ["ратифицировала", "договор"]}, "near": 5},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, body: str, *, title: str = "") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body, title=title)


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        (
            "Kyiv said its troops had captured the village, but this could not be independently verified.",
            "could not be independently verified",
        ),
        (
            "Kyiv said its troops had captured the village, which Reuters could not immediately verify.",
            "could not immediately verify",
        ),
        (
            "Kyiv said its troops had captured the village, though the claim could not be confirmed.",
            "could not be confirmed",
        ),
        (
            "Kyiv said its troops had captured the village; the report could not be independently verified.",
            "could not be independently verified",
        ),
        (
            "Kyiv said its troops had captured the village, but the AP was unable to independently verify it.",
            "was unable to independently verify",
        ),
        (
            "Kyiv said its troops had captured the village, but the newspaper could not verify the Ukrainian claims.",
            "could not verify",
        ),
        (
            "Kyiv said its troops had captured the village, a claim that has not been independently verified.",
            "has not been independently verified",
        ),
        ("Kyiv said its troops had captured the village, but this remains unverified.", "remains unverified"),
        ("Kyiv said its troops had captured the village, but we can't verify it.", "ca not verify"),
        (
            "Kyiv said its troops had captured the village, and the figures could not be verified independently.",
            "could not be verified independently",
        ),
        # "whose authenticity": the claim's own (the rule-author audit's scan missed it).
        (
            "Kyiv said its troops had captured the village, posting a video whose authenticity could not be verified.",
            "could not be verified",
        ),
        (
            "Kyiv said its troops had captured the village, though its accuracy has not been confirmed.",
            "has not been confirmed",
        ),
        # Further back than any other after-cue reaches (8 words).
        (
            "Kyiv said its troops had captured the village near the river on Tuesday after three days of heavy "
            "fighting in the rain, but this could not be independently verified.",
            "could not be independently verified",
        ),
    ],
)
def test_a_disclaimer_that_points_back_hedges_the_clause_before_it(body: str, cue: str) -> None:
    assert _read("captured", body) == ("hedged", cue)


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        (
            "Киев заявил, что его войска захватили село, однако эту информацию не удалось независимо проверить.",
            "не удалось независимо проверить",
        ),
        (
            "Киев заявил, что его войска захватили село, но подтвердить это пока невозможно.",
            "подтвердить это пока невозможно",
        ),
        (
            "Киев заявил, что его войска захватили село, но проверить эту информацию не удалось.",
            "проверить эту информацию не удалось",
        ),
        ("Киев заявил, что его войска заняли поселок, но эти данные пока не подтверждены.", "пока не подтверждены"),
        ("Киев заявил, что его войска заняли поселок, однако эти сведения нельзя проверить.", "нельзя проверить"),
    ],
)
def test_a_russian_disclaimer_that_points_back_hedges_the_clause_before_it(body: str, cue: str) -> None:
    assert _read("captured_ru", body) == ("hedged", cue)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        # The clause rule still holds for every other cue.
        ("ratified", "Russia ratified the treaty, but Ukraine may respond.", ("asserted", None)),
        ("ratified", "Russia ratified the treaty, and more states could follow soon.", ("asserted", None)),
        # A disclaimer about something new does not hedge what came before it.
        (
            "captured",
            "Kyiv said its troops had captured the village, but the number of casualties could not be verified.",
            ("asserted", None),
        ),
        (
            "ratified",
            "Russia ratified the treaty, but Reuters could not verify the number of casualties.",
            ("asserted", None),
        ),
        (
            "ratified",
            "Russia ratified the treaty, but the death toll could not be confirmed this week.",
            ("asserted", None),
        ),
        (
            "ratified",
            "Russia ratified the treaty, and the World Bank said it could not confirm the figures.",
            ("hedged", "could not confirm"),
        ),
        (
            "ratified",
            "Russia ratified the treaty, and the World Bank said it could not confirm the sums.",
            ("asserted", None),
        ),
        # "it could not be confirmed whether ...": the clause after it is what was not verified.
        (
            "ratified",
            "Russia ratified the treaty, but it could not be confirmed whether Kyiv had responded.",
            ("asserted", None),
        ),
        # "did not confirm it had ...": "it" is a clause's subject, not the object.
        ("ratified", "Russia ratified the treaty but did not confirm it had sent troops.", ("asserted", None)),
        # The authenticity of something new is not the claim's.
        (
            "ratified",
            "Russia ratified the treaty; the authenticity of a leaked annex could not be verified.",
            ("asserted", None),
        ),
        # A disclaimer governs only the words before it.
        ("ratified", "This could not be independently verified, but Russia ratified the treaty.", ("asserted", None)),
        (
            "ratified_ru",
            "Россия ратифицировала договор, однако не удалось подтвердить информацию о потерях.",
            ("asserted", None),
        ),
        ("ratified_ru", "Россия ратифицировала договор, но Киев может ответить.", ("asserted", None)),
        ("ratified_ru", "Россия ратифицировала договор, но данные о потерях не удалось проверить.", ("asserted", None)),
        # An agent's relative is not the claim ("players who could not confirm their identity").
        (
            "ratified_ru",
            "Россия ратифицировала договор, а игроки, которые не смогли подтвердить личность, уехали.",
            ("asserted", None),
        ),
    ],
)
def test_other_clauses_and_other_disclaimers_are_unchanged(
    signal: str, body: str, want: tuple[str, str | None]
) -> None:
    assert _read(signal, body) == want


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        (
            "Kyiv said its troops had captured the village. This could not be independently verified.",
            "could not be independently verified",
        ),
        (
            "Kyiv said its troops had captured the village. Reuters could not independently verify the report.",
            "could not independently verify",
        ),
        (
            "Kyiv said its troops had captured the village. However, the claim could not be confirmed.",
            "could not be confirmed",
        ),
        (
            "Киев заявил, что его войска захватили село. Эту информацию пока не удалось проверить.",
            "не удалось проверить",
        ),
    ],
)
def test_a_disclaimer_opening_the_next_sentence_hedges_the_sentence_before_it(body: str, cue: str) -> None:
    signal = "captured_ru" if body.startswith("Киев") else "captured"
    assert _read(signal, body) == ("hedged", cue)


@pytest.mark.parametrize(
    ("signal", "body", "title"),
    [
        # Not a disclaimer of the sentence before: its own claim, or what follows "whether".
        (
            "captured",
            "Kyiv said its troops had captured the village. "
            "Moscow said it shot down drones, which could not be verified.",
            "",
        ),
        (
            "captured",
            "Kyiv said its troops had captured the village. It could not be verified whether Russia had responded.",
            "",
        ),
        (
            "captured",
            "Kyiv said its troops had captured the village. Reuters could not verify the number of casualties.",
            "",
        ),
        # Two sentences apart.
        (
            "captured",
            "Kyiv said its troops had captured the village. Moscow denied losing ground. This could not be verified.",
            "",
        ),
        # The body does not speak of the title.
        ("captured", "This could not be independently verified.", "Kyiv says its troops captured the village"),
    ],
)
def test_the_next_sentence_hedges_only_with_a_disclaimer_of_this_one(signal: str, body: str, title: str) -> None:
    assert _read(signal, body, title=title) == ("asserted", None)
