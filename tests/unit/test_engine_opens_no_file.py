"""The engine is pure: after the compile, processing documents opens no file, whatever the packs' languages and
morphology (outside review 49, H1: an exact-morphology pack's first document read the word-form dictionaries, and
wrote the user's forms cache, from inside `Engine.process`). In a fresh process, watched by an audit hook."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {unit!r})
    from watchfloor.stream_processors import rulefile  # noqa: F401  (installs the forms cache as every command does)
    from watchfloor.schemas.rules import RulePack
    from watchfloor.stream_processors.engine.compiler import compile_packs
    from watchfloor.stream_processors.engine.engine import Engine
    from engine_helpers import doc

    packs = [RulePack.model_validate(p) for p in {packs!r}]
    engine = Engine(compile_packs(packs))
    opened = []
    sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
    state = engine.initial_state()
    state, out = engine.process_document(state, doc("Officials are close to reaching a grain deal, the ministry said."))
    state, more = engine.process_document(state, doc("Армия развернёт танки у границы."))
    readings = sorted((o.name, o.modality) for o in [*out, *more] if hasattr(o, "modality"))
    print(readings)
    print(opened)
    """
)


def test_processing_opens_no_file_after_the_compile(tmp_path: Path) -> None:
    env = {**os.environ, "WATCHFLOOR_CACHE_DIR": str(tmp_path / "cache"), "WATCHFLOOR_NATIVE": "0"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    packs = [
        {"version": 1, "name": "p", "signals": {"deal": {"match": {"any": ["grain deal"]}}}},
        {"version": 1, "name": "r", "language": "ru", "signals": {"tanks": {"match": {"any": ["танки"]}}}},
    ]  # version 1: words as written, so the compile itself needs no forms
    script = SCRIPT.format(unit=str(REPO / "tests" / "unit"), packs=packs)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    readings, opened = done.stdout.strip().splitlines()[-2:]
    assert readings == "[('deal', 'future'), ('tanks', 'future')]"  # both languages' readings were asked for
    assert opened == "[]"
