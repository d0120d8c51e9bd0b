"""Evaluate a run on a catalogue (possibly one it never saw); prints one JSON object. Never writes into the run.

python -m scripts.evaluate --run RUN --catalog DIR --json [--baseline]
"""

from __future__ import annotations

import argparse
import json
import sys

from scripts.cli import quiet_tensorflow, run_main, setup_logging


def _summary(result: dict) -> str:
    g, a, r = result["genre"], result["author"], result["retrieval"]

    def f(v):
        return "–" if v is None else f"{v:.3f}"

    return (
        f"genre macro P/R/F1 {f(g['precision'])}/{f(g['recall'])}/{f(g['f1'])} (n={g['n']}, skipped {g['skipped']}); "
        f"author F1 {f(a['f1'])} (n={a['n']}); perturbed hit@1 {f(r['perturbed_hit@1'])}, hit@24 "
        f"{f(r['perturbed_hit@24'])}, same-author hit@24 {f(r['same_author_hit@24'])}; index recall@24 "
        f"{f(result['index']['recall@24_vs_exact'])}; {result.get('titles_after_training', 0)} titles arrived after "
        "the heads were fitted"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="run folder")
    p.add_argument("--catalog", required=True, help="catalogue folder to evaluate on")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on stdout")
    p.add_argument("--baseline", action="store_true", help="also score the paper-style baseline embedding")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    quiet_tensorflow()
    setup_logging(args.verbose)
    from ml.train.evaluate import evaluate_catalog

    result = evaluate_catalog(args.run, args.catalog, baseline=args.baseline, progress=not args.no_progress)
    print(_summary(result), file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
