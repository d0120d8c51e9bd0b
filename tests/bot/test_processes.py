"""Two real bot processes, one shard each, on the fake Discord (running in this test process), one PostgreSQL database
and one run folder — the deployment of docs/deploy.md, end to end.

Each process is the real ``python -m bot`` (:mod:`tests.helpers.bot_process`: discord.py pointed at the fake) with
``TOONMATCH_SHARD_IDS=0`` / ``1`` of ``TOONMATCH_SHARD_COUNT=2``. The servers are spread over both shards. Checked: one
IDENTIFY per shard, commands synced once (by shard 0's process), every interaction answered exactly once by the
process of its server, a user's cooldown shared by both processes, each due discovery post made exactly once by the
process that owns the server, and a graceful stop on SIGTERM.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import aiohttp
import discord
import pytest

from db import open_database, queries
from tests.bot.conftest import roomy_fake
from tests.helpers.bot_process import BotProcess

SHARDS = 2
START_TIMEOUT = 180.0  # two processes loading TensorFlow and the run folder on 2 busy cores

pytestmark = pytest.mark.timeout(600)


def _ticks(proc: BotProcess) -> int:
    return proc.text().count("discovery tick:")


def _shard(guild) -> int:
    return (guild.id >> 22) % SHARDS


async def test_two_bot_processes_split_the_servers_and_share_one_database(
    new_database_url, tiny_run, sample_images, tmp_path
):
    url = await new_database_url("postgresql")
    async with await open_database(url) as db, roomy_fake(shard_count=SHARDS) as fake:
        guilds = [fake.add_guild(f"club {n}", shard=n % SHARDS) for n in range(4)]
        recs = {g.id: fake.add_channel(g, "recs") for g in guilds}
        admins = {
            g.id: fake.add_member(g, f"admin{n}", permissions=discord.Permissions(manage_guild=True))
            for n, g in enumerate(guilds)
        }
        alice = fake.add_user("alice")
        for g in guilds[:2]:  # one server on each shard
            fake.add_member(g, alice)

        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "DISCORD_TOKEN": fake.token,
            "DATABASE_URL": url,
            "TOONMATCH_RUN_DIR": str(tiny_run),
            "TOONMATCH_SHARD_COUNT": str(SHARDS),
            "TOONMATCH_COOLDOWN_USES": "1",
            "TOONMATCH_COOLDOWN_SECONDS": "600",
            "TOONMATCH_LOG_LEVEL": "DEBUG",
        }
        procs = [
            BotProcess(
                {**env, "TOONMATCH_SHARD_IDS": str(n)},
                tmp_path / f"shard-{n}.log",
                fake_url=fake.base_url,
                discovery_tick=0.5,
            )
            for n in range(SHARDS)
        ]
        try:
            for proc in procs:
                await proc.start()
            for proc in procs:
                await proc.wait_ready(START_TIMEOUT)

            # one IDENTIFY per shard; the commands synced once, by the process of shard 0
            assert sorted(p["shard"] for p in fake.identify_payloads) == [[0, 2], [1, 2]]
            assert len(fake.find_requests("PUT", r"^/applications/\d+/commands$")) == 1
            assert "synced 11 application commands" in procs[0].text()
            assert "synced by the process running shard 0" in procs[1].text()

            # each process serves /readyz and /metrics on a port of its own (127.0.0.1:0 here: any free one)
            for n, proc in enumerate(procs):
                url = re.search(r"health and metrics on (http://\S+) ", proc.text())[1]
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"{url}/readyz") as resp:
                        assert resp.status == 200, await resp.text()
                    async with http.get(f"{url}/metrics") as resp:
                        page = await resp.text()
                assert "toonmatch_shards_connected 1.0" in page and "toonmatch_engine_loaded 1.0" in page, (n, page)

            # discovery on in every server: each command reaches (only) the process that sees the server
            for guild in guilds:
                rec = await fake.slash_command(
                    "discovery set", {"channel": recs[guild.id], "every": 6}, user=admins[guild.id], guild=guild
                )
                assert "every 6 hours" in (await rec.wait_response(timeout=30)).content
                assert rec.shard == (_shard(guild), SHARDS)

            # one user, two servers on two shards (two processes), and DMs (shard 0): one cooldown window
            def image():
                return fake.add_attachment(sample_images["png"], "panel.png")

            first = await fake.slash_command(
                "genre", {"image": image()}, user=alice, guild=guilds[0], channel=recs[guilds[0].id]
            )
            assert (await first.wait_response(timeout=60)).embeds
            for where in ({"guild": guilds[1], "channel": recs[guilds[1].id]}, {"dm": True}):
                again = await fake.slash_command("genre", {"image": image()}, user=alice, **where)
                refusal = await again.wait_response(timeout=30)
                assert refusal.ephemeral and "try again in" in refusal.content
            assert [r.shard for r in fake.interactions[-2:]] == [(1, SHARDS), (0, SHARDS)]

            # every server due at once: each process posts for its own servers, each post made once
            for guild in guilds:
                await db.run(queries.reschedule, guild.id, datetime.now(UTC) - timedelta(minutes=1))
            await fake.wait_until(
                lambda: all(fake.channel_messages(recs[g.id]) for g in guilds),
                timeout=60,
                what="a post in every server",
            )
            seen = [_ticks(proc) for proc in procs]  # then let both processes tick twice more: nothing else comes
            await fake.wait_until(
                lambda: all(_ticks(p) >= n + 2 for p, n in zip(procs, seen, strict=True)), timeout=30, what="ticks"
            )
            for guild in guilds:
                [post] = fake.channel_messages(recs[guild.id])
                assert len(post.embeds) == 3 and len(await db.run(queries.posted_titles, guild.id)) == 3
                settings = await db.run(queries.get_guild_prefs, guild.id)
                assert settings.next_post_at > datetime.now(UTC) + timedelta(hours=5)
                posted = re.compile(rf"discovery in guild {guild.id}: posted")
                assert [bool(posted.search(p.text())) for p in procs] == [n == _shard(guild) for n in range(SHARDS)]

            assert all(len(rec.callback_attempts) == 1 for rec in fake.interactions)  # each answered exactly once
            assert not fake.unhandled_requests and not fake.errors
        finally:
            codes = [await proc.stop() for proc in procs if proc.proc is not None]
        assert codes == [0] * SHARDS, [p.text()[-3000:] for p in procs]
        for proc in procs:
            text = proc.text()
            assert "SIGTERM received" in text and "bot stopped" in text
            assert fake.token not in text
            assert not re.search(r"\b(ERROR|CRITICAL)\b", text), text[-4000:]
