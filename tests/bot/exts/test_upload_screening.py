"""Upload screening end to end: a run whose serving model has an ``nsfw`` output (``tests/helpers/nsfw_run.py``: a
plain red square looks explicit, covers do not), the real bot, the fake Discord.

Outside age-restricted channels an explicit-looking upload is left off the contact sheet, the titles are answered
anyway and only the asker is told why; age-restricted channels, DMs and private answers keep it; a run without the
output changes nothing."""

from __future__ import annotations

import asyncio
import io

import pytest
import pytest_asyncio
from PIL import Image

from bot import embeds
from ml.serve.recommender import Recommender
from tests.bot.conftest import build_world, make_settings, on_both_runs, select_options
from tests.conftest import NSFW_RUNS
from tests.helpers.nsfw_run import red_square, shows_query_tile

SETTLE = 0.5  # seconds to wait for a notice that must not come


ON_BOTH_NSFW_RUNS = on_both_runs("screening_run", NSFW_RUNS)


@pytest.fixture(scope="session")
def screening_run(request):
    """A run with the controllable nsfw head: from scratch (``nsfw_run``) or through the pretrained path."""
    return request.getfixturevalue(getattr(request, "param", "nsfw_run"))


@pytest.fixture(scope="session")
def screening_engine(screening_run):
    from ml.serve.engine import Engine

    return Engine.load(screening_run)


@pytest_asyncio.fixture
async def screening(fake, db, screening_engine, screening_run):
    """The world of the bot tests, serving the run with the nsfw output (default threshold 0.9)."""
    recommender = Recommender(screening_engine, max_batch=32, max_wait_ms=2.0)
    world = await build_world(fake, db, recommender, make_settings(fake.token, screening_run))
    try:
        yield world
    finally:
        await world.close()
        await recommender.aclose()
    assert not fake.unhandled_requests, fake.unhandled_requests


def explicit_upload(world):
    return world.fake.add_attachment(red_square(), "red.png", "image/png")


def sheet_of(message) -> bytes:
    [name] = [n for n in message.filenames if n.startswith("toonmatch.")]
    return message.files[name]


def assert_full_answer(message):
    assert not message.deleted and message.embeds
    assert len(select_options(message)) == 24  # the titles are answered all the same


@ON_BOTH_NSFW_RUNS
async def test_explicit_upload_in_a_normal_channel_is_left_off_the_sheet(screening):
    rec = await screening.run("similar", {"image": explicit_upload(screening)}, channel=screening.general)
    answer = rec.original
    assert not answer.ephemeral
    assert_full_answer(answer)
    assert not shows_query_tile(sheet_of(answer))  # the results alone fill the grid
    followups = await rec.wait_followups(2)
    notice = followups[-1]
    assert notice is not answer and notice.ephemeral  # only the asker hears why
    assert notice.content == embeds.UPLOAD_LEFT_OUT and "explicit" in notice.content
    assert not notice.files and not notice.embeds
    assert screening.fake.channel_messages(screening.general) == []  # nothing else was posted in the channel


@ON_BOTH_NSFW_RUNS
async def test_explicit_upload_in_an_age_restricted_channel_keeps_its_tile(screening):
    rec = await screening.run("similar", {"image": explicit_upload(screening)}, channel=screening.adult)
    assert_full_answer(rec.original)
    assert shows_query_tile(sheet_of(rec.original))
    await asyncio.sleep(SETTLE)
    assert rec.followups == [rec.original]  # no notice


@ON_BOTH_NSFW_RUNS
async def test_a_safe_upload_keeps_its_tile(screening, sample_images):
    rec = await screening.run("similar", {"image": screening.attach("png", sample_images)})
    assert_full_answer(rec.original)
    assert shows_query_tile(sheet_of(rec.original))
    await asyncio.sleep(SETTLE)
    assert rec.followups == [rec.original]


@ON_BOTH_NSFW_RUNS
async def test_a_private_answer_keeps_the_tile_only_the_asker_sees(screening):
    rec = await screening.run("similar", {"image": explicit_upload(screening), "private": True})
    assert rec.original.ephemeral and shows_query_tile(sheet_of(rec.original))
    await asyncio.sleep(SETTLE)
    assert rec.followups == [rec.original]


