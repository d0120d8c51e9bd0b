"""The bot under Discord's rate limits: 429s (per route and global) are waited out by discord.py and every command is
still answered, without an error logged by the bot."""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.exts.discovery.helpers import enable

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

INTERACTION_WEBHOOKS = r"(POST|PATCH|DELETE) /webhooks/\d+/[^/]+(/messages/[^/]+)?"


async def test_commands_and_discovery_posts_are_answered_under_rate_limits(world, sample_images):
    await enable(world)
    world.fake.rate_limit(INTERACTION_WEBHOOKS, limit=1, per=0.3)  # one edit or follow-up per interaction per window
    world.fake.rate_limit(r"POST /channels/\d+/messages", limit=1, per=0.3)  # one post per channel per window
    world.fake.rate_limit_global(limit=1, per=0.5)  # the bot learns this one only from a 429
    images = [world.attach(kind, sample_images) for kind in ("png", "jpeg", "strip")]
    calls = [
        world.fake.slash_command("similar", {"image": image}, user=world.alice, guild=world.guild) for image in images
    ]
    calls.append(world.fake.slash_command("genre", {"image": images[0]}, user=world.bob, guild=world.guild))
    records = await asyncio.gather(*calls)
    posts = [world.run("discovery now", user=world.admin, timeout=60) for _ in range(2)]
    answers = await asyncio.gather(*(r.wait_response(timeout=60) for r in records), *posts)
    for msg in answers[: len(records)]:
        assert msg is not None and msg.embeds and not msg.deleted
    assert all(not rec.original.deleted for rec in answers[len(records) :])  # "discovery now" answered
    posted = await world.fake.wait_channel_message(world.recs, count=2, timeout=60)
    assert all(p.custom_ids() for p in posted)
    rejected = world.fake.rate_limits.rejected
    assert any(is_global for *_, is_global in rejected), rejected  # the global limit was hit and waited out
