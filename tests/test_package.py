"""The built wheel is what a user installs: it must carry what the code reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import ROOT

PROMPTS = sorted(p.stem for p in (ROOT / "prompts").glob("*.txt"))


def test_package_wheel_ships_and_loads_every_prompt(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "ui.py"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("assistant", "prompts"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"),
            *("-w", str(tmp_path / "dist"), str(source)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("assistant-*.whl"))
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert {f"assistant/prompts/{name}.txt" for name in PROMPTS} <= set(archive.namelist())
        archive.extractall(installed)
    # Loaded from the unpacked wheel, away from the checkout (whose prompts/ must not be used).
    check = (
        "from assistant.config import Settings\n"
        "from assistant.prompts import load_prompt\n"
        "settings = Settings()\n"
        f"assert settings.prompts_dir == __import__('pathlib').Path({str(installed)!r}) "
        "/ 'assistant' / 'prompts', settings.prompts_dir\n"
        f"for name in {PROMPTS!r}:\n"
        "    assert load_prompt(settings, name).text.strip(), name\n"
        "print('ok')\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.stdout.strip() == "ok", ran.stderr[-2000:]
