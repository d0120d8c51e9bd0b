"""Shared front-door plumbing for the scripts: logging to stderr, quiet TensorFlow, one-line errors."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from core.errors import RunFolderError, ToonmatchError


def quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("h5py", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for noisy in ("tensorflow", "absl"):  # retracing notices and the like: not actionable for users
        logging.getLogger(noisy).setLevel(logging.ERROR)


def run_main(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run ``main``; user-facing errors become ``error: …`` on stderr and exit 1, Ctrl-C exits 130."""
    try:
        return main(argv)
    except ToonmatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        suggestions = getattr(exc, "suggestions", [])
        if suggestions:
            print("did you mean:", file=sys.stderr)
            for suggestion in suggestions:
                print(f"  {suggestion}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def resolve_run_dir(explicit, settings):
    """``--run`` if given, else the configured ``TOONMATCH_RUN_DIR``; a clear error when neither is set."""
    run = explicit or settings.serving.run_dir
    if run is None:
        raise RunFolderError("no run folder: pass --run RUN or set TOONMATCH_RUN_DIR")
    return run
