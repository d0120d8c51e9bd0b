"""Scraper: builds a catalogue (the shared format of ``ml.catalog``) from Naver Webtoon's public JSON API.

``client`` is the polite HTTP layer (rate cap, bounded concurrency, retries), ``naver`` parses responses, ``store``
keeps the output folder crash-safe and resumable, ``run`` orchestrates; ``scripts/scrape.py`` is the command line.
"""

from ml.scrape.client import PoliteClient, RetryPolicy
from ml.scrape.errors import BadResponseError, FetchError, NothingListedError, ScrapeError, ScrapeLockedError
from ml.scrape.run import ScrapeConfig, ScrapeSummary, scrape

__all__ = [
    "BadResponseError",
    "FetchError",
    "NothingListedError",
    "PoliteClient",
    "RetryPolicy",
    "ScrapeConfig",
    "ScrapeError",
    "ScrapeLockedError",
    "ScrapeSummary",
    "scrape",
]
