"""Taking a ratification back is no ratification (an outside trial: "State Duma votes to revoke ratification of the
nuclear test ban treaty" fired "treaty ratified" in the bundled pack when both countries were named): "revoke(s /
d) ratification", "revocation of its ratification", "withdraws ratification", "de-ratify", "отзыв ратификации",
"отозвала ратификацию", "денонсировать" are negated, governing the word they lead to. Sentences are written for these
tests."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = "builtin:dprk_russia"
RU = str(DATA / "rules" / "ru_treaty.yaml")


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("Russian lawmakers vote to revoke ratification of arms pact with North Korea", "negated"),
        ("Moscow revokes its ratification of the North Korea treaty", "negated"),
        ("Russia revoked ratification of the pact with North Korea last year", "negated"),
        ("Revocation of ratification of North Korea pact clears Russian upper house", "negated"),
        ("Russia withdraws ratification of partnership treaty with North Korea", "negated"),
        ("Russia moves to de-ratify its pact with North Korea", "negated"),
        # ... not a revocation of something else beside a ratification made
        ("Russia revoked the licences and ratified the pact with North Korea", "asserted"),
        ("Russia ratifies partnership treaty with North Korea", "asserted"),
    ],
)
def test_revoked_ratification_en(title: str, want: str) -> None:
    assert modality("", "treaty_ratification", title=title, spec=PACK)[0] == want, title


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Госдума одобрила отзыв ратификации договора с КНДР.", "negated"),
        ("Россия отозвала ратификацию договора о запрете испытаний.", "negated"),
        ("Депутаты предложили денонсировать ратифицированный договор с КНДР.", "negated"),
        # ... not a recall of an ambassador beside a ratification made
        ("Россия отозвала посла и ратифицировала договор с КНДР.", "asserted"),
    ],
)
def test_revoked_ratification_ru(body: str, want: str) -> None:
    assert modality(body, "ratification", spec=RU)[0] == want, body
