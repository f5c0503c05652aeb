#!/usr/bin/env python3
"""Set up (once) and run reformwh from a fresh clone, with nothing but Python 3.11+ and PyPI.

    python3 dev.py demo     # install what is needed, then `reformwh demo` on the embedded warehouse
    python3 dev.py test     # install what is needed, then the test suite
    python3 dev.py install [UV SYNC OPTIONS]  # only the install (the project image runs this)
    python3 dev.py ARGS...  # any other `reformwh` command, e.g. `python3 dev.py warehouse status`

The install is `uv sync --frozen` from the committed lock file into .venv; uv itself is installed from
PyPI into .tools/ the first time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
UV_VERSION = "0.13.9"
STAMP = ROOT / ".venv" / ".reformwh-installed"  # what .venv was installed from (install_stamp)


def install_stamp(extra: list[str] = ()) -> str:
    """What the environment was installed from: the lock, the project file, the sync options, the Python.
    uv installs the project itself editable, so source changes never need a new install."""
    digest = hashlib.sha256()
    for name in ("uv.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    digest.update("\0".join([UV_VERSION, sys.executable, *extra]).encode())
    return digest.hexdigest()


def _installed(stamp: str) -> bool:
    # the stamp is written only after a successful sync, so an interrupted install is retried
    return (ROOT / ".venv" / "bin" / "reformwh").exists() and STAMP.exists() and STAMP.read_text() == stamp


def ensure_environment(extra: list[str] = ()) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py must explain itself on an older Python
        sys.exit(f"reformwh needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    uv = TOOLS / "bin" / "uv"
    if not uv.exists():
        print(f"Installing uv {UV_VERSION} into {TOOLS} …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        subprocess.run([str(TOOLS / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        f"uv=={UV_VERSION}"], check=True)
    stamp = install_stamp(extra)
    if not _installed(stamp):
        print("Installing the locked dependencies into .venv (uv sync --frozen) …", flush=True)
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(ROOT / ".venv")}
        subprocess.run([str(uv), "sync", "--frozen", "--quiet", "--python", sys.executable, *extra], cwd=ROOT,
                       env=env, check=True)
        STAMP.write_text(stamp)


def main() -> int:
    args = sys.argv[1:] or ["--help"]
    if args[0] == "install":  # e.g. the image: `python3 dev.py install --group production --no-dev`
        ensure_environment(args[1:])
        return 0
    ensure_environment()
    bin_dir = ROOT / ".venv" / "bin"
    if args[0] == "test":
        command = [str(bin_dir / "python"), "-m", "pytest", *args[1:]]
    else:
        command = [str(bin_dir / "reformwh"), *args]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
