"""Fetch the pretrained backbone (nsfwjs's MobileNetV2 via npm), check it and convert it to Keras, once.

    python -m scripts.fetch_weights [--cache DIR]

Prints the cached model's path; does nothing (quickly) when the pinned version is already there. Needs npm only
the first time.
"""

from __future__ import annotations

import argparse
import sys

from scripts.cli import quiet_tensorflow, run_main, setup_logging


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.fetch_weights", description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", help="cache folder (default: TOONMATCH_CACHE, else ~/.cache/toonmatch)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    quiet_tensorflow()
    setup_logging(args.verbose)
    from ml.pretrained.fetch import fetch_backbone

    print(fetch_backbone(args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
