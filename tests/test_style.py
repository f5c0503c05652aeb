"""House style (design.md): ruff and sqlfluff clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_python_is_ruff_clean():
    result = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_sql_is_sqlfluff_clean():
    result = subprocess.run([str(BIN / "sqlfluff"), "lint", "models", "tests"],
                            cwd=ROOT / "dbt_project", capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_read_only_the_layer_below():
    """design.md: staging alone calls source(); marts read intermediate models (or other marts), never staging,
    so a rule a mart relies on is derived once, in intermediate, and tested there."""
    import re

    models = ROOT / "dbt_project" / "models"
    offenders = [
        str(path.relative_to(models)) for path in models.rglob("*.sql")
        if ("source(" in path.read_text() and path.parts[len(models.parts)] != "staging")
        or (path.parts[len(models.parts)] == "marts" and re.search(r"ref\(\s*'stg_", path.read_text()))
    ]
    assert offenders == []
