"""The distribution installs one top-level package, `watchfloor`, and nothing of ours imports the bare folders.

The repository keeps the design's top-level folders (schemas/, producers/, stream_processors/, alerts/, rules/);
watchfloor/ reaches them through symlinks, so the wheel installs them as watchfloor.schemas and so on, and a
site-packages never gets generic names such as `schemas` or `alerts` that other distributions may also use.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DESIGN_FOLDERS = ("schemas", "producers", "stream_processors", "alerts", "rules")
BARE_IMPORT = re.compile(r"^\s*(?:from|import)\s+(" + "|".join(DESIGN_FOLDERS) + r")\b", re.M)


def test_no_source_file_imports_a_bare_design_folder() -> None:
    # A bare `import schemas` works from a checkout (the repo root is on sys.path) but not from the wheel, and
    # would load a second copy of every module next to watchfloor.schemas.
    offenders = []
    for path in sorted(REPO.rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[0] in (".venv", "build", "dist") or rel.parts[0].startswith(".") or rel.parts[0] == "watchfloor":
            continue
        for m in BARE_IMPORT.finditer(path.read_text(encoding="utf-8")):
            line = path.read_text(encoding="utf-8")[: m.start()].count("\n") + 1
            offenders.append(f"{rel}:{line}: {m.group(0).strip()}")
    assert offenders == []


def test_the_design_folders_are_reached_through_watchfloor() -> None:
    for name in DESIGN_FOLDERS:
        link = REPO / "watchfloor" / name
        assert link.is_symlink() and link.resolve() == (REPO / name).resolve(), name


def test_wheel_installs_only_watchfloor(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("watchfloor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert top == {"watchfloor"}
    for needed in (
        "watchfloor/rules/dprk_russia.yaml",
        "watchfloor/schemas/events.py",
        "watchfloor/py.typed",
        "watchfloor/producers/gdelt_lookups.json",  # the GDELT producer's CAMEO names (package data)
    ):
        assert needed in names

    # A fresh venv that sees this interpreter's packages for the dependencies, but not the repo.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True
    )
    env = {"PYTHONPATH": f"{target}:{site}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    got = subprocess.run(
        [
            str(py),
            "-I",
            "-c",
            "import sys; sys.path[:0] = sys.argv[1].split(':'); "
            "import watchfloor.cli, watchfloor.schemas.events, watchfloor.stream_processors.engine; "
            "from watchfloor.producers.gdelt import lookups; assert lookups().countries['PRK'] == 'North Korea'; "
            "print(watchfloor.cli.__file__)",
            f"{target}:{site}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip().startswith(str(target))
    for bare in DESIGN_FOLDERS:
        assert not (target / bare).exists()
    help_run = subprocess.run(
        [
            str(py),
            "-I",
            "-c",
            "import sys; sys.path[:0] = sys.argv[1].split(':'); sys.argv = ['watchfloor', '--help']; "
            "from watchfloor.cli import main; main()",
            f"{target}:{site}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert help_run.returncode == 0, help_run.stderr
    assert "backtest" in help_run.stdout