@ON_BOTH_NSFW_RUNS
async def test_in_a_dm_the_tile_stays(screening):
    rec = await screening.fake.slash_command(
        "similar", {"image": explicit_upload(screening)}, dm=True, user=screening.alice
    )
    message = await rec.wait_response(timeout=20)
    assert_full_answer(message)
    assert shows_query_tile(sheet_of(message))
    await asyncio.sleep(SETTLE)
    assert rec.followups == [message]


@ON_BOTH_NSFW_RUNS
async def test_the_context_menu_screens_the_image_of_the_message(screening):
    target = screening.fake.user_message(
        screening.general, "hm", author=screening.bob, attachments=[explicit_upload(screening)]
    )
    rec = await screening.fake.context_menu("Find similar webtoons", target, user=screening.alice)
    answer = await rec.wait_response(timeout=20)
    assert_full_answer(answer)
    assert not shows_query_tile(sheet_of(answer))
    notice = (await rec.wait_followups(2))[-1]
    assert notice.ephemeral and notice.content == embeds.UPLOAD_LEFT_OUT


@ON_BOTH_NSFW_RUNS
async def test_genre_shows_no_image_so_it_is_answered_as_ever(screening):
    rec = await screening.run("genre", {"image": explicit_upload(screening)})
    assert rec.original.embeds[0]["title"] == "Genre guess" and not rec.original.files
    await asyncio.sleep(SETTLE)
    assert rec.followups == [rec.original]


@ON_BOTH_NSFW_RUNS
async def test_the_threshold_is_a_setting(fake, db, screening_engine, screening_run):
    red_panel = io.BytesIO()
    Image.new("RGB", (200, 280), (255, 0, 0)).save(red_panel, "PNG")  # white letterbox bars: a little less explicit
    assert 0.99 < screening_engine.similar(red_panel.getvalue()).screen.explicit < 0.9999
    recommender = Recommender(screening_engine, max_batch=32, max_wait_ms=2.0)
    settings = make_settings(fake.token, screening_run, TOONMATCH_NSFW_THRESHOLD="0.9999")
    assert settings.discord.nsfw_threshold == 0.9999
    world = await build_world(fake, db, recommender, settings)
    try:
        rec = await world.run("similar", {"image": world.fake.add_attachment(red_panel.getvalue(), "red.png")})
        assert shows_query_tile(sheet_of(rec.original))
        await asyncio.sleep(SETTLE)
        assert rec.followups == [rec.original]
    finally:
        await world.close()
        await recommender.aclose()


async def test_a_run_without_nsfw_output_changes_nothing(world):
    assert not world.recommender.engine.screens_uploads
    rec = await world.run("similar", {"image": explicit_upload(world)}, channel=world.general)
    assert_full_answer(rec.original)
    assert shows_query_tile(sheet_of(rec.original))
    await asyncio.sleep(SETTLE)
    assert rec.followups == [rec.original]


async def test_a_picture_that_does_not_look_drawn_is_answered_with_an_honest_note(
    fake, db, screening_engine, nsfw_run, sample_images
):
    """The red-is-porn head calls covers Neutral (Drawing + Hentai ≈ 0.04) and the red square Porn (≈ 0): with the
    threshold between the two, only the red square gets the note, and both get their answer."""
    cover = screening_engine.similar(sample_images["png"]).screen.drawn
    red = screening_engine.similar(red_square()).screen.drawn
    assert red < 0.01 < cover
    recommender = Recommender(screening_engine, max_batch=32, max_wait_ms=2.0)
    world = await build_world(fake, db, recommender, make_settings(fake.token, nsfw_run, TOONMATCH_NOT_DRAWING="0.01"))
    try:
        photo = await world.run("similar", {"image": explicit_upload(world)}, channel=world.adult)
        drawing = await world.run("similar", {"image": world.fake.add_attachment(sample_images["png"], "c.png")})
        assert embeds.NOT_A_DRAWING in photo.original.embeds[0]["description"]
        assert_full_answer(photo.original)
        assert embeds.NOT_A_DRAWING not in drawing.original.embeds[0]["description"]
    finally:
        await world.stop()
        await recommender.aclose()
