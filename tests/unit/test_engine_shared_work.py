"""Work the engine shares between signals (once per document, sentence, or matched words) gives each signal
what computing it alone would: the caches' keys are tested where they could be wrong."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from watchfloor.schemas.events import stable_id
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.evidence import EvidenceOf
from watchfloor.stream_processors.engine.modality import _break_marks, _words_before
from watchfloor.stream_processors.engine.patterns import E_AT, E_PLACES, E_PUBLISHED
from watchfloor.stream_processors.engine.scan import aligned_scan
from watchfloor.stream_processors.engine.text import aligned_word_view, sentence_spans, tokens

from .engine_helpers import doc, engine_for


def _pack(signals: dict[str, list[str]]) -> Engine:
    pack = RulePack.model_validate(
        {"version": 2, "name": "shared", "signals": {k: {"match": {"any": v}} for k, v in signals.items()}}
    )
    return Engine(compile_packs([pack]))


def test_signals_of_one_sentence_with_different_words_get_their_own_modality() -> None:
    # One sentence, two clauses: "will" governs the first signal's words only. The modality is resolved once
    # per (sentence, matched words): `deploy_again` matches the very words of `deploy` and shares its answer.
    engine = _pack({"deploy": ["deploy tanks"], "deploy_again": ["deploy tanks"], "convoy": ["convoy arrived"]})
    got = engine.extract(doc("The army will deploy tanks near the border, and a convoy arrived on Monday."))
    assert [(s.name, s.modality, s.cue) for s in got] == [
        ("convoy", "asserted", None),
        ("deploy", "future", "will"),
        ("deploy_again", "future", "will"),
    ]
    # The same signals in sentences of their own, one document each: the same answers.
    alone = [
        *engine.extract(doc("The army will deploy tanks near the border.")),
        *engine.extract(doc("A convoy arrived on Monday.")),
    ]
    assert sorted((s.name, s.modality, s.cue) for s in alone) == [(s.name, s.modality, s.cue) for s in got]


def test_a_cue_near_one_match_of_a_signal_and_not_the_other_sentence() -> None:
    # Two sentences, one signal: the cache is per sentence, not per signal.
    engine = _pack({"deploy": ["deploy tanks"]})
    got = engine.extract(doc("Russia may deploy tanks. Belarus did deploy tanks."))
    assert [(s.sentence_index, s.modality) for s in got] == [(0, "hedged"), (1, "asserted")]


def test_signal_ids_are_the_stable_id_of_document_signal_and_sentence() -> None:
    engine = engine_for("builtin:dprk_russia")
    d = doc("North Korean troops were deployed to Kursk. Pyongyang sent troops to Russia, Seoul said.")
    got = engine.extract(d)
    assert len(got) >= 2
    for s in got:
        assert s.id == stable_id(d.id, s.name, str(s.sentence_index))


def test_evidence_keeps_each_documents_own_time_and_each_sentences_places() -> None:
    engine = engine_for("builtin:dprk_russia")
    text = "North Korean troops were deployed to Kursk. North Korean troops were deployed to Russia."
    # Equal instants written with different offsets: equal datetimes, different texts in the evidence.
    docs = [
        parse_document(
            {"type": "news.article", "published_at": at, "source": "Wire", "title": "", "body": text, "id": f"d{i}"}
        )
        for i, at in enumerate(("2025-03-01T12:00:00+00:00", "2025-03-01T13:00:00+01:00"))
    ]
    evidence_of = EvidenceOf()
    seen = []
    for d in docs:
        sigs = engine.extract(d)
        assert {s.sentence_index for s in sigs} == {0, 1}
        for s in sigs:
            ev = evidence_of(s, s.published_at.timestamp())
            assert ev[E_PUBLISHED] == s.published_at.isoformat()
            assert ev[E_PLACES] is s.places  # the signal's own tuple, not a copy
            assert ev[E_AT] is None
            seen.append((ev[E_PUBLISHED], ev[E_PLACES]))
    assert {p for _t, p in seen} == {("KURSK",), ()}
    assert {t for t, _p in seen} == {"2025-03-01T12:00:00+00:00", "2025-03-01T13:00:00+01:00"}


_OLD_CLAUSE_BREAK = re.compile(
    r";|[,—–]\s*(?=(?:and|but|while|whereas|although|though|yet|и|но|а|однако|тогда как|хотя)\b)", re.IGNORECASE
)
_PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "\t",
        ",",
        ";",
        "—",
        "–",
        "and",
        "AND",
        "But",
        "yet",
        "yetis",
        "andrew",
        "и",
        "Но",
        "а",
        "ан",
        "однако",
        "тогда как",
        "тогда  как",
        "хотя",
        "x",
        "the",
        ".",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, max_size=14))
def test_clause_marks_are_where_the_clause_regex_matches(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _break_marks(text) == [m.start() for m in _OLD_CLAUSE_BREAK.finditer(text)]


_TEXT = st.lists(
    st.sampled_from(
        [
            " ",
            ",",
            ";",
            "—",
            "–",
            "don't",
            "can’t",
            "n't",
            "’",
            "and",
            "Ёлка",
            "ёж",
            "İstanbul",
            "ß",
            "_",
            "x_y",
            "«",
            "»",
            "…",
            "\u00a0",
            "Но",
            "12",
            "word",
            "ﬁ",
            "Σ",
        ]
    ),
    max_size=15,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_TEXT)
def test_words_before_each_mark_are_the_tokens_of_the_text_before_it(text: str) -> None:
    # Clause breaks count the words before each mark from one word view of the sentence; tokenising each
    # prefix anew is the definition (a view that is not aligned with the text falls back to it).
    marks = [i for i, ch in enumerate(text) if ch in ";,—–"]
    assert _words_before(text, marks) == [len(tokens(text[:at])) for at in marks]


@settings(max_examples=2000, deadline=None)
@given(_TEXT)
def test_a_sentences_words_taken_from_the_documents_words_are_the_words_of_its_text(text: str) -> None:
    # aligned_scan takes the longest sentence's words from the document's words (what the other sentences leave)
    # instead of splitting its text again: the same words as splitting each sentence's part of the view.
    view, aligned = aligned_word_view(text)
    if not aligned:
        return
    scan = aligned_scan(text, view, view.split(), [], None)
    pieces = [view[s + 1 : e + 1].split() for s, e in sentence_spans(text)]
    assert (scan.toks if scan is not None else []) == [p for p in pieces if p]


# Sentence boundaries (text.sentence_spans) as they were before its search skipped, in the regex, the marks that
# cannot end a sentence (no space after them, or a line break or the end of the text after the spaces).
_SPANS = {
    "Title.\nBody one. Body two.": [(0, 6), (7, 16), (17, 26)],
    "U.S. officials met in Washington. They left.": [(0, 33), (34, 44)],
    'He said: "Go." Then left.': [(0, 14), (15, 25)],
    "Wait?! No. Yes…  Maybe.\n\nNext": [(0, 6), (7, 15), (17, 23), (25, 29)],
    "Он сказал «Да.» Потом ушёл. 5 млн. рублей.": [(0, 15), (16, 27), (28, 42)],
    "Mr. Kim arrived. V. Putin too.": [(0, 16), (17, 30)],
    "Ends here.": [(0, 10)],
    "A.\n": [(0, 2), (3, 3)],
    "end. lower case. Upper.": [(0, 16), (17, 23)],
    "Вопрос? Ответ! 。全角。": [(0, 7), (8, 16), (16, 19), (19, 19)],
    "x. \ny": [(0, 3), (4, 5)],
    'Done?!" Next': [(0, 7), (8, 12)],
}


def test_sentence_boundaries_are_where_they_were() -> None:
    assert {text: sentence_spans(text) for text in _SPANS} == _SPANS
