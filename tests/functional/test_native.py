"""The compiled engine (watchfloor/native.py) gives exactly the interpreted engine's outputs, and a build is
used only with the very sources it was compiled from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from watchfloor import native

REPO = Path(__file__).resolve().parents[2]

# Every output and the final state of the engine, for each pack over the repository's fixture documents and
# 1,500 seeded documents made of their words (many matches, cues and windows), as one JSON list.
RUN = r"""
import json, random, sys
from dataclasses import asdict
from pathlib import Path
import orjson
from watchfloor import native
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules

repo = Path(sys.argv[1])
docs = []
for name in ("events/treaty_story.jsonl", "eventtime/keydays.jsonl", "eventtime/later.jsonl", "scoring/events.jsonl"):
    for line in (repo / "tests/data" / name).read_text().splitlines():
        try:
            docs.append(parse_document(orjson.loads(line)))
        except Exception:
            pass
rng = random.Random(2024)
words = [w for d in docs for w in d.text.split()]
base = docs[0]
for i in range(1500):
    text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
    title, _, body = text.partition(". ")
    docs.append(base.model_copy(update={"id": f"gen-{i}", "title": title, "body": body,
                                        "published_at": base.published_at.replace(hour=i % 24, minute=i % 60)}))
out = []
for pack in ("builtin:dprk_russia", "v2_features", "patterns", "eventtime", "composed", "world_news"):
    spec = pack if ":" in pack else str(repo / "tests/data/rules" / f"{pack}.yaml")
    _l, compiled = load_rules([spec])
    engine = Engine(compiled)
    state = engine.initial_state()
    for d in docs:
        state, outputs = engine.process_document(state, d)
        # (a PassedOver, a late document no detection reads, is a dataclass, not a model)
        out.extend([type(o).__name__, o.model_dump(mode="json") if hasattr(o, "model_dump") else asdict(o)]
                   for o in outputs)
    out.append(["state", state])
print(json.dumps({"native": native.active(), "outputs": out}, sort_keys=True, default=str))
"""


def run_engine(native_on: bool) -> dict[str, object]:
    env = {**os.environ, "WATCHFLOOR_NATIVE": "1" if native_on else "0"}
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(REPO)], env=env, capture_output=True, text=True, timeout=600, check=True
    )
    got: dict[str, object] = json.loads(done.stdout)
    return got


def test_the_compiled_engine_gives_the_interpreted_engines_outputs() -> None:
    usable, why = native.status()
    if not usable:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"the native engine is not usable under CI: {why}", pytrace=False)
        pytest.skip(why)
    compiled, interpreted = run_engine(True), run_engine(False)
    assert compiled["native"] is True and interpreted["native"] is False
    assert len(interpreted["outputs"]) > 1000  # type: ignore[arg-type]
    assert compiled["outputs"] == interpreted["outputs"]


def fake_repo(root: Path) -> Path:
    for top, name in (
        ("stream_processors/engine", "engine.py"),
        ("stream_processors/kafka", "app.py"),
        ("schemas", "events.py"),
    ):
        (root / top).mkdir(parents=True)
        (root / top / name).write_text("x = 1\n")
    return root


def fake_build(directory: Path, stamp: str) -> None:
    directory.mkdir(parents=True)
    modules = {f"{native.PACKAGE}.{m}": f"{m}.so" for m in (*native.MODULES, *native.C_MODULES)}
    for path in modules.values():
        (directory / path).write_bytes(b"")
    manifest = {"format": native.FORMAT, "fingerprint": stamp, "mypy": "0", "modules": modules}
    (directory / native.MANIFEST).write_text(json.dumps(manifest))


def test_a_build_is_used_only_with_the_sources_it_was_compiled_from(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path / "repo")
    build = tmp_path / "native"
    assert native.status(build, repo)[0] is False  # nothing built
    fake_build(build, native.fingerprint(repo))
    assert native.status(build, repo) == (True, native.status(build, repo)[1])
    (repo / "schemas" / "events.py").write_text("x = 2\n")  # a source edited after the build
    usable, why = native.status(build, repo)
    assert not usable and "edited since" in why
    (repo / "schemas" / "events.py").write_text("x = 1\n")
    assert native.status(build, repo)[0] is True
    (repo / "stream_processors" / "kafka" / "app.py").write_text("x = 2\n")  # outside what the engine imports
    assert native.status(build, repo)[0] is True
    c_source = repo / "stream_processors" / "engine" / "screen.c"  # a C source counts as much as a Python one
    c_source.write_text("int x;\n")
    usable, why = native.status(build, repo)
    assert not usable and "edited since" in why
    c_source.unlink()
    assert native.status(build, repo)[0] is True
    (build / "_wordscreen.so").unlink()  # a build without the word screen
    usable, why = native.status(build, repo)
    assert not usable and "incomplete" in why
    fake_build(build := tmp_path / "again", native.fingerprint(repo))
    (build / "scan.so").unlink()  # a build missing a module
    usable, why = native.status(build, repo)
    assert not usable and "incomplete" in why
    fake_build(tmp_path / "older", native.fingerprint(repo))  # a build of fewer modules than are compiled now
    manifest = json.loads((tmp_path / "older" / native.MANIFEST).read_text())
    del manifest["modules"][f"{native.PACKAGE}.engine"]
    (tmp_path / "older" / native.MANIFEST).write_text(json.dumps(manifest))
    usable, why = native.status(tmp_path / "older", repo)
    assert not usable and "other modules" in why


def test_install_leaves_the_interpreter_alone_without_a_usable_build(tmp_path: Path) -> None:
    before = list(sys.meta_path)
    assert native.install(tmp_path / "nothing-here") is False
    assert sys.meta_path == before
