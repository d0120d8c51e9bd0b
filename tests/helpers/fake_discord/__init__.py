"""In-process fake Discord for end-to-end tests of a real discord.py (2.7) bot.

One aiohttp server on ``127.0.0.1:<random port>`` plays Discord:

* **REST** under ``/api/v10``: ``GET /users/@me``, ``GET /oauth2/applications/@me`` (what ``login()``
  calls), ``GET /gateway[/bot]``, application commands (global + guild: bulk ``PUT``, ``GET``, ``POST``,
  ``PATCH``, ``DELETE``), ``POST /interactions/{id}/{token}/callback`` (JSON or multipart, honours
  ``?with_response=1`` like Discord), interaction webhooks (``POST /webhooks/{app}/{token}`` followups,
  ``GET/PATCH/DELETE .../messages/@original|{id}``), channel messages (``POST/GET/PATCH/DELETE``,
  history, typing, reactions), ``GET /channels/{id}``, guilds, roles, members, users, DM creation.
  Multipart bodies (``payload_json`` + ``files[n]``) are parsed and the file bytes stored.
  Discord's errors are reproduced where they catch real bugs: 401 bad token, 403 50001/50013 missing
  access/permissions (bot channel permissions incl. overwrites), 404 10003/10008/10015/10062,
  400 40060 "already acknowledged", 400 50035 invalid form body (content > 2000, embed limits,
  component rules, empty message, > 25 autocomplete choices, bad command definitions...), 413 for
  files > 10 MiB, and a **3 s acknowledgement deadline** (late callbacks get 404 10062 Unknown interaction).
  **Rate limits** when a test asks for them (``fake.rate_limit(route_regex, limit, per)`` per bucket,
  ``fake.rate_limit_global(limit, per)``): ``X-RateLimit-*`` headers, 429 with ``Retry-After`` and Discord's
  JSON body (``retry_after``, ``global``); ``fake.rate_limits.rejected`` lists the 429s (:mod:`.ratelimits`).
* a **CDN** (``/cdn/...``, ``/media/...``) serving attachments registered by tests or uploaded by the
  bot, so ``await attachment.read()`` works; ``attachment://name`` in embeds is resolved to the URL.
  ``fake.fail_cdn(att, mode, times=1)`` makes the next downloads of a file fail like a flaky CDN (``"reset"``
  mid-body, ``"stall"`` mid-body, ``"short"``: fewer bytes than ``Content-Length``, ``"status"``: a 5xx);
  ``fake.cdn_requests`` lists every download asked for.
* a **gateway** websocket (``/gateway/``): HELLO -> IDENTIFY -> READY (guilds unavailable) + one
  GUILD_CREATE per guild (channels with ``nsfw``, roles with permissions, the bot's member), heartbeat
  ACKs, RESUME (replays missed events, RESUMED), op 7/INVALID_SESSION, REQUEST_GUILD_MEMBERS, and
  ``compress=zlib-stream`` transport compression (binary frames ending in Z_SYNC_FLUSH), which is what
  discord.py 2.7 asks for when zstandard isn't installed (zstd-stream is used if ``zstandard`` is
  importable, else plain text frames, which discord.py also accepts). Interactions are dispatched as
  INTERACTION_CREATE; bot/user messages produce MESSAGE_CREATE/UPDATE/DELETE (content stripped for
  user messages without the MESSAGE_CONTENT intent, as Discord does).
* **shards**: a client may IDENTIFY with ``shard: [id, count]`` (discord.py's ``shard_id``/``shard_count``, or an
  ``AutoShardedClient``: one connection, IDENTIFY and READY per shard; an id outside the count is closed with 4010).
  Each guild's GUILD_CREATE, events and interactions go only to the connection of its shard
  ``(guild_id >> 22) % count``, DMs only to shard 0, as on Discord. ``FakeDiscord(shard_count=N)`` is what
  ``GET /gateway/bot`` recommends, ``add_guild(shard=n)`` makes a guild on shard ``n`` of it, and
  ``InteractionRecord.shard`` says which connection an interaction went to.

How discord.py is pointed at it (``fake.patch_discord()``, also applied by ``run_client`` and the
``fake_discord`` fixture) -- three class attributes, restored afterwards:

* ``discord.http.Route.BASE = fake.api_base`` (``http://127.0.0.1:PORT/api/v10``; the interaction
  callback / webhook routes use the same ``Route`` class);
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)`` -- discord.py 2.7's
  ``Client.connect()`` does not call ``/gateway/bot``; it connects to this URL directly (READY's
  ``resume_gateway_url`` also points at the fake);
* ``discord.asset.Asset.BASE = fake.cdn_base`` (avatars/icons).

Usage in a test (pytest-asyncio, ``asyncio_mode=auto``)::

    import discord
    from tests.helpers.fake_discord import FakeDiscord
    from tests.helpers.fake_discord.fixtures import fake_discord  # noqa: F401  (or pytest_plugins)

    async def test_discovery(fake_discord: FakeDiscord) -> None:  # noqa: F811
        fake = fake_discord
        guild = fake.add_guild("Webtoon Club")
        general = fake.add_channel(guild, "general")
        nsfw = fake.add_channel(guild, "after-dark", nsfw=True)
        alice = fake.add_member(guild, "alice")
        mod = fake.add_member(guild, "mod", permissions=discord.Permissions(manage_guild=True))
        image = fake.add_attachment(png_bytes, "panel.png", "image/png")

        async with fake.run_client(make_bot()) as bot:      # login + connect + wait on_ready; close on exit
            rec = await fake.slash_command("recommend", {"image": image}, user=alice)
            assert await rec.wait_acknowledged() < 3         # seconds from dispatch to the callback POST
            msg = await rec.wait_response(timeout=10)        # final visible original response
            assert msg.embeds and not msg.ephemeral and msg.custom_ids()
            click = await fake.click(msg.custom_ids()[0], user=alice)   # persistent button
            assert (await click.wait_response()).ephemeral

            rec = await fake.slash_command("discovery set", {"channel": general}, user=mod)
            (post,) = await fake.wait_channel_message(general, timeout=10)  # bot's own channel.send

            ac = await fake.autocomplete("recommend", "title", "tow")
            assert await ac.wait_choices()

            target = fake.user_message(general, "look", author=alice, attachments=[image])
            rec = await fake.context_menu("Find similar", target, user=alice)

Restarting the bot: leave the ``async with`` and enter another ``run_client(make_bot())`` against the
same fake; messages, registered commands and world state persist, so old buttons can be clicked.

Bot-side requirements / caveats:

* ``fake.token`` is the valid bot token (anything else: ``LoginFailure``). The bot user id equals the
  application id (``fake.application_id``), like modern Discord apps.
* Any intents work; privileged intents are allowed unless ``FakeDiscord(allowed_privileged_intents=0)``
  (then IDENTIFY is closed with 4014 like Discord). Without GUILD_MEMBERS, GUILD_CREATE contains only
  the bot's member (as on Discord); interaction payloads always carry the invoking member.
* ``run_client(fast_ready=True)`` sets ``client._connection.guild_ready_timeout = 0.05`` so ``on_ready``
  fires in ~50 ms instead of 2 s. Without ``run_client``: ``with fake.patch_discord(): await
  bot.login(fake.token); task = asyncio.create_task(bot.connect()); await bot.wait_until_ready()`` ...
  ``await bot.close(); await task``.
* Sync the command tree (e.g. ``await bot.tree.sync()`` in ``setup_hook``). Registered schemas type the
  option values (``{"channel": channel_obj_or_id}`` becomes a type-7 option + ``resolved.channels``) and
  let the fake enforce what the Discord client enforces: ``default_member_permissions``, ``contexts``/
  ``guild_only``, ``nsfw`` commands, required options, choices, min/max -> :class:`CommandNotAvailable`
  / :class:`FakeDiscordError` raised in the test. Unregistered commands are sent with inferred types.
* Acknowledge within ``fake.ack_deadline`` seconds (3.0, Discord's limit; ``None`` disables).
* Attachment URLs are ``http://127.0.0.1:PORT/cdn/attachments/...?ex=..&is=..&hm=..`` (not
  ``cdn.discordapp.com``): don't hard-validate the host in code under test.
* Check ``fake.unhandled_requests`` / ``fake.assert_healthy()`` (the fixture does it at teardown) to
  spot endpoints the bot uses that the fake lacks.
"""

from .models import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    RecordedRequest,
    StoredAttachment,
    StoredMessage,
)
from .records import InteractionRecord
from .server import CommandNotAvailable, FakeDiscord, FakeDiscordError

__all__ = [
    "CommandNotAvailable",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "InteractionRecord",
    "RecordedRequest",
    "StoredAttachment",
    "StoredMessage",
]
