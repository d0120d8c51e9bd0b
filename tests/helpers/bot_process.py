"""The real bot, ``python -m bot``, in an OS process of its own, talking to a fake Discord in the test process.

Nothing is copied from the bot's entry point: the process runs ``python -m bot`` with ``tests/helpers/bot_site`` on
``PYTHONPATH``, whose ``sitecustomize.py`` points discord.py at the fake (``TOONMATCH_FAKE_DISCORD``) and may shorten
the discovery tick (``TOONMATCH_TEST_DISCOVERY_TICK``). Settings come from the environment given (``DISCORD_TOKEN``,
``DATABASE_URL``, ``TOONMATCH_RUN_DIR``, ``TOONMATCH_SHARD_IDS``/``TOONMATCH_SHARD_COUNT``, …); the working directory
is the log's folder, so no ``.env`` of the checkout is read. Ready once the bot logs that it is connected (its
``on_ready``: every shard of the process is ready).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "bot_site"
READY_LINE = "connected as "


class BotProcess:
    """One ``python -m bot`` with its own environment; stdout and stderr (the log) go to ``log``."""

    def __init__(self, env: dict[str, str], log: Path, *, fake_url: str, discovery_tick: float | None = None) -> None:
        pythonpath = os.pathsep.join(p for p in (str(SITE), str(ROOT), env.get("PYTHONPATH")) if p)
        self.env = {**env, "PYTHONPATH": pythonpath, "TOONMATCH_FAKE_DISCORD": fake_url}
        self.env.setdefault("TOONMATCH_METRICS_ADDRESS", "127.0.0.1:0")  # a free port each, never a fixed one
        if discovery_tick is not None:
            self.env["TOONMATCH_TEST_DISCOVERY_TICK"] = str(discovery_tick)
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.log.parent,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def wait_ready(self, timeout: float) -> None:
        """Until the bot logged that it is connected; fails with the log if it exits or takes ``timeout`` s."""
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while READY_LINE not in self.text():
            assert self.proc.returncode is None, (
                f"python -m bot exited ({self.proc.returncode}):\n{self.text()[-4000:]}"
            )
            assert loop.time() < deadline, f"python -m bot not ready after {timeout} s:\n{self.text()[-4000:]}"
            await asyncio.sleep(0.2)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def stop(self) -> int:
        """SIGTERM, as systemd or docker stop sends; the exit status."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode
