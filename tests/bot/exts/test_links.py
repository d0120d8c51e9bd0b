"""/similar link: and /genre link: end to end: a link to an image on a 127.0.0.1 server (the fake's CDN)."""

from __future__ import annotations

import pytest_asyncio

from tests.bot.conftest import build_world, make_settings, select_options

CHANNEL_MESSAGE, DEFERRED = 4, 5


@pytest_asyncio.fixture
async def open_world(fake, db, recommender, tiny_run):
    """A bot with TOONMATCH_FETCH_ALLOW_PRIVATE on, as in a self-hosted setup."""
    w = await build_world(fake, db, recommender, make_settings(fake.token, tiny_run, TOONMATCH_FETCH_ALLOW_PRIVATE="1"))
    try:
        yield w
    finally:
        await w.stop()
    assert not fake.unhandled_requests, fake.unhandled_requests


async def test_a_link_to_a_local_server_is_refused_by_default(world, sample_images):
    url = world.fake.add_cdn_file("links/panel.png", sample_images["png"], "image/png")
    assert url.startswith("http://127.0.0.1:")
    rec = await world.run("similar", {"link": url})
    assert rec.callback_type == DEFERRED
    await rec.wait_followups(1)
    refusal = rec.followups[-1]
    assert refusal.ephemeral and "public internet" in refusal.content
    assert rec.original.deleted and not refusal.embeds


async def test_a_link_to_a_local_server_is_answered_with_the_setting_on(open_world, sample_images, cover_title):
    url = open_world.fake.add_cdn_file("links/panel.png", sample_images["png"], "image/png")
    rec = await open_world.run("similar", {"link": url})
    assert not rec.original.ephemeral and rec.original.embeds
    assert select_options(rec.original)[0]["value"] == cover_title.id  # the linked cover is the nearest


async def test_genre_link_is_answered(open_world, sample_images):
    url = open_world.fake.add_cdn_file("links/strip.png", sample_images["strip"], "image/png")
    rec = await open_world.run("genre", {"link": url})
    assert rec.original.embeds[0]["title"] == "Genre guess"


async def test_both_a_link_and_an_attachment_or_neither_is_refused_at_once(world, sample_images):
    for command in ("similar", "genre"):
        both = await world.run(
            command, {"image": world.attach("png", sample_images), "link": "https://example.com/a.png"}
        )
        assert both.callback_type == CHANNEL_MESSAGE and both.original.ephemeral
        assert "both an image and a link" in both.original.content
        neither = await world.run(command, {})
        assert neither.callback_type == CHANNEL_MESSAGE and neither.original.ephemeral
        assert "no image and no link" in neither.original.content


async def test_a_non_http_link_is_refused_at_once(world):
    rec = await world.run("similar", {"link": "file:///etc/passwd"})
    assert rec.callback_type == CHANNEL_MESSAGE and rec.original.ephemeral
    assert "http://" in rec.original.content
