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
