"""A title that ends a sentence already ("…?", "…!", "….") is joined to the body without another full stop (outside
trial 44, L2: the evidence read "… the same elite's rule?." and a title's yes/no question with a body read asserted,
its "?" no longer ending the sentence). Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.events import joined_text

from .engine_helpers import doc, engine_for
from .test_en_mutiny_cues import PACK
from .test_modality_v2 import modality


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("Did the militia attack the port?", "Did the militia attack the port?\nMore below."),
        ("Militia attacks the port!", "Militia attacks the port!\nMore below."),
        ("Militia attacks the port.", "Militia attacks the port.\nMore below."),
        ("“Did the militia attack the port?”", "“Did the militia attack the port?”\nMore below."),
        ("Militia attacks the port", "Militia attacks the port.\nMore below."),
    ],
)
def test_a_full_stop_only_where_the_title_has_no_end(title: str, want: str) -> None:
    assert joined_text(title, "More below.") == want
    assert doc("More below.", title=title).text == want


def test_a_title_question_with_a_body_is_still_a_question() -> None:
    assert (
        modality("Reports spread through the city.", "attack", title="Did the militia attack the port?", spec=PACK)[0]
        == "hedged"
    )


def test_the_evidence_sentence_keeps_the_title_as_written() -> None:
    engine = engine_for(PACK)
    got = [s.sentence for s in engine.extract(doc("Reports spread.", title="Did the militia attack the port?"))]
    assert got and got[0] == "Did the militia attack the port?", got
