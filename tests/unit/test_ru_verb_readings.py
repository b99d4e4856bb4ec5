"""A Russian phrase word the dictionary reads first as a noun but also as a verb form takes the verb's forms too
(outside trial 9, item 4): "прибыли" (profit's, or arrived) reads "прибыл", "прибыла", "прибудут", which the
bundled pack's troop signal missed. Headlines written for these tests."""

from __future__ import annotations

from watchfloor.stream_processors.engine.morphology import word_forms

from .engine_helpers import doc, engine_for


def test_a_verb_form_read_first_as_a_noun_takes_the_verbs_forms() -> None:
    forms = word_forms("ru", "прибыли")
    assert {"прибыл", "прибыла", "прибудут", "прибыли", "прибыль"} <= forms
    # A noun with no verb reading, or only a rare one, and readings of other parts of speech keep the first reading.
    assert "военной" not in word_forms("ru", "военные") and "лет" not in word_forms("ru", "летом")
    assert "денет" not in word_forms("ru", "день") and "сядут" not in word_forms("ru", "село")
    assert "начнут" not in word_forms("ru", "начала")


def test_the_bundled_pack_reads_a_troop_arrival_in_the_singular() -> None:
    engine = engine_for("builtin:dprk_russia")
    title = "Северокорейский контингент прибыл в Курскую область"
    signals = engine.extract(doc("Об этом сообщили в Кремле.", title=title))
    got = [(s.name, s.modality, s.captures.get("place")) for s in signals if s.sentence.startswith(title)]
    assert got == [("troop_deployment", "asserted", "KURSK")], got
    # Its future is a future: the perfective verb.
    title = "Северокорейский контингент прибудет в Курскую область"
    signals = engine.extract(doc("Об этом сообщили в Кремле.", title=title))
    assert [s.modality for s in signals if s.sentence.startswith(title)] == ["future"]
