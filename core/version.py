"""What version is running: the installed package's version and, in a git checkout, the commit (for /about, /help
and the logs). Both are read once and remembered; neither ever raises."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "toonmatch"


@functools.cache
def package_version() -> str:
    """``toonmatch``'s installed version (``pyproject.toml``), or ``"unknown"`` when it is not installed."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=5, check=True)
    return done.stdout.strip()


@functools.cache
def git_revision() -> str | None:
    """The checkout's commit (12 hex digits, ``+dirty`` with uncommitted changes), ``None`` outside a git checkout
    or without git. Runs git once (a subprocess: call it off the event loop the first time)."""
    try:
        rev = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{rev}+dirty" if dirty else rev or None


def describe() -> str:
    """``"0.1.0 (abc123def456)"``, or just the version outside a checkout."""
    rev = git_revision()
    return f"{package_version()} ({rev})" if rev else package_version()
