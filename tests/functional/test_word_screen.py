"""The word screen (stream_processors/engine/wordscreen.py and its C type, _wordscreen.c) keeps every document the
Python passes would make a signal of: built here from its C source, it is run against them on the repository's
packs and on generated packs and documents, and its tables are checked when it is made."""

from __future__ import annotations

import importlib.util
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchfloor.schemas.events import Document
from watchfloor.schemas.inputs import parse_document
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiled import CompiledRules, NativeScreen
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import Extractor, _viable_signals
from watchfloor.stream_processors.engine.scan import find_matches
from watchfloor.stream_processors.engine.text import aligned_word_view
from watchfloor.stream_processors.engine.wordscreen import build_screen, tables
from watchfloor.stream_processors.rulefile import load_rules

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "stream_processors" / "engine" / "_wordscreen.c"
BUILD = """
import sys
from setuptools import Extension, setup
source, out = sys.argv[1], sys.argv[2]
setup(name="wordscreen-test", ext_modules=[Extension("_wordscreen", [source], extra_compile_args=["-O2", "-Wall"])],
      script_args=["--quiet", "build_ext", "--build-lib", out, "--build-temp", out + "/o"])
"""


@pytest.fixture(scope="module")
def screen_so(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The C type's extension, compiled from the checkout's source into a temporary directory (as
    scripts/build-native does, without mypyc: seconds, not a minute)."""
    out = tmp_path_factory.mktemp("wordscreen")
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(SOURCE), str(out)], cwd=out, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        why = f"the word screen does not compile here: {done.stderr[-2000:]}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    return next(out.glob("_wordscreen*.so"))


@pytest.fixture(scope="module")
def screen_type(screen_so: Path) -> Callable[..., NativeScreen]:
    """The C type, loaded from the extension built above."""
    spec = importlib.util.spec_from_file_location("_wordscreen", screen_so)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made: Callable[..., NativeScreen] = module.WordScreen
    return made


def with_and_without(rules: CompiledRules, screen_type: Callable[..., NativeScreen]) -> tuple[Extractor, Extractor]:
    screened = replace(rules, _word_screen=[build_screen(rules, screen_type)])
    return Extractor(screened), Extractor(rules.without_word_screen())


def article(body: str, doc_id: str = "x") -> Document:
    return parse_document(
        {
            "type": "news.article",
            "id": doc_id,
            "published_at": "2025-03-01T00:00:00+00:00",
            "source": "Wire",
            "title": "",
            "body": body,
        }
    )


def signals_of(extractor: Extractor, d: Document) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in extractor.extract(d)]


def unfiltered(extractor: Extractor, d: Document) -> list[dict[str, Any]]:
    """The signals made when every sentence is asked for every signal of its phrases: no viable set (the word
    screen's held() or extract._viable_signals), which may only narrow what is asked, never change what is made."""
    scan, _viable = extractor.scan(d, every=True)
    return [] if scan is None else [s.model_dump(mode="json") for s in extractor.signals(d, scan, None)]


def fixture_documents() -> list[Document]:
    docs = []
    for name in ("events/treaty_story.jsonl", "eventtime/keydays.jsonl", "scoring/events.jsonl"):
        for line in (REPO / "tests/data" / name).read_text().splitlines():
            try:
                docs.append(parse_document(orjson.loads(line)))
            except Exception:
                pass
    # A few of our own for the invented countries of v2_features.yaml and composed.yaml.
    for i, text in enumerate(
        [
            "Sudmark ratified Nordland's membership bid on Tuesday. Nordland joined the Alliance.",
            "Troops from Nordland reached Port Vell. A deal on Port Vell was signed; the lease runs ten years.",
            "Nordic seaside ships were seen. Nordland will not ratify the accession, officials said.",
            "Alphaland closed its border with Betastan. Later Betastan reopened the border crossing.",
        ]
    ):
        docs.append(docs[0].model_copy(update={"id": f"own-{i}", "title": "", "body": text}))
    rng = random.Random(7)
    words = [w for d in docs for w in d.text.split()]
    base = docs[0]
    for i in range(600):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(4, 40)))
        title, _, body = text.partition(". ")
        docs.append(base.model_copy(update={"id": f"gen-{i}", "title": title, "body": body}))
    return docs


