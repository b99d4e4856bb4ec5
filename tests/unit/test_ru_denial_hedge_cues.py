"""Common Russian hedges and denials that read as asserted and raised alerts (outside trial 62, H1): "якобы" between
the subject and its verb, "не соответствуют действительности", "назвали ложью / вымыслом / уткой сообщения …", an
object of seven words before "фейком", and "очередной фейковой новостью". The first sentence of each group is the
trial's; the others were written for these tests in the style of Russian news."""

from __future__ import annotations

import pytest

from watchfloor.schemas.events import Detection, Retraction
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc, reading
from .test_corrections import doc as doc_of
from .test_corrections import edit, history

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "trial62-cues",
        "language": ["en", "ru"],
        "entities": {
            "KNDR": {"name": "КНДР", "kind": "country", "aliases": ["КНДР", "Северная Корея", "северокорейский"]}
        },
        "signals": {
            "troops": {
                "match": {"all": ["@KNDR", {"any": ["военнослужащие", "военные", "войска", "солдаты"]}]},
                "near": 12,
            },
            "strike": {"match": {"any": ["удар", "обстрел", "атака"]}},
            "coup_en": {"match": {"any": ["coup"]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(text: str, signal: str = "troops") -> tuple[str, str | None]:
    """The reading of `text` as a body sentence and as a headline, which must agree."""
    body = reading(_ENGINE, signal, body=text)
    assert reading(_ENGINE, signal, body="Москва.", title=text) == body
    return body


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Военнослужащие КНДР якобы воюют в Курской области, утверждают в Киеве", "якобы воюют"),
        ("Войска КНДР якобы участвуют в боях под Курском", "якобы участвуют"),
        ("Северокорейские военные якобы переброшены в Курскую область", "якобы переброшены"),
        # "прибыли" is also the noun "прибыль"
        ("Военные КНДР якобы прибыли в Курскую область", "якобы прибыли"),
        ("Военнослужащие КНДР якобы уже воюют в Курской области", "якобы уже воюют"),
        ("Солдаты КНДР якобы не воюют в Курской области", "якобы не воюют"),
    ],
)
def test_alleged_between_the_subject_and_its_verb_hedges_it(text: str, cue: str) -> None:
    assert _read(text) == ("hedged", cue)


@pytest.mark.parametrize(
    "text",
    [
        # "якобы" in another clause, with a subject of its own
        "Военнослужащие КНДР воюют в Курской области, а Киев якобы готовит контрнаступление",
        "Военнослужащие КНДР воюют в Курской области, хотя в Киеве якобы сомневаются",
    ],
)
def test_alleged_of_another_subject_leaves_the_words_asserted(text: str) -> None:
    assert _read(text) == ("asserted", None)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        (
            "Сообщения о военнослужащих КНДР в Курской области не соответствуют действительности, заявил Песков",
            "не соответствуют действительности",
        ),
        ("Информация о гибели военных КНДР не соответствует действительности", "не соответствует действительности"),
        (
            "Сообщения о военных КНДР в Курской области не имеют ничего общего с действительностью",
            "не имеют ничего общего с действительностью",
        ),
        ("Слухи о военных КНДР под Курском не имеют отношения к реальности", "не имеют отношения к реальности"),
        (
            "Песков назвал сообщения о военных КНДР в Курской области не соответствующими действительности",
            "назвал сообщения о военных кндр в курской области не соответствующими действительности",
        ),
    ],
)
def test_not_true_after_the_report_denies_it(text: str, cue: str) -> None:
    assert _read(text) == ("negated", cue)


