"""The real bot in an OS process of its own, talking to a fake Discord that runs in the test process.

    TOONMATCH_FAKE_DISCORD=http://127.0.0.1:PORT python -m tests.helpers.bot_process

What ``python -m bot`` does (settings from the environment only — ``DISCORD_TOKEN``, ``DATABASE_URL``,
``TOONMATCH_RUN_DIR``, ``TOONMATCH_SHARD_IDS``/``TOONMATCH_SHARD_COUNT``, …; logging with the token redacted;
:func:`bot.bot.run_bot`, which loads the run folder, connects and stops gracefully on SIGTERM), with discord.py pointed
at the fake and the discovery loop ticking every ``TOONMATCH_TEST_DISCOVERY_TICK`` seconds. Prints ``ready`` on stdout
once the bot is connected (``on_ready``: every shard of the process is ready); logs go to stderr.
"""

from __future__ import annotations

import asyncio
import os
import sys


class _SayReady:
    """The ``ready_event`` of :func:`run_bot`: the parent process reads the line."""

    def set(self) -> None:
        print("ready", flush=True)


def main() -> int:
    from bot.__main__ import setup_bot_logging
    from bot.bot import BotOptions, run_bot
    from core.settings import load_settings
    from tests.helpers.fake_discord.server import discord_pointed_at

    settings = load_settings(env_file=None)
    assert settings.discord.token is not None, "DISCORD_TOKEN is not set"
    setup_bot_logging(settings.log.level, settings.discord.token.get_secret_value())
    tick = float(os.environ.get("TOONMATCH_TEST_DISCOVERY_TICK", "60"))
    options = BotOptions.from_settings(settings, discovery_tick=tick)
    with discord_pointed_at(os.environ["TOONMATCH_FAKE_DISCORD"]):
        asyncio.run(run_bot(settings, options=options, ready_event=_SayReady()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