@pytest.mark.parametrize(
    "packs",
    ["builtin:dprk_russia", "v2_features", "composed", "world_news", "builtin:dprk_russia+world_news+v2_features"],
)
def test_the_screen_changes_no_signal_of_the_repositorys_packs(
    packs: str, screen_type: Callable[..., NativeScreen]
) -> None:
    specs = [p if ":" in p else str(REPO / "tests/data/rules" / f"{p}.yaml") for p in packs.split("+")]
    _l, rules = load_rules(specs)
    screened, plain = with_and_without(rules, screen_type)
    # (Packs with a regex-only signal read every document whole: no screen, as no viability test, applies.)
    assert screened.word_screen is not None
    docs = fixture_documents()
    made = 0
    for d in docs:
        got = signals_of(screened, d)
        assert got == signals_of(plain, d), d.text
        assert got == unfiltered(plain, d), d.text
        made += len(got)
    assert made > 0


def test_sentences_the_screen_reads_apart(screen_type: Callable[..., NativeScreen]) -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "apart",
            "signals": {"both": {"match": {"all": ["missile launch", "coastal city"]}}},
        }
    )
    rules = compile_packs([pack])
    screen = build_screen(rules, screen_type)
    assert screen is not None
    one = " officials said a missile launch hit the coastal city "
    assert screen.may_match(one)
    # The same words in two sentences: the document as one holds both phrases, its sentences do not.
    two = " officials said a missile launch failed the coastal city was calm "
    starts = [5]  # "the coastal city ..." begins at word 5
    assert screen.may_match(two) == 2 and not screen.may_match(two, starts)  # 2: ask again with the sentences
    # A phrase cut by a sentence break is not found in either sentence.
    cut = " a missile launch near a coastal city "
    assert screen.may_match(cut) and not screen.may_match(cut, [6])
    # And the engine agrees: no signal from two sentences, one from one.
    screened, plain = with_and_without(rules, screen_type)
    apart = article("Officials said a missile launch failed. The coastal city was calm.")
    together = apart.model_copy(update={"body": "Officials said a missile launch hit the coastal city."})
    assert signals_of(screened, apart) == signals_of(plain, apart) == []
    assert [s["name"] for s in signals_of(screened, together)] == ["both"]


def test_a_capture_that_falls_back_to_the_headline_reads_it(screen_type: Callable[..., NativeScreen]) -> None:
    """The screen reads only the sentences that can hold a signal's words; a capture with a `fallback` needs the
    headline's names too (outside trial 68, MED-6 G1): its signal reads the whole document, as one with `context`."""
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "fallback",
            "entities": {"NER": {"name": "Niger", "kind": "country", "aliases": ["Niger"]}},
            "signals": {
                "threat": {
                    "match": {"all": ["military action", {"any": ["threatened", "threatens"]}]},
                    "capture": {"country": {"entities": ["NER"], "fallback": "headline"}},
                }
            },
        }
    )
    rules = compile_packs([pack])
    screened, plain = with_and_without(rules, screen_type)
    assert screened.word_screen is not None
    d = article("Neighbours have threatened military action unless coup leaders restore democracy.").model_copy(
        update={"title": "Niger capital gripped by uncertainty as invasion deadline draws closer"}
    )
    got = signals_of(screened, d)
    assert [s["captures"] for s in got] == [{"country": "NER"}]
    assert got == signals_of(plain, d)


