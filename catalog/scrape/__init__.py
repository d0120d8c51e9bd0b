"""Scraper: builds a catalogue (the shared format of ``catalog.format``) from Naver Webtoon's public JSON API.

``client`` is the polite HTTP layer (rate cap, bounded concurrency, retries), ``naver`` parses responses, ``store``
keeps the output folder crash-safe and resumable, ``run`` orchestrates; ``scripts/scrape.py`` is the command line.
"""

from catalog.scrape.client import PoliteClient, RetryPolicy
from catalog.scrape.errors import BadResponseError, FetchError, NothingListedError, ScrapeError, ScrapeLockedError
from catalog.scrape.run import ScrapeConfig, ScrapeSummary, scrape

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
