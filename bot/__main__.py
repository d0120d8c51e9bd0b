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

NO_TOKEN = """\
Toonmatch needs a Discord bot token to run, and DISCORD_TOKEN is not set.

  1. Open https://discord.com/developers/applications → New Application → Bot → Reset Token, copy it.
  2. Put it in a .env file next to where you start the bot:   DISCORD_TOKEN=your-token
  3. Invite the bot with the scopes `bot applications.commands` (see docs/discord.md), then run `python -m bot`.

Without a token, `make demo` runs the offline demo instead.
"""


class RedactSecrets(logging.Filter):
    """Replace secrets (the bot token) in every log record, a safety net should anything ever log one."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error reporting
            return True
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "[REDACTED]")
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, "[REDACTED]")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(level: str, *secrets: str) -> None:
    """Root logging to stderr; the token is redacted by a filter on every root handler (handler filters see the
    records of all child loggers). Handlers installed by others (e.g. a test harness) are kept."""
    root = logging.getLogger()
    if not any(getattr(h, "_toonmatch", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        handler._toonmatch = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    redact = RedactSecrets(*secrets)
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, RedactSecrets)]
        handler.addFilter(redact)
    root.setLevel(level.upper())
    logging.getLogger("discord.http").setLevel(max(logging.INFO, root.level))
    for name in ("discord.gateway", "discord.client"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))


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
    from core.errors import ToonmatchError
    from core.settings import load_settings

    settings = load_settings(
        TOONMATCH_RUN_DIR=args.run_dir, DATABASE_URL=args.database_url, TOONMATCH_LOG_LEVEL=args.log_level
    )
    token = settings.discord.token.get_secret_value().strip() if settings.discord.token else ""
    if not token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    setup_logging(settings.log.level, token)
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