def test_a_signal_one_phrase_makes_is_answered_at_its_first_hit(screen_type: Callable[..., NativeScreen]) -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "alone",
            "signals": {
                "launch": {"match": {"any": ["missile launch", "rocket launch"]}},
                "both": {"match": {"all": ["coastal city", "harbour"]}},
            },
        }
    )
    screen = build_screen(compile_packs([pack]), screen_type)
    assert screen is not None
    # 1: a signal is viable whatever the sentences (its one clause is wherever its phrase is).
    assert screen.may_match(" a rocket launch near the coastal city harbour ") == 1
    assert screen.may_match(" the coastal city harbour ") == 2
    assert screen.may_match(" a launch of a rocket ") == 0


def test_held_names_the_signals_and_sentences_a_read_found(screen_type: Callable[..., NativeScreen]) -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "held",
            "signals": {
                "both": {"match": {"all": ["missile launch", "coastal city"]}},
                "twin": {"match": {"all": ["coastal city", "missile launch"]}},  # the same requirement: one group
                "alone": {"match": "harbour"},
            },
        }
    )
    screen = build_screen(compile_packs([pack]), screen_type)
    assert screen is not None
    assert screen.held() is None  # nothing read yet
    doc = " calm day a missile launch hit the coastal city "
    assert screen.may_match(doc) == 2
    assert screen.held() == ({"both", "twin"}, 1)  # read as one sentence: bit 0
    assert screen.held() == ({"both", "twin"}, 1)  # (asked again: the same answer)
    # Three sentences ("calm day" | "a missile launch hit the coastal city" | ...): only the second holds both.
    three = " calm day a missile launch hit the coastal city the coastal city slept "
    assert screen.may_match(three, [2, 9]) == 2
    assert screen.held() == ({"both", "twin"}, 0b10)
    assert screen.may_match(" a missile launch the coastal city ", [3]) == 0
    assert screen.held() == (set(), 0)
    # A signal one phrase makes viable stops the read at its first hit: what it did not read is not known.
    assert screen.may_match(" the harbour a missile launch hit the coastal city ") == 1
    assert screen.held() is None
    # Read whole (atoms() never stops early), the same words name every signal.
    screen.atoms(" the harbour a missile launch hit the coastal city ")
    assert screen.held() == ({"alone", "both", "twin"}, 1)


def test_tables_that_do_not_parse_are_refused(screen_type: Callable[..., NativeScreen]) -> None:
    _l, rules = load_rules(["builtin:dprk_russia"])
    args, _atoms = tables(rules)
    screen_type(**args)  # as built: accepted
    broken = dict(args, trig=args["trig"][:-4])
    with pytest.raises(ValueError, match=r"requirements|bad index"):
        screen_type(**broken)
    with pytest.raises(ValueError, match="bad index"):
        screen_type(**dict(args, uni_start=args["uni_start"][:-4]))
    with pytest.raises(ValueError, match="requirements"):  # a row names a group there is not
        screen_type(**dict(args, groups=args["groups"][:-1]))
    with pytest.raises(ValueError, match="group"):
        screen_type(**dict(args, groups=(*args["groups"][:-1], ("a", 1))))


# Calls that once read or wrote outside the screen's memory (found by fuzzing it under AddressSanitizer). None is
# made by the engine, whatever a document says; each is run in a fresh interpreter, so a regression ends that
# process rather than the test run.
ISOLATED = """
import importlib.util, pickle, sys
spec = importlib.util.spec_from_file_location("_wordscreen", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
WordScreen = module.WordScreen
with open(sys.argv[2], "rb") as f:
    args = pickle.load(f)
"""


