"""The engine's hot modules compiled with mypyc (`scripts/build-native`), loaded only while they match the sources.

The per-document and per-signal work of the engine is plain, strictly typed Python; mypyc compiles it as it
is into C extensions (BENCHMARKS.md, "Native engine"). They are built into `build/native/` beside the
checkout, never next to the sources, with a manifest holding a fingerprint of every source they were
compiled from (the engine's and the schemas' modules, which compiled code makes assumptions about).
`import watchfloor` puts them in front of the interpreted modules only when that fingerprint is the
sources' own: a source edited since the build is simply run interpreted until the next build, never
shadowed by a stale extension. WATCHFLOOR_NATIVE=0 turns them off. Outputs are the same either way
(tests/functional/test_native.py runs the engine both ways and compares every output).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
NATIVE_DIR = REPO / "build" / "native"
MANIFEST = "manifest.json"
FORMAT = 1
PACKAGE = "watchfloor.stream_processors.engine"
# What is compiled: everything the engine does per document and per signal (the compiler, explanations and
# the rule checks run once per pack, or on request).
MODULES = (
    "scan",
    "extract",
    "text",
    "modality",
    "cues",
    "captures",
    "correlate",
    "late",
    "patterns",
    "sweep",
    "evidence",
    "compose",
    "corrections",
    "stories",
    "eventtime",
    "engine",
    "gate",
)
# Hand-written C extensions built beside them (the engine's name -> its source): the word screen.
C_MODULES = {"_wordscreen": "stream_processors/engine/_wordscreen.c"}
# Sources whose change makes a build stale: the compiled modules, and every module whose types they use (the
# engine imports nothing of watchfloor's but itself and the schemas: an edit to the Kafka worker, the stores or
# the CLI leaves the build in use; tests/functional/test_native.py checks both).
SOURCE_DIRS = ("stream_processors/engine", "schemas")
SOURCE_SUFFIXES = (".py", ".pyi", ".c")


def fingerprint(repo: Path = REPO) -> str:
    """A hash of every source a build depends on, and of the interpreter it is for."""
    h = hashlib.sha256(sys.implementation.cache_tag.encode())
    for top in SOURCE_DIRS:
        for path in sorted(p for p in (repo / top).rglob("*") if p.suffix in SOURCE_SUFFIXES):
            h.update(str(path.relative_to(repo)).encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


def read_manifest(directory: Path) -> dict[str, object] | None:
    try:
        got = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return got if isinstance(got, dict) and got.get("format") == FORMAT else None


def _check(directory: Path, repo: Path) -> tuple[dict[str, str] | None, str]:
    """The build's modules (name -> path in `directory`) if it can be used with these sources, and why not."""
    manifest = read_manifest(directory)
    if manifest is None:
        return None, f"not built (scripts/build-native builds it into {directory})"
    modules = manifest.get("modules")
    if not isinstance(modules, dict) or not all((directory / str(p)).is_file() for p in modules.values()):
        return None, f"incomplete build in {directory}: run scripts/build-native"
    if any(f"{PACKAGE}.{m}" not in modules for m in (*MODULES, *C_MODULES)):
        return None, "built for other modules than these: running interpreted until scripts/build-native"
    if manifest.get("fingerprint") != fingerprint(repo):
        return None, "built from other sources (edited since): running interpreted until scripts/build-native"
    return {str(k): str(v) for k, v in modules.items()}, (
        f"native: {len(MODULES)} engine modules compiled with mypyc {manifest.get('mypy', '?')}, and the word screen"
    )


def status(directory: Path = NATIVE_DIR, repo: Path = REPO) -> tuple[bool, str]:
    """Whether the build in `directory` can be used with these sources, and why not."""
    modules, why = _check(directory, repo)
    return modules is not None, why


class _NativeFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules (and mypyc's shared library of them) in the build directory."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        where = self.paths.get(fullname)
        if where is None:
            return None
        return importlib.util.spec_from_file_location(fullname, where)


def install(directory: Path = NATIVE_DIR) -> bool:
    """Use the compiled modules from now on if they match the sources (called by `import watchfloor`)."""
    if os.environ.get("WATCHFLOOR_NATIVE", "1") == "0" or any(isinstance(f, _NativeFinder) for f in sys.meta_path):
        return False
    if any(name.startswith(PACKAGE + ".") for name in sys.modules):
        return False  # the engine was imported interpreted already: never mix the two
    modules, _why = _check(directory, REPO)
    if modules is None:
        return False
    sys.meta_path.insert(0, _NativeFinder({name: directory / p for name, p in modules.items()}))
    return True


def active() -> bool:
    """Whether the engine running in this process is the compiled one."""
    mod = importlib.import_module(f"{PACKAGE}.scan")
    return str(getattr(mod, "__file__", "")).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def build(directory: Path = NATIVE_DIR, repo: Path = REPO) -> Path:
    """Compile MODULES with mypyc into `directory` (replaced whole, atomically: a process starting meanwhile
    sees the old build or the new one). Needs mypy (the `native` extra) and a C compiler."""
    from mypy.version import __version__ as mypy_version
    from mypyc.build import mypycify  # the `native` extra (dev installs have it)
    from setuptools import Extension, setup

    stamp = fingerprint(repo)
    work = Path(tempfile.mkdtemp(prefix="watchfloor-native-"))
    staging = directory.parent / f".{directory.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    cwd = Path.cwd()
    try:
        os.chdir(repo)  # mypy reads the project's configuration, and names modules by their paths from here
        paths = [f"watchfloor/stream_processors/engine/{m}.py" for m in MODULES]
        extensions = mypycify(paths, opt_level="3", target_dir=str(work / "c"))
        extensions += [
            Extension(f"{PACKAGE}.{name}", [str(repo / source)], extra_compile_args=["-O3"])
            for name, source in C_MODULES.items()
        ]
        os.chdir(work)  # setuptools would read the project's own pyproject.toml from the checkout
        setup(
            name="watchfloor-native",
            ext_modules=extensions,
            script_args=["--quiet", "build_ext", "--build-lib", str(staging), "--build-temp", str(work / "o")],
        )
        modules: dict[str, str] = {}
        for so in staging.rglob("*"):
            if so.suffix in (".so", ".pyd"):
                rel = so.relative_to(staging)
                name = ".".join((*rel.parent.parts, rel.name.split(".", 1)[0]))
                modules[name] = str(rel)
        missing = [m for m in (*MODULES, *C_MODULES) if f"{PACKAGE}.{m}" not in modules]
        if missing:
            raise RuntimeError(f"mypyc built no extension for {missing}")
        manifest = {"format": FORMAT, "fingerprint": stamp, "mypy": mypy_version, "modules": modules}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        old = directory.parent / f".{directory.name}.old.{os.getpid()}"
        if directory.exists():
            directory.rename(old)
        staging.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def main(argv: list[str] | None = None) -> int:
    """`build [--force]`: build unless the build there is current; `status`: say whether it is used."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["build"] or args == ["--force"]:
        usable, why = status()
        if usable and "--force" not in args:
            print(f"{why} (up to date)")
            return 0
        try:
            where = build()
        except ImportError as exc:
            print(f"native engine not built: {exc} (pip install -e '.[native]')", file=sys.stderr)
            return 3
        except (Exception, SystemExit) as exc:  # a compiler error: the engine runs interpreted
            print(f"native engine not built: {exc!r}", file=sys.stderr)
            return 1
        print(f"native engine built in {where}")
        return 0
    usable, why = status()
    print(why)
    return 0 if usable else 1
