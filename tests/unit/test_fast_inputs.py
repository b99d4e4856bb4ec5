"""The backtest's fast paths change nothing: the msgspec line check agrees with the full contract check,
the JSON line gate never rules out a document a rule can match, and block reading keeps every line."""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any, get_args, get_type_hints

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchfloor.backtest import read_events
from watchfloor.producers.jsonl import read_jsonl
from watchfloor.schemas.events import DOCUMENT_TYPES, DeadLetter, Document
from watchfloor.schemas.inputs import CheckedInput, InputError, _InputRecord, check_document, check_json_line
from watchfloor.stream_processors.engine.compiler import JsonLineGate
from watchfloor.stream_processors.replay import replay

from .engine_helpers import DATA, T0, doc, engine_for

BASE: dict[str, Any] = {
    "type": "news.article",
    "published_at": "2024-10-04T08:30:00+00:00",
    "source": "Harbour Gazette",
    "title": "Port authority posts shipping figures",
    "body": "Cargo volumes at the northern terminal rose for a third month.",
}


def with_(**changes: Any) -> bytes:
    obj = dict(BASE)
    for k, v in changes.items():
        if v is _DROP:
            obj.pop(k, None)
        else:
            obj[k] = v
    return json.dumps(obj, ensure_ascii=False).encode()


_DROP = object()

