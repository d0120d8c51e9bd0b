"""``python -m bot`` runs the Discord bot; ``python -m bot sync`` (re)registers its application commands and exits.

Settings come from the environment or ``.env`` (``DISCORD_TOKEN``, ``TOONMATCH_RUN_DIR``, ``DATABASE_URL``, …; see
docs/discord.md). Without a token it explains how to get one and exits with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from core.logs import setup_logging

NO_TOKEN = """\
Toonmatch needs a Discord bot token to run, and DISCORD_TOKEN is not set.

  1. Open https://discord.com/developers/applications → New Application → Bot → Reset Token, copy it.
  2. Put it in a .env file next to where you start the bot:   DISCORD_TOKEN=your-token
  3. Invite the bot with the scopes `bot applications.commands` (see docs/discord.md), then run `python -m bot`.

Without a token, `make demo` runs the offline demo instead.
"""


def setup_bot_logging(level: str, token: str, fmt: str = "text") -> None:
    """The shared set-up with the token redacted; discord.py's connection chatter stays at INFO or above; ``fmt``:
    ``TOONMATCH_LOG_FORMAT`` (text or json)."""
    floors = dict.fromkeys(("discord.http", "discord.gateway", "discord.client"), logging.INFO)
    setup_logging(level, token, floors=floors, fmt=fmt)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bot", description="Run the Toonmatch Discord bot.")
    p.add_argument(
        "action",
        nargs="?",
        choices=("run", "sync"),
        default="run",
        help="run the bot (default) or sync its application commands with Discord and exit",
    )
    p.add_argument("--run-dir", help="run folder to serve (overrides TOONMATCH_RUN_DIR)")
    p.add_argument("--database-url", help="database URL (overrides DATABASE_URL)")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING… (overrides TOONMATCH_LOG_LEVEL)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None, *, ready_event: Any = None, stop_event: Any = None) -> int:
    """Entry point; ``ready_event``/``stop_event`` let a test harness run it in a worker thread and stop it."""
    args = parse_args(argv)
    from pydantic import ValidationError

    from core.errors import ToonmatchError
    from core.settings import load_settings

    try:
        settings = load_settings(
            TOONMATCH_RUN_DIR=args.run_dir, DATABASE_URL=args.database_url, TOONMATCH_LOG_LEVEL=args.log_level
        )
    except ValidationError as exc:  # e.g. TOONMATCH_SHARD_IDS without TOONMATCH_SHARD_COUNT
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        print(f"error: bad settings (environment or .env): {problems}", file=sys.stderr)
        return 2
    token = settings.discord.token.get_secret_value().strip() if settings.discord.token else ""
    if not token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    setup_bot_logging(settings.log.level, token, settings.log.format)
    from bot.bot import run_bot, sync_only

    try:
        if args.action == "sync":
            n = asyncio.run(sync_only(settings))
            print(f"synced {n} application commands", file=sys.stderr)
        else:
            asyncio.run(run_bot(settings, ready_event=ready_event, stop_event=stop_event))
    except ToonmatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        import discord

        if isinstance(exc, discord.PrivilegedIntentsRequired):
            print(
                "error: TOONMATCH_MESSAGE_CONTENT is on but the Message Content Intent is not enabled for this bot; "
                "enable it in the developer portal (Bot tab) or set TOONMATCH_MESSAGE_CONTENT=false.",
                file=sys.stderr,
            )
            return 1
        if isinstance(exc, discord.LoginFailure):
            print(
                "error: Discord rejected the token (DISCORD_TOKEN); reset it in the developer portal.", file=sys.stderr
            )
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
