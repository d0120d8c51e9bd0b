"""The optional "looks like…" replies to images posted in the discovery channel (message content intent on)."""

from __future__ import annotations

from tests.bot.conftest import build_world, make_settings
from tests.bot.exts.discovery.helpers import enable


async def test_looks_like_replies_to_images_in_the_discovery_channel(fake, db, recommender, tiny_run, sample_images):
    settings = make_settings(fake.token, tiny_run, TOONMATCH_MESSAGE_CONTENT="true")
    world = await build_world(fake, db, recommender, settings)
    try:
        await enable(world)
        att = world.attach("png", sample_images)
        world.fake.user_message(world.general, "elsewhere", author=world.bob, attachments=[att])
        world.fake.user_message(world.recs, "what is this?", author=world.bob, attachments=[att])
        [reply] = await world.fake.wait_channel_message(world.recs, timeout=20)
        assert reply.content.startswith("👀 Looks like") and reply.message_reference
        assert world.fake.channel_messages(world.general) == []
    finally:
        await world.stop()


async def test_discovery_is_one_extension_with_both_cogs(world):
    assert "bot.exts.discovery" in world.bot.extensions
    assert not any(name.startswith("bot.exts.discovery.") for name in world.bot.extensions)
    assert world.bot.get_cog("Discovery") is not None and world.bot.get_cog("LooksLike") is not None
