"""A flaky CDN end to end: reset, stalled and truncated image downloads get a clear "try again", ephemerally, with one
WARNING line at most and no traceback, within the download timeout; and the bot keeps serving afterwards.

The database plays no part here, so these run on SQLite only.
"""

from __future__ import annotations

import logging

import pytest

from tests.bot.conftest import build_world, make_settings

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

DEFERRED = 5
TRY_AGAIN = "couldn't download that image — try again"
FAULTS = ["reset", "stall", "short", "status"]


@pytest.fixture
async def flaky(fake, db, recommender, tiny_run):
    """The world, with a short download timeout: a stalled download gives up after 2 s (room enough for a good
    download on a busy machine)."""
    settings = make_settings(fake.token, tiny_run, TOONMATCH_DOWNLOAD_TIMEOUT="2", TOONMATCH_MESSAGE_CONTENT="true")
    world = await build_world(fake, db, recommender, settings)
    try:
        yield world
    finally:
        await world.close()
    assert not fake.unhandled_requests, fake.unhandled_requests


def _bot_logs(caplog, level=logging.WARNING):
    return [r for r in caplog.get_records("call") if r.name.startswith("bot") and r.levelno >= level]


def _assert_one_warning_line(caplog, *needles: str) -> None:
    [line] = _bot_logs(caplog)
    assert line.levelno == logging.WARNING and line.exc_info is None  # no traceback
    message = line.getMessage()
    assert "\n" not in message and all(n in message for n in needles), message


async def _refused(world, rec) -> str:
    assert rec.callback_type == DEFERRED  # the download starts after the "thinking…"
    await rec.wait_followups(1)
    assert rec.original.deleted  # the public placeholder is gone ...
    refusal = rec.followups[-1]
    assert refusal.ephemeral  # ... and only the user reads why
    return refusal.content


@pytest.mark.parametrize("mode", FAULTS)
async def test_similar_says_try_again_when_the_cdn_fails_and_then_answers(flaky, sample_images, caplog, mode):
    att = flaky.attach("png", sample_images)
    flaky.fake.fail_cdn(att, mode)
    rec = await flaky.run("similar", {"image": att})
    assert TRY_AGAIN in await _refused(flaky, rec)
    _assert_one_warning_line(caplog, str(rec.id), "couldn't download")

    again = await flaky.run("similar", {"image": att})  # the user tries again: the bot still serves
    assert again.original.embeds and not again.original.ephemeral
    assert flaky.fake.cdn_requests.count(flaky.fake._cdn_path(att)) == 2


async def test_genre_and_the_context_menu_on_an_embed_fail_the_same_way(flaky, sample_images, caplog):
    att = flaky.attach("png", sample_images)
    flaky.fake.fail_cdn(att, "reset")
    rec = await flaky.run("genre", {"image": att})
    assert TRY_AGAIN in await _refused(flaky, rec)

    url = flaky.fake.add_cdn_file("external/cover.png", sample_images["png"], "image/png")
    flaky.fake.fail_cdn(url, "short")
    target = flaky.fake.user_message(flaky.general, "look", author=flaky.bob, embeds=[flaky.fake.image_embed(url)])
    menu = await flaky.fake.context_menu("Find similar webtoons", target, user=flaky.alice)
    await menu.wait_response()
    assert TRY_AGAIN in await _refused(flaky, menu)
    assert len(_bot_logs(caplog)) == 2 and not _bot_logs(caplog, logging.ERROR)

    menu = await flaky.fake.context_menu("Find similar webtoons", target, user=flaky.alice)
    assert (await menu.wait_response()).embeds


@pytest.mark.parametrize("mode", ["reset", "stall"])
async def test_looks_like_skips_an_image_it_cannot_download_then_replies_to_the_next(
    flaky, sample_images, caplog, mode
):
    await flaky.run("discovery set", {"channel": flaky.recs, "every": 6}, user=flaky.admin)
    broken = flaky.attach("png", sample_images)
    flaky.fake.fail_cdn(broken, mode)
    first = flaky.fake.user_message(flaky.recs, "what is this?", author=flaky.bob, attachments=[broken])
    await flaky.fake.wait_until(lambda: _bot_logs(caplog), timeout=10)
    _assert_one_warning_line(caplog, str(first.id), "looks-like reply skipped", "couldn't download")

    fine = flaky.attach("jpeg", sample_images)
    flaky.fake.user_message(flaky.recs, "and this?", author=flaky.alice, attachments=[fine])
    [reply] = await flaky.fake.wait_channel_message(flaky.recs, timeout=20)
    assert reply.content.startswith("👀 Looks like") and reply.message_reference["message_id"] != str(first.id)
