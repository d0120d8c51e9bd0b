"""Errors of the scraper.

:class:`ScrapeError` and its subclasses are user-facing (the command line prints them as one line). :class:`FetchError`
and :class:`BadResponseError` are internal: they make one title (or one list page) fail, are recorded with a reason and
never stop the run.
"""

from __future__ import annotations

from core.errors import ToonmatchError


class ScrapeError(ToonmatchError):
    """The scrape as a whole cannot run or produced nothing."""


class NothingListedError(ScrapeError):
    """No title could be listed from the source (wrong ``--api-base``, offline, or the API changed)."""


class ScrapeLockedError(ScrapeError):
    """Another live scrape is writing to the same output folder."""


class FetchError(Exception):
    """A request failed for good (not retryable, or retries exhausted).

    ``reason`` is a short stable key used to group failures (``not_found``, ``http_403``, ``http_500``, ``timeout``,
    ``connection``, ``truncated``, ``not_json``, ``bad_image``, ``too_large``); ``detail`` is for humans.
    """

    def __init__(self, reason: str, detail: str = "", *, attempts: int = 1, status: int | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.attempts = attempts
        self.status = status


class BadResponseError(Exception):
    """A response decoded fine but does not have the expected shape (missing fields, unexpected types)."""
