"""Build a catalogue from Naver Webtoon's public JSON API.

    python -m scripts.scrape --out data/naver                # every weekday title + finished titles
    python -m scripts.scrape --out data/naver --limit 50 --episodes 3
    python -m scripts.scrape --out data/naver --weekday mon --weekday tue --no-finished

Polite by default (4 connections, 3 requests/s, retries with backoff). Resumable: run the same command again after an
interruption (even kill -9) and it continues where it stopped. Exit status: 0 when the run completed (even if some
titles were skipped, see skipped.jsonl), 1 when nothing could be listed or the folder is busy, 2 for bad arguments,
130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from catalog.scrape.client import DEFAULT_CONCURRENCY, DEFAULT_RATE, DEFAULT_USER_AGENT, RetryPolicy
from catalog.scrape.naver import DEFAULT_API_BASE, WEEKDAYS
from catalog.scrape.run import ScrapeConfig, scrape
from core.errors import ToonmatchError
from core.logs import setup_logging
from scripts.cli import run_main

PROG = "python -m scripts.scrape"
RETRY = RetryPolicy()  # the defaults of the retry flags


class _TqdmBar:
    def __init__(self, bar: tqdm):
        self._bar = bar

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def add_total(self, n: int) -> None:
        if n:
            self._bar.total = (self._bar.total or 0) + n
            self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


class TqdmProgress:
    """One tqdm bar per phase, on stderr."""

    def __init__(self, disable: bool = False):
        self.disable = disable
        self._position = 0

    def bar(self, phase: str, total: int | None, unit: str) -> _TqdmBar:
        bar = tqdm(
            total=total,
            desc=f"{phase:<8}",
            unit=unit,
            file=sys.stderr,
            disable=self.disable,
            leave=True,
            dynamic_ncols=True,
        )
        return _TqdmBar(bar)


def _number(kind: type, minimum: float, *, strict: bool = False):
    """An argparse type: a finite ``kind`` (int or float) that is at least ``minimum`` (more than it if ``strict``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")) or value < minimum or (strict and value == minimum):
            bound = f"more than {minimum}" if strict else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


_positive_int = _number(int, 1)
_non_negative_int = _number(int, 0)
_non_negative_float = _number(float, 0.0)
_positive_float = _number(float, 0.0, strict=True)


def _weekday(text: str) -> str:
    lookup = {k.lower(): k for k in WEEKDAYS}
    key = lookup.get(text.strip().lower())
    if key is None:
        raise argparse.ArgumentTypeError(f"unknown weekday {text!r} (choose from {', '.join(WEEKDAYS)})")
    return key


def _api_base(text: str) -> str:
    text = text.strip()
    if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1].strip("/")) == 0:
        raise argparse.ArgumentTypeError(f"expected an http(s) URL, got {text!r}")
    return text.rstrip("/")


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Which lists to read, the API server and the politeness and retry flags (shared with scripts.refresh)."""
    parser.add_argument(
        "--weekday",
        type=_weekday,
        action="append",
        metavar="DAY",
        help=f"only these weekday lists (repeatable: {', '.join(WEEKDAYS)}); default: every day and dailyPlus",
    )
    parser.add_argument(
        "--finished",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="include finished titles (default: yes)",
    )
    parser.add_argument(
        "--episodes",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="also keep the first N episode thumbnails of each title (default: 0)",
    )
    parser.add_argument(
        "--api-base",
        type=_api_base,
        default=DEFAULT_API_BASE,
        metavar="URL",
        help=f"API server (default: {DEFAULT_API_BASE})",
    )
    polite = parser.add_argument_group("politeness and retries")
    polite.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help="parallel requests (default: %(default)s)",
    )
    polite.add_argument(
        "--rate",
        type=_non_negative_float,
        default=DEFAULT_RATE,
        metavar="PER_SECOND",
        help="max requests per second, 0 = no cap (default: %(default)g)",
    )
    polite.add_argument(
        "--attempts",
        type=_positive_int,
        default=RETRY.attempts,
        metavar="N",
        help="attempts per request before giving up (default: %(default)s)",
    )
    polite.add_argument(
        "--timeout",
        type=_positive_float,
        default=RETRY.timeout,
        metavar="SECONDS",
        help="seconds per attempt (default: %(default)g)",
    )
    polite.add_argument(
        "--retry-base-delay",
        type=_non_negative_float,
        default=RETRY.base_delay,
        metavar="SECONDS",
        help="first backoff delay, doubled each retry, with jitter (default: %(default)g)",
    )
    polite.add_argument(
        "--retry-max-delay",
        type=_non_negative_float,
        default=RETRY.max_delay,
        metavar="SECONDS",
        help="cap of a backoff delay (default: %(default)g)",
    )
    polite.add_argument(
        "--max-retry-after",
        type=_non_negative_float,
        default=RETRY.max_retry_after,
        metavar="SECONDS",
        help="longest Retry-After honoured (default: %(default)g)",
    )
    polite.add_argument("--user-agent", default=DEFAULT_USER_AGENT, help="User-Agent header (default: a browser's)")


def source_config(args: argparse.Namespace, out: Path, limit: int | None = None) -> ScrapeConfig:
    """The :class:`ScrapeConfig` of :func:`add_source_arguments`' flags."""
    return ScrapeConfig(
        out=out,
        api_base=args.api_base,
        weekdays=tuple(dict.fromkeys(args.weekday)) if args.weekday else None,
        finished=args.finished,
        limit=limit,
        episodes=args.episodes,
        concurrency=args.concurrency,
        rate=args.rate or None,
        policy=RetryPolicy(
            attempts=args.attempts,
            base_delay=args.retry_base_delay,
            max_delay=args.retry_max_delay,
            timeout=args.timeout,
            max_retry_after=args.max_retry_after,
        ),
        user_agent=args.user_agent,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Build a Toonmatch catalogue (catalog.jsonl + images/) from Naver Webtoon's public JSON API.",
        epilog="Re-run the same command to resume an interrupted scrape; complete titles are never fetched twice.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/naver"), metavar="DIR", help="catalogue folder (default: data/naver)"
    )
    parser.add_argument(
        "--limit", type=_positive_int, metavar="N", help="at most N titles (most popular weekday titles first)"
    )
    add_source_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (every retry)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(
        "DEBUG" if args.verbose else "WARNING", floors={"aiohttp": logging.DEBUG if args.verbose else logging.ERROR}
    )
    config = source_config(args, args.out, args.limit)
    try:
        with logging_redirect_tqdm():
            summary = asyncio.run(scrape(config, progress=TqdmProgress(disable=args.quiet)))
    except OSError as exc:
        raise ToonmatchError(f"{exc.strerror or exc} ({exc.filename or args.out})") from exc
    print(summary.format())
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog=PROG, interrupted="interrupted; run the same command again to resume"))