# Lines the fast path must judge exactly as orjson.loads + check_document would.
LINES: list[bytes] = [
    with_(),
    with_(id="doc-1"),
    with_(id=17),  # integer id: the full path takes it
    with_(id=True),
    with_(id="   "),
    with_(id=""),
    with_(id=None),
    with_(source=" Harbour Gazette "),
    with_(source=""),
    with_(source="   "),
    with_(source={"name": "Gazette", "url": "https://example.org", "kind": "feed"}),
    with_(source={"name": " Gazette "}),
    with_(source={"name": "  "}),
    with_(source={"name": "Gazette", "extra": 1}),
    with_(source={"url": "https://example.org"}),
    with_(source=5),
    with_(title="", body="x"),
    with_(title=None, body="x"),
    with_(title="   ", body="\n\t"),
    with_(title="", body=""),
    with_(title=42),
    with_(body=["a"]),
    with_(body="y" * 101),  # over the limit of 100 used below
    with_(body="y" * 100),
    with_(published_at="2024-10-04T08:30:00Z"),
    with_(published_at="2024-10-04T08:30:00z"),
    with_(published_at="2024-10-04T08:30:00.1234567+05:30"),  # digits past the microsecond
    with_(published_at="2024-10-04 08:30:00+00:00"),
    with_(published_at="2024-10-04T08:30:00"),  # no offset
    with_(published_at="2024-10-04T08:30+00:00"),  # ISO but not RFC 3339
    with_(published_at="20241004T083000Z"),
    with_(published_at=" 2024-10-04T08:30:00Z "),
    with_(published_at="yesterday"),
    with_(published_at=1728030600),
    with_(published_at=_DROP),
    with_(type="official.statement", issuer={"name": "Ministry", "country": "RUS"}),
    with_(type="official.statement", issuer=None),
    with_(issuer={"name": 5}),
    with_(type="signal"),
    with_(type=_DROP),
    with_(extra="field"),
    with_(metadata={"feed": "x", "n": 123456789012345678901234567890}),  # orjson reads a float
    with_(metadata=[1, 2]),
    with_(metadata=None),
    with_(metadata={"deep": json.loads("[" * 600 + "]" * 600)}),
    with_(url=5),
    with_(language=None, url=None),
    with_(language="en"),
    b'{"type":"news.article","type":"news.article","published_at":"2024-10-04T08:30:00Z","source":"a","title":"t"}',
    b'{"type":"news.article","published_at":"2024-10-04T08:30:00Z","source":"a","title":"t\\ud800"}',
    b'{"type":"news.article","published_at":"2024-10-04T08:30:00Z","source":"a","title":"caf\xe9"}',
    b'{"type":"news.article","published_at":"2024-10-04T08:30:00Z","source":"a","title":"t"}\r',
    b'{"type":"news.article","published_at":"2024-10-04T08:30:00Z","source":"a","title":"t"} x',
    b"[1, 2]",
    b"",
    b"   ",
    # the bounds of the contract (issue 9): each just inside and just over
    with_(title="t" * 2000),
    with_(title="t" * 2001),
    with_(id="i" * 512),
    with_(id="i" * 513),
    with_(id="a\u0000b"),
    with_(url="u" * 8193),
    with_(language="l" * 65),
    with_(source="s" * 513),
    with_(source={"name": "s", "kind": "k" * 65}),
    with_(source={"name": "s", "url": "u" * 8193}),
    with_(published_at="2999-12-31T23:59:59Z"),
    with_(published_at="3000-01-01T00:00:00Z"),
    with_(published_at="9999-12-31T23:00:00-05:00"),
    with_(published_at="1799-12-31T23:59:59Z"),
    with_(published_at="0001-01-01T00:30:00+01:00"),
    with_(metadata={"m": "v" * 65528}),  # exactly 65,536 bytes as JSON
    with_(metadata={"m": "v" * 65529}),
    with_(metadata={"x": 1e15}),  # re-serialised longer than written
    with_(metadata=json.loads('{"a":' * 15 + "{}" + "}" * 15)),  # 16 levels
    with_(metadata=json.loads('{"a":' * 16 + "{}" + "}" * 16)),  # 17 levels
    with_(metadata={"l": [[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}),  # 16 levels through arrays
    with_(metadata={"l": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}),
    with_(metadata={"brackets": "{[{[{[{[{[{[{[{[{[{[ in a string"}),
    (
        '{"type":"news.article","published_at":"2024-10-04T08:30:00Z","source":"a","title":"t","metadata":'
        + '{"a":' * 999
        + "{}"
        + "}" * 999
        + "}"
    ).encode(),
]


def slow(raw: bytes) -> CheckedInput | str:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "malformed"
    try:
        return check_document(obj, max_body_chars=100)
    except InputError as e:
        return str(e)


@pytest.mark.parametrize("raw", LINES, ids=range(len(LINES)))
def test_fast_line_check_agrees_with_the_contract_check(raw: bytes) -> None:
    fast = check_json_line(raw, 100)
    full = slow(raw)
    if fast is None:
        return  # the fast path declined: the full check decides (and explains)
    assert isinstance(full, CheckedInput), f"fast path accepted what the contract rejects: {full}"
    assert fast.build().model_dump() == full.build().model_dump()
    assert fast.ts == full.ts == full.published_at.timestamp()
    assert check_json_line(raw, 100, True) == fast.ts


@given(st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fast_line_check_never_accepts_what_the_contract_rejects(data: st.DataObject) -> None:
    """Property: over records near every bound, the fast path's acceptance implies the full check's, with
    the same document; and the full check's verdict never depends on which path asked."""
    sizes = st.integers(min_value=0, max_value=3)
    record: dict[str, Any] = dict(BASE)
    for field, limit in (("title", 2000), ("id", 512), ("url", 8192), ("language", 64)):
        if data.draw(st.booleans()):
            record[field] = data.draw(st.sampled_from(["x", "\u0000", "é", " "])) * (limit - 1 + data.draw(sizes))
    if data.draw(st.booleans()):
        depth = data.draw(st.integers(min_value=1, max_value=20))
        meta: Any = data.draw(st.sampled_from([1, "v", 1e15, None]))
        for _ in range(depth - 1):
            meta = (data.draw(st.sampled_from(["obj", "arr"])) == "obj" and {"k": meta}) or [meta]
        record["metadata"] = {"m": meta}
    if data.draw(st.booleans()):
        year = data.draw(st.sampled_from([1, 1799, 1800, 2024, 2999, 3000, 9999]))
        offset = data.draw(st.sampled_from(["Z", "+01:00", "-05:00"]))
        record["published_at"] = f"{year:04d}-12-31T23:30:00{offset}" if year != 1 else f"0001-01-01T00:30:00{offset}"
    raw = json.dumps(record, ensure_ascii=data.draw(st.booleans())).encode()
    fast = check_json_line(raw, 100_000)
    try:
        full: CheckedInput | None = check_document(orjson.loads(raw), max_body_chars=100_000)
    except InputError:
        full = None
    if fast is not None:
        assert full is not None, "fast path accepted what the contract rejects"
        assert fast.build().model_dump() == full.build().model_dump()


def test_fast_path_takes_the_common_shapes() -> None:
    """Not a correctness property: a regression guard that the fast path is actually used."""
    for raw in (LINES[0], LINES[1], LINES[10], LINES[24], LINES[26], LINES[41]):
        assert check_json_line(raw, 100) is not None, raw


def test_fast_record_types_are_the_document_types() -> None:
    assert set(get_args(get_type_hints(_InputRecord)["type"])) == set(DOCUMENT_TYPES)


def test_reader_results_equal_the_per_line_contract_check(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    got = list(read_jsonl(path, max_body_chars=100))
    expected: list[Document | str] = []
    for raw in LINES:
        if not raw.strip():
            continue
        full = slow(raw.rstrip(b"\r"))
        expected.append(full.build() if isinstance(full, CheckedInput) else "dead")
    assert [g.model_dump() if isinstance(g, Document) else "dead" for g in got] == [
        e.model_dump() if isinstance(e, Document) else e for e in expected
    ]


# -- the JSON line gate -------------------------------------------------------------------------------


def test_only_two_characters_lower_case_into_ascii_letters() -> None:
    """The gate treats U+0130 and U+212A as hazards; no other code point lower-cases into a-z/0-9."""
    found = [
        hex(cp) for cp in range(128, sys.maxunicode + 1) if any(c.isascii() and c.isalnum() for c in chr(cp).lower())
    ]
    assert found == ["0x130", "0x212a"]


try:
    import hyperscan  # noqa: F401

    SCANNERS = ["re2", "hyperscan"]
except ImportError:  # the optional "fast" extra
    SCANNERS = ["re2"]

WORDS = ["korea", "pyongyang", "dprk"]


@pytest.fixture(params=SCANNERS)
def gate(request: pytest.FixtureRequest) -> JsonLineGate:
    return JsonLineGate(WORDS, scanner=request.param)


def hit_lines(gate: JsonLineGate, block: bytes) -> set[int]:
    return {block.count(b"\n", 0, off) for off in gate.hits(block)}


@pytest.mark.parametrize(
    "title",
    [
        "NORTH KOREA",
        "North Korea",
        "Pyongyang's envoy",
        "\u212aorea",  # KELVIN SIGN lower-cases to k
        "\u0130 and korea",
        "K&#111;rea",  # an entity spells a letter
        "K&#x6F;rea",
        "&fjlig;",
        "D&#80;RK",
    ],
)
def test_gate_finds_every_way_a_key_can_be_written(gate: JsonLineGate, title: str) -> None:
    for ensure_ascii in (False, True):
        raw = json.dumps({**BASE, "title": title}, ensure_ascii=ensure_ascii).encode()
        assert hit_lines(gate, raw) == {0}, (title, ensure_ascii)
    # A \u escape of any ASCII letter may hide a key: such lines are hits too.
    escaped = json.dumps({**BASE, "title": "Kor"}).encode().replace(b"Kor", b"Ko\\u0072ea")
    assert json.loads(escaped)["title"] == "Korea"
    assert hit_lines(gate, escaped) == {0}


def test_gate_rules_out_lines_without_a_key_and_marks_each_hit_line_once(gate: JsonLineGate) -> None:
    lines = [
        json.dumps({**BASE, "title": t}).encode()
        for t in ["Markets rose", "Korea talks; korea again; DPRK", "Rain & wind", "Port news", "pyongyang"]
    ]
    assert hit_lines(gate, b"\n".join(lines)) == {1, 4}
    assert len(gate.hits(b"\n".join(lines))) == 2
    assert gate.hits(b"") == []
    assert hit_lines(gate, b"no key here\nkorea at the end, no newline") == {1}


def test_both_scanners_mark_the_same_lines() -> None:
    if len(SCANNERS) < 2:
        pytest.skip("hyperscan is not installed (optional extra 'fast')")
    rng = random.Random(11)
    alphabet = [
        "korea",
        "KOREA",
        "pyong",
        "yang",
        "dprk",
        "\\u0041",
        "&#",
        "&fjlig;",
        "\u0130",
        "\u212a",
        "x",
        " ",
        "\n",
    ]
    block = "".join(rng.choice(alphabet) for _ in range(20000)).encode()
    re2_gate, hs_gate = JsonLineGate(WORDS, scanner="re2"), JsonLineGate(WORDS, scanner="hyperscan")
    assert hit_lines(re2_gate, block) == hit_lines(hs_gate, block)
    assert len(re2_gate.hits(block)) == len(hs_gate.hits(block)) == len(hit_lines(re2_gate, block))


def test_gate_takes_words_of_any_script_and_refuses_non_words() -> None:
    assert JsonLineGate.for_words(["korea"]) is not None
    assert JsonLineGate.for_words(["курск", "pjöngjang"]) is not None
    assert JsonLineGate.for_words(["sub word"]) is None
    assert JsonLineGate.for_words([]) is None


CYRILLIC = ["курск", "пхенья", "кндр"]


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize(
    "title",
    [
        "КУРСКАЯ область",
        "Курская область",
        "в Пхеньяне",
        "ПХЁНЬЯН",  # tokens read "ё" as "е"
        "Курск: &Kcy;НДР",  # a named reference spells a Cyrillic letter
        "&#1050;урск",
    ],
)
def test_gate_finds_cyrillic_words_however_written(scanner: str, title: str) -> None:
    gate = JsonLineGate(CYRILLIC, scanner=scanner)
    for ensure_ascii in (False, True):  # ensure_ascii writes every Cyrillic letter as a \u escape
        raw = json.dumps({**BASE, "title": title}, ensure_ascii=ensure_ascii).encode()
        assert hit_lines(gate, raw) == {0}, (title, ensure_ascii)
    other = [json.dumps({**BASE, "title": t}, ensure_ascii=False).encode() for t in ["Погода в Москве", "Курс рубля"]]
    assert hit_lines(gate, b"\n".join(other)) == set()


# -- reading in blocks, and replaying what was read with the gate -------------------------------------

PACK = "builtin:dprk_russia"
SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"


def tricky_corpus(tmp_path: Path, n: int = 400) -> Path:
    """The bundled samples, written every which way, between filler, with bad lines and a BOM."""
    rng = random.Random(7)
    samples = [json.loads(x) for x in SAMPLES.read_text(encoding="utf-8").splitlines() if x.strip()]
    out: list[bytes] = []
    for i in range(n):
        if i % 9 == 0:
            obj = dict(samples[(i // 9) % len(samples)])
            obj["id"] = f"{obj['id']}-{i}"
            style = i % 4
            if style == 1:
                obj["title"] = obj["title"].upper()
            elif style == 2:
                obj["body"] = obj["body"].replace("o", "&#111;")
            raw = json.dumps(obj, ensure_ascii=(style == 3)).encode()
            if style == 3:
                raw = raw.replace(b"Korea", b"Kore\\u0061")
        elif i % 31 == 0:
            raw = b'{"type": "news.article", "title": "cut'
        else:
            raw = json.dumps(
                {**BASE, "id": f"filler-{i}", "published_at": f"2024-{6 + i % 5:02d}-{1 + i % 28:02d}T0{i % 10}:00:00Z"}
            ).encode()
        out.append(raw)
        if rng.random() < 0.05:
            out.append(b"")
    path = tmp_path / "tricky.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(out) + b"\r\n")
    return path


@pytest.mark.parametrize("block_bytes", [64, 1000, 1 << 22])
def test_block_reading_keeps_every_line_and_number(tmp_path: Path, block_bytes: int) -> None:
    path = tricky_corpus(tmp_path)
    whole = list(read_jsonl(path, block_bytes=1 << 22))
    small = list(read_jsonl(path, block_bytes=block_bytes))
    assert [x.model_dump() for x in small] == [x.model_dump() for x in whole]
    dead = [x.line for x in whole if isinstance(x, DeadLetter)]
    assert dead and all(line is not None for line in dead)
    lines = path.read_bytes().split(b"\n")
    for x in whole:
        if isinstance(x, DeadLetter):
            assert b"cut" in lines[x.line - 1]  # type: ignore[operator]


@pytest.mark.parametrize("block_bytes", [300, 1 << 22])
@pytest.mark.parametrize("scanner", SCANNERS)
def test_gated_backtest_equals_the_eager_one(tmp_path: Path, block_bytes: int, scanner: str) -> None:
    path = tricky_corpus(tmp_path)
    engine = engine_for(PACK)
    assert engine.rules.json_gate is not None
    gate = JsonLineGate(list(engine.rules.json_gate.words), scanner=scanner)
    eager_docs = [x for x in read_jsonl(path) if isinstance(x, Document)]
    eager = replay(eager_docs, engine)
    gated_items = [
        x for x in read_jsonl(path, checked=True, gate=gate, block_bytes=block_bytes) if not isinstance(x, DeadLetter)
    ]
    assert any(isinstance(x, float) for x in gated_items)  # the gate did rule lines out
    gated = replay(gated_items, engine_for(PACK))
    assert eager.detections, "the corpus should fire the pack"
    assert [d.model_dump() for d in gated.detections] == [d.model_dump() for d in eager.detections]
    assert gated.documents == eager.documents == len(eager_docs)
    assert gated.signals == eager.signals
    loaded = read_events([str(path)], gate=gate)
    assert len(loaded.documents) == len(eager_docs)


def test_note_timestamps_is_note_timestamp_in_a_loop() -> None:
    """With open windows (an absence pending, throttles), batching the time moves changes nothing."""
    engine = engine_for(str(DATA / "rules" / "patterns.yaml"))
    state = engine.initial_state()
    for i, text in enumerate(
        ["Alphaland closed the border.", "Alphaland closed the border again.", "A strike hit Port Gamma."]
    ):
        state, _ = engine.process_document(state, doc(text, at=i, source=f"Wire {i}"))
    assert state["g"], "the timeline should leave open groups"
    t0 = T0.timestamp()
    rng = random.Random(3)
    times = sorted(t0 + rng.random() * 40 * 86400 for _ in range(3000))
    times[100:110] = [times[100]] * 10  # ties
    times[2000:2010] = [times[1990]] * 10  # time going back
    a, b = copy.deepcopy(state), copy.deepcopy(state)
    one_by_one = [o for t in times for o in engine.correlator.note_timestamp(a, t)]
    batched = engine.correlator.note_timestamps(b, times)
    assert a == b
    assert one_by_one, "an absence should have fired"
    assert [o.model_dump() for o in one_by_one] == [o.model_dump() for o in batched]
