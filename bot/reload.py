"""Hot reload of the served catalogue: every ``TOONMATCH_RELOAD_SECONDS`` (and at once on SIGHUP) ask the
recommender to serve the index generation the run folder's CURRENT names now.

The swap itself (one engine per generation, requests in flight finishing on the old one, a broken generation
refused with one ERROR line) is :meth:`ml.serve.recommender.Recommender.reload`; this module only times it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import Toonmatch

log = logging.getLogger(__name__)
_sighup_owner: Reloader | None = None  # the reloader whose SIGHUP handler is installed (one per event loop)


class Reloader:
    """Polls every ``seconds`` (0: never, SIGHUP only) and on :meth:`wake`; started by the bot's ``setup_hook``."""

    def __init__(self, client: Toonmatch, seconds: float):
        self.client = client
        self.seconds = seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.checks = 0

    def start(self) -> None:
        global _sighup_owner
        self._task = asyncio.create_task(self._loop(), name="toonmatch-reload")
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)
                _sighup_owner = self
            except (NotImplementedError, RuntimeError):  # e.g. Windows
                pass

    def _on_sighup(self) -> None:
        log.info("SIGHUP received: looking for a new index generation now")
        self.wake()

    def wake(self) -> None:
        """Look for a new generation now (SIGHUP, tests)."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            timeout = self.seconds if self.seconds > 0 else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            await self.check()

    async def check(self) -> str | None:
        """One look: the recommender's answer (``"reloaded"``, ``"unchanged"``, ``"refused"``), ``None`` without one."""
        recommender = self.client.recommender
        if recommender is None:
            return None
        self.checks += 1
        try:
            return await recommender.reload()
        except Exception:  # the loop must outlive any surprise; the old generation keeps serving
            log.exception("looking for a new index generation failed")
            return None

    async def stop(self) -> None:
        global _sighup_owner
        if _sighup_owner is self:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            _sighup_owner = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
