"""Run at start-up by every Python process that has this folder on ``PYTHONPATH`` — the real ``python -m bot`` that
:mod:`tests.helpers.bot_process` starts. The bot has no test hooks; this points its discord.py at the fake Discord:

* ``TOONMATCH_FAKE_DISCORD=http://127.0.0.1:PORT``: REST ``Route.BASE``, the gateway and the CDN, for the whole
  process (:func:`tests.helpers.fake_discord.server.discord_pointed_at`);
* ``TOONMATCH_TEST_DISCOVERY_TICK=SECONDS``: the discovery loop looks for due servers that often (60 s in production),
  by defaulting the ``discovery_tick`` of :meth:`bot.bot.BotOptions.from_settings`.
"""

from __future__ import annotations

import os

_pointed = None  # the entered context (kept referenced: collecting it would restore discord.py's real URLs)

if os.environ.get("TOONMATCH_FAKE_DISCORD"):
    from tests.helpers.fake_discord.server import discord_pointed_at

    _pointed = discord_pointed_at(os.environ["TOONMATCH_FAKE_DISCORD"])
    _pointed.__enter__()

if os.environ.get("TOONMATCH_TEST_DISCOVERY_TICK"):
    from bot.bot import BotOptions

    _from_settings = BotOptions.from_settings.__func__
    _tick = float(os.environ["TOONMATCH_TEST_DISCOVERY_TICK"])

    def _with_test_tick(cls, settings, **overrides):
        return _from_settings(cls, settings, **{"discovery_tick": _tick, **overrides})

    BotOptions.from_settings = classmethod(_with_test_tick)