@pytest.mark.parametrize(
    "text",
    [
        "Военнослужащие КНДР воюют в Курской области, заявления Киева о потерях не соответствуют действительности",
        "Военнослужащие КНДР воюют в Курской области, а заявления Киева не соответствуют действительности",
    ],
)
def test_not_true_of_another_claim_leaves_the_words_asserted(text: str) -> None:
    assert _read(text) == ("asserted", None)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("В Минобороны РФ назвали ложью сообщения о военных КНДР в Курской области", "назвали ложью"),
        ("В Кремле назвали вымыслом сообщения о военнослужащих КНДР в Курской области", "назвали вымыслом"),
        ("Захарова назвала уткой публикации о военных КНДР под Курском", "назвала уткой"),
        ("В МИД России называют клеветой слухи о войсках КНДР в Курской области", "называют клеветой"),
        # "провокацией" before a word for what was said
        ("Песков назвал провокацией сообщения о военных КНДР в Курской области", "назвал провокацией"),
        # the object first
        ("Сообщения о военных КНДР в Курской области в Кремле назвали вымыслом", "назвали вымыслом"),
        ("Публикации о военнослужащих КНДР в Курской области Захарова назвала клеветой", "назвала клеветой"),
    ],
)
def test_naming_the_report_false_before_it_denies_it(text: str, cue: str) -> None:
    assert _read(text) == ("negated", cue)


def test_naming_a_deed_a_provocation_before_it_leaves_it_asserted() -> None:
    assert _read("Захарова назвала провокацией обстрел Курской области", "strike") == ("asserted", None)
    assert _read("Песков назвал провокацией сообщения об ударе по Курской области", "strike") == (
        "negated",
        "назвал провокацией",
    )


def test_naming_another_report_false_leaves_the_words_asserted() -> None:
    text = "Военные КНДР прибыли в Курскую область, а Захарова назвала ложью сообщения о потерях"
    assert _read(text) == ("asserted", None)


@pytest.mark.parametrize(
    "text",
    [
        "Песков назвал сообщения о военных КНДР в Курской области фейком",
        "Захарова назвала публикации западных СМИ о военных КНДР в Курской и Белгородской областях грубым фейком",
        "Песков назвал сообщения о военнослужащих КНДР в Курской области очередной фейковой новостью.",
        "В МИД РФ назвали публикацию о военных КНДР в Курской области откровенно ложной информацией",
    ],
)
def test_a_long_object_before_its_denial_is_denied(text: str) -> None:
    """The object runs to the end of its clause, not to a count of words (the trial's has seven)."""
    modality, cue = _read(text)
    assert modality == "negated"
    assert cue is not None and cue.startswith("назва")


@pytest.mark.parametrize(
    "text",
    [
        # a comma, a preposition before the denial word, a genitive after a feminine denial adjective
        "Песков назвал военных КНДР в Курской области союзниками, а сообщения о потерях фейком",
        "Песков назвал военных КНДР в Курской области надежными союзниками в борьбе с дезинформацией",
        "Песков назвал военных КНДР героями фейковой новости",
    ],
)
def test_other_naming_leaves_the_words_asserted(text: str) -> None:
    assert _read(text) == ("asserted", None)


def test_explain_names_the_naming_denial_of_a_long_object() -> None:
    title = "Песков назвал сообщения о военных КНДР в Курской области фейком"
    exp = explain_extraction(_ENGINE.rules, doc("Москва.", title=title))
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "troops" and c.matched]
    reasons = {c.words: c.reason for c in checks[0].cues}
    assert reasons["назвал сообщения о военных кндр в курской области фейком"] == (
        "its object holds the signal's words"
    ), reasons


def test_the_english_naming_denial_reads_as_before() -> None:
    assert _read("Gabon government calls coup reports fake", "coup_en")[0] == "negated"
    assert _read("Junta calls coup a rescue of the nation", "coup_en") == ("asserted", None)


def test_an_edit_in_place_into_the_official_denial_withdraws_the_alert() -> None:
    """rules.md "Corrections": only another modality withdraws, so an edit into "… не соответствует
    действительности", read as asserted, withdrew nothing (the trial's note under H1). The bundled pack."""
    claim = doc_of("ria-1", "Военнослужащие КНДР погибли в боях в Курской области")
    denial = edit(
        claim,
        "Информация о том, что военнослужащие КНДР погибли в Курской области, не соответствует действительности, "
        "заявил Песков",
        5,
    )
    [raised, gone] = history([claim, denial])
    assert isinstance(raised, Detection) and isinstance(gone, Retraction)
    assert gone.alert_id == raised.id and gone.reason.startswith("corrected by the publisher: ")