def run_isolated(screen_so: Path, tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """`code` run after ISOLATED, with WordScreen the C type and `args` the tables of the bundled pack."""
    _l, rules = load_rules(["builtin:dprk_russia"])
    tables_file = tmp_path / "tables.pickle"
    tables_file.write_bytes(pickle.dumps(tables(rules)[0]))
    return subprocess.run(
        [sys.executable, "-c", ISOLATED + code, str(screen_so), str(tables_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_screen_whose_init_did_not_run_or_failed_refuses_every_call(screen_so: Path, tmp_path: Path) -> None:
    # (It read its tables' NULL pointers: a segmentation fault.)
    done = run_isolated(
        screen_so,
        tmp_path,
        """
never = WordScreen.__new__(WordScreen)
failed = WordScreen.__new__(WordScreen)
try:
    failed.__init__(**dict(args, natoms=-1))
except ValueError:
    pass
for screen in (never, failed):
    for call in (lambda: screen.may_match(" north korea ratified "), lambda: screen.atoms(" a b "), screen.held):
        try:
            call()
        except RuntimeError as e:
            print(e)
""",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["word screen: not initialised (its __init__ was not called, or failed)"] * 6


def test_sentence_starts_a_callback_changes_while_they_are_read(screen_so: Path, tmp_path: Path) -> None:
    # An item's __index__ emptied the list the screen was reading by index: a read of a freed array.
    done = run_isolated(
        screen_so,
        tmp_path,
        """
screen = WordScreen(**args)
starts = []

class Shrinks:
    def __index__(self):
        starts.clear()
        return 3

starts.extend([Shrinks(), *range(4, 400)])
norm = " north korea ratified the treaty with russia "
print(screen.may_match(norm, starts), screen.may_match(norm, [3, *range(4, 400)]))
""",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got, want = done.stdout.split()
    assert got == want  # the starts as they were when the call began


def test_tables_that_could_be_written_after_they_were_checked_are_refused(
    screen_type: Callable[..., NativeScreen],
) -> None:
    # A bytearray's atom ids, written after __init__ checked them, were read unchecked: marks[atom] past its end.
    _l, rules = load_rules(["builtin:dprk_russia"])
    args, _atoms = tables(rules)
    for name in ("uni_start", "uni_atoms", "bi_atoms", "tri_atoms", "pre_atoms", "trig_start", "trig"):
        for writable in (bytearray(args[name]), memoryview(bytearray(args[name]))):
            with pytest.raises(TypeError, match="must be bytes"):
                screen_type(**dict(args, **{name: writable}))
    # (The tables read only while the type is made may be any buffer.)
    norm = " north korea ratified the treaty "
    made = screen_type(**dict(args, words=bytearray(args["words"])))
    assert made.atoms(norm) == screen_type(**args).atoms(norm) != []


# Generated packs and documents: words with inflected forms, prefixes, exact forms, entity names and their
# aliases, one to three words a phrase; signals of every requirement shape (a conjunction, alternatives,
# mentions, context entities and words).
WORDS = [
    "troops", "ratified", "treaty", "north", "korea", "korean", "missile", "launch", "sea", "ships", "state",
    "media", "border", "sent", "deny", "talks", "signed", "minister", "coastal", "city",
]  # fmt: skip
FORMS = [*WORDS, "troop", "ratify", "treaties", "koreas", "missiles", "launched", "ship", "statement", "sending"]
# "didn't" is read "did not": a document holding it has a word view not aligned with its text (extract._scan_apart).
FILLER = ["the", "a", "of", "and", "will", "not", "on", "said", "nordland", "sudmark", "port", "vell", "didn't"]

phrase_words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)


@st.composite
def phrase(draw: st.DrawFn) -> str:
    words = draw(phrase_words)
    k = draw(st.integers(0, len(words) - 1))
    how = draw(st.sampled_from(["plain", "plain", "prefix", "exact"]))
    if how == "prefix" and len(words[k]) >= 4:
        words[k] = words[k][: draw(st.integers(3, len(words[k]) - 1))] + "*"
    elif how == "exact":
        words[k] = "=" + words[k]
    return " ".join(words)


@st.composite
def signal(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.sampled_from(["all", "any", "entity", "mentions", "context"]))
    if shape == "all":
        return {"match": {"all": [draw(phrase()), draw(phrase())]}}
    if shape == "any":
        return {"match": {"any": draw(st.lists(phrase(), min_size=1, max_size=3))}}
    if shape == "entity":
        return {"match": {"all": ["@NORD", draw(phrase())]}}
    if shape == "mentions":
        return {"match": draw(phrase()), "mentions": {"any": ["NORD", "SUD"]}}
    return {"match": draw(phrase()), "context": {"all": ["SUD"], "words": {"any": [draw(phrase())]}}}


VARIANTS = {
    "troops": ["troop"],
    "ratified": ["ratify", "ratifies"],
    "treaty": ["treaties"],
    "korea": ["koreas"],
    "missile": ["missiles"],
    "launch": ["launched", "launches"],
    "ships": ["ship"],
    "state": ["states", "statement"],
    "sent": ["send", "sending"],
    "signed": ["sign", "signs"],
}


def phrases_of(tree: Any) -> list[str]:
    if isinstance(tree, str):
        return [tree] if not tree.startswith("@") else []
    if isinstance(tree, dict):
        return [p for v in tree.values() for p in phrases_of(v)]
    if isinstance(tree, list):
        return [p for v in tree for p in phrases_of(v)]
    return []


def spoken(phrase: str, rng: random.Random) -> list[str]:
    """The phrase as a text might say it: a form of a word, a word a prefix starts, "@NORD" by an alias."""
    out = []
    for w in phrase.split():
        if w.startswith("@"):
            w = rng.choice(["Nordland", "north korea"])
        elif w.startswith("="):
            w = w[1:]
        elif w.endswith("*"):
            w = w[:-1] + rng.choice(["", "s", "ing", "ern"])
        elif rng.random() < 0.4:
            w = rng.choice(VARIANTS.get(w, [w]))
        out.append(w)
    return out


def document_texts(signals: list[dict[str, Any]], seed: int, n: int = 12) -> list[str]:
    """Documents made of the pack's own phrases (as spoken), other words and the entities' names, in one to
    four sentences: most hold some of the phrases, in one sentence or apart."""
    rng = random.Random(seed)
    phrases = phrases_of(signals) or ["state media"]
    texts = []
    for _ in range(n):
        sentences = []
        for _s in range(rng.randint(1, 4)):
            words: list[str] = []
            for _c in range(rng.randint(1, 5)):
                got = rng.random()
                if got < 0.45:
                    words += spoken(rng.choice(phrases), rng)
                elif got < 0.6:
                    words.append(rng.choice(["Nordland", "Sudmark", "Port Vell", "north korea"]))
                else:
                    words.append(rng.choice(FORMS + FILLER))
            sentences.append(" ".join(words).capitalize() + ".")
        texts.append(" ".join(sentences))
    return texts


@given(
    signals=st.lists(signal(), min_size=1, max_size=8),
    seed=st.integers(0, 2**32),
    morphology=st.sampled_from(["forms", "exact"]),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_packs_and_documents_the_screen_keeps_what_the_engine_matches(
    signals: list[dict[str, Any]], seed: int, morphology: str, screen_type: Callable[..., NativeScreen]
) -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "generated",
            "morphology": morphology,
            "entities": {
                "NORD": {"name": "Nordland", "kind": "country", "aliases": ["Nordland", "north korea"]},
                "SUD": {"name": "Sudmark", "kind": "country", "aliases": ["Sudmark", "port vell"]},
            },
            "signals": {f"s{i}": s for i, s in enumerate(signals)},
        }
    )
    rules = compile_packs([pack])
    screened, plain = with_and_without(rules, screen_type)
    screen = screened.word_screen
    assert screen is not None
    for i, text in enumerate(document_texts(signals, seed)):
        d = article(text, f"d{i}")
        # Whole documents: whenever the Python passes find a viable signal, so does the screen.
        view, _aligned = aligned_word_view(d.text)
        words = view.split()
        norm = " " + " ".join(words) + " "
        found = find_matches(rules.trigger, norm, words) if rules.trigger is not None else []
        if found and _viable_signals(rules, {e.key for e, _f, _l in found}, norm, words, set()):
            assert screen.may_match(norm), text
        # And the signals made are the same with it and without it, and with no viable set at all.
        got = signals_of(screened, d)
        assert got == signals_of(plain, d), text
        assert got == unfiltered(plain, d), text


# Hostile text (fuzzing the screen found these shapes worth keeping): control and zero-width characters, marks,
# right-to-left text, surrogate-free odd code points of every plane, letters whose lower case is longer ("İ", so
# the word view is not aligned), clitics, markup, words longer than a prefix's 63 bytes, sentence marks of several
# scripts, and documents of up to 33 sentences (sentence 31 and later share one bit of the screen's mask).
HOSTILE = [
    "\x00", "\x1b", "\x1f", "\x7f", "\x85", "\xa0", "\xad", "\u200b", "\u200d", "\u200f", "\u202e", "\u2028",
    "\u3000", "\ufeff", "\u0301", "\u0336", "\U000e0001", "İ", "ẞ", "ς", "ﬁ", "Ё", "ё", "'", "’", "n't", "-",
    "&amp;", "<b>", "</p>", "|", "*", "=", "@", "。", "！", "؟", "…", "\U0010fffd", "𝔘", "١٢٣", "ｎｏｒｔｈ",
    "x" * 70, "ж" * 40,
]  # fmt: skip
HOSTILE_SIGNALS = {
    "launch_in_sea": {"match": {"all": ["missile launch*", "=sea"]}},
    "troops_kursk": {"match": {"all": ["войска", "курск*"]}, "mentions": {"any": ["NORD"]}},
    "ratified": {"match": {"all": ["ratif*", "treaty"]}, "near": 4},
    "state_media": {"match": "state media of north korea"},
    "long_prefix": {"match": {"all": ["x" * 78 + "*", "sea"]}},  # a prefix past the screen's 63 bytes
}
HOSTILE_PHRASES = [
    "missile launched", "missile launches", "sea", "SEA", "войска", "Курская", "курском", "ratified", "ratifying",
    "treaty", "treaties", "state media of north korea", "Nordland", "north korea", "КНДР", "x" * 90, "İstanbul",
]  # fmt: skip
hostile_piece = st.one_of(
    st.sampled_from(HOSTILE_PHRASES),
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=6),
)
hostile_sentence = st.lists(hostile_piece, max_size=10).map(" ".join)
hostile_end = st.sampled_from([". ", "! ", "? ", "\n", "。", "… ", "؟ ", " ", ".\u00a0"])


@pytest.fixture(scope="module")
def hostile_extractors(screen_type: Callable[..., NativeScreen]) -> list[tuple[Extractor, Extractor]]:
    """(screened, unscreened) extractors of the bundled pack and of a pack of prefixes, exact forms, Russian
    words, mentions and a window."""
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "hostile",
            "language": ["en", "ru"],
            "entities": {"NORD": {"name": "Nordland", "kind": "country", "aliases": ["Nordland", "КНДР"]}},
            "signals": HOSTILE_SIGNALS,
        }
    )
    _l, bundled = load_rules(["builtin:dprk_russia"])
    return [with_and_without(bundled, screen_type), with_and_without(compile_packs([pack]), screen_type)]


@given(
    sentences=st.lists(hostile_sentence, min_size=1, max_size=4),
    filler=st.sampled_from([0, 0, 29, 30, 31, 32]),
    end=hostile_end,
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_text_gets_the_same_signals_with_the_screen_and_without(
    sentences: list[str], filler: int, end: str, hostile_extractors: list[tuple[Extractor, Extractor]]
) -> None:
    # `filler` sentences first, so the drawn ones are sentences 30 to 36 of the document as often as the first.
    text = end.join(["Calm day"] * (filler + 1) + sentences)
    d = article(text)
    for screened, plain in hostile_extractors:
        got = signals_of(screened, d)
        assert got == signals_of(plain, d), text
        assert got == unfiltered(plain, d), text
