"""Hot reload: a running bot on the fake Discord picks up a refreshed catalogue without a restart.

The bot serves a copy of the versioned v1 run; the test refreshes it to v2 at the replay server (the real
``catalog.scrape.refresh`` + ``ml.train.refresh``) while the bot runs, and the bot swaps the new generation in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
from pathlib import Path

import pytest
import pytest_asyncio

from catalog.format import load_catalog
from catalog.scrape.refresh import refresh_catalog
from ml.serve.engine import Engine
from ml.serve.index import CURRENT_FILE, INDEX_DIR, current_generation
from ml.train.refresh import refresh_index
from tests.bot.conftest import build_world, custom_ids, make_recommender, make_settings, select_options
from tests.catalog.scrape.replay_server import ReplayServer
from tests.helpers.catalogue_versions import NEW, REMOVED, TURNED_ADULT, cid, copy_world, dataset_v2, scrape_config


@pytest.fixture
def backend():
    return "sqlite"


@pytest_asyncio.fixture
async def served(versioned_v1, tmp_path):
    return copy_world(versioned_v1, tmp_path)


async def make_world(fake, db, served, reload_seconds: float):
    engine = await asyncio.to_thread(Engine.load, served.run)
    recommender = make_recommender(engine)
    settings = make_settings(fake.token, served.run, TOONMATCH_RELOAD_SECONDS=str(reload_seconds))
    world = await build_world(fake, db, recommender, settings)
    return world, recommender


async def refresh_to_v2(served) -> str:
    """Refresh the served copy to catalogue v2 (source, then index); returns the new generation."""
    server = ReplayServer(dataset_v2())
    await server.start()
    try:
        await refresh_catalog(scrape_config(server.base, served.catalog))
    finally:
        await server.close()
    result = await asyncio.to_thread(refresh_index, served.run, served.catalog, progress=False)
    assert result.generation is not None
    return result.generation


async def cover_upload(served, title_id: str) -> bytes:
    return Path(load_catalog(served.catalog).by_id()[title_id].cover).read_bytes()


async def test_a_refresh_is_served_without_restart(fake, db, served):
    world, recommender = await make_world(fake, db, served, reload_seconds=0.3)
    try:
        removed_cover = await cover_upload(served, cid(REMOVED))
        before = await world.run("similar", {"image": fake.add_attachment(removed_cover, "removed.png")})
        assert cid(REMOVED) in [o["value"] for o in select_options(before.original)]
        new_name = "새로운 용사"
        typed = await fake.autocomplete("recommend", "title", new_name, user=world.alice)
        assert cid(NEW[0]) not in [c["value"] for c in await typed.wait_choices()]

        generation = await refresh_to_v2(served)
        await fake.wait_until(lambda: recommender.generation == generation, timeout=30, what="the reload")
        assert world.starts == 1  # no restart

        typed = await fake.autocomplete("recommend", "title", new_name, user=world.alice)
        assert cid(NEW[0]) in [c["value"] for c in await typed.wait_choices()]
        rec = await world.run("recommend", {"title": cid(NEW[0])})
        assert not rec.original.ephemeral and new_name in rec.original.embeds[0]["title"]
        options = [o["value"] for o in select_options(rec.original)]
        assert options and cid(REMOVED) not in options and cid(TURNED_ADULT) not in options

        # the removed title: never answered, and the buttons of the old answer say why
        gone = await world.run("recommend", {"title": cid(REMOVED)})
        assert gone.original.ephemeral and "no longer listed" in gone.original.content
        again = await world.run("similar", {"image": fake.add_attachment(removed_cover, "removed.png")})
        assert cid(REMOVED) not in [o["value"] for o in select_options(again.original)]
        rate = f"tm:rate:up:{cid(REMOVED)}"
        assert rate in custom_ids(before.original, "tm:rate:")
        click = await fake.click(rate, message=before.original, user=world.alice)
        reply = await click.wait_response(timeout=20)
        assert reply.ephemeral and "no longer listed" in reply.content
        pick = await fake.select(f"tm:pick:{world.alice.id}", [cid(REMOVED)], message=before.original, user=world.alice)
        reply = await pick.wait_response(timeout=20)
        assert reply.ephemeral and "no longer listed" in reply.content

        # the adult flag: refused outside age-restricted channels, answered inside (the server allows them)
        await world.run("settings adult", {"allowed": True}, user=world.admin)
        adult = await world.run("recommend", {"title": cid(TURNED_ADULT)}, channel=world.general)
        assert adult.original.ephemeral and "adults" in adult.original.content
        ok = await world.run("recommend", {"title": cid(TURNED_ADULT)}, channel=world.adult)
        assert not ok.original.ephemeral and ok.original.embeds
    finally:
        await world.close()
        await recommender.aclose()


async def test_similar_requests_in_flight_across_a_swap_are_all_answered(fake, db, served):
    world, recommender = await make_world(fake, db, served, reload_seconds=0)  # SIGHUP only
    try:
        generation = await refresh_to_v2(served)
        await asyncio.sleep(0.5)
        assert recommender.generation != generation  # not polled: waits for SIGHUP
        upload = await cover_upload(served, cid(1010))
        users = [fake.add_member(world.guild, f"user{n}") for n in range(10)]

        async def ask(n: int):
            att = fake.add_attachment(upload, f"panel{n}.png")
            rec = await fake.slash_command(
                "similar", {"image": att}, user=users[n % 10], guild=world.guild, channel=world.general
            )
            await rec.wait_response(timeout=120)
            return rec

        tasks = [asyncio.create_task(ask(n)) for n in range(100)]
        await asyncio.sleep(0.2)
        os.kill(os.getpid(), signal.SIGHUP)  # the swap, while requests are in flight
        await fake.wait_until(lambda: recommender.reloads == 1, timeout=60, what="the reload")
        in_flight = sum(not t.done() for t in tasks)
        assert in_flight > 0, "every request was answered before the swap: nothing was in flight"
        records = await asyncio.gather(*tasks)
        assert recommender.generation == generation and recommender.reloads == 1
        for rec in records:
            msg = rec.original
            assert msg is not None and not msg.ephemeral and msg.embeds, msg
            assert len(select_options(msg)) == 24
    finally:
        await world.close()
        await recommender.aclose()


@pytest.mark.parametrize("damage", ["missing index", "wrong dimension", "unreadable catalogue"])
async def test_a_broken_generation_is_refused_and_the_old_one_keeps_serving(fake, db, served, caplog, damage):
    world, recommender = await make_world(fake, db, served, reload_seconds=0)
    try:
        old = recommender.generation
        root = served.run / INDEX_DIR
        broken = "99990101T000000000000Z-1"
        shutil.copytree(root / old, root / broken)
        if damage == "missing index":
            (root / broken / "index.ann").unlink()
        elif damage == "wrong dimension":
            ids = json.loads((root / broken / "ids.json").read_text())
            ids["dim"] += 3
            ids["center"] += [0.0, 0.0, 0.0]
            (root / broken / "ids.json").write_text(json.dumps(ids))
        else:
            (root / broken / "catalog.jsonl").write_text("{not json\n")
        (root / CURRENT_FILE).write_text(broken + "\n")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            assert await world.bot.reloader.check() == "refused"
            assert await world.bot.reloader.check() == "refused"  # the ERROR is said once
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and broken in errors[0].getMessage() and old in errors[0].getMessage()
        assert recommender.generation == old and current_generation(served.run) == broken
        rec = await world.run("recommend", {"title": cid(1010)})
        assert not rec.original.ephemeral and len(select_options(rec.original)) == 24
    finally:
        await world.close()
        await recommender.aclose()


async def test_discovery_posts_new_titles_first_marked_and_never_removed_ones(fake, db, served):
    world, recommender = await make_world(fake, db, served, reload_seconds=0.3)
    try:
        generation = await refresh_to_v2(served)
        await fake.wait_until(lambda: recommender.generation == generation, timeout=30, what="the reload")
        await world.run("discovery set", {"channel": world.recs, "every": 6}, user=world.admin)
        await world.run("discovery now", user=world.admin)
        [post] = fake.channel_messages(world.recs)
        first = [c.split(":", 3)[3] for c in post.custom_ids() if c.startswith("tm:rate:up:")]
        assert set(first) == {cid(t) for t in NEW}  # a server without likes yet: the new titles first
        assert all(e["title"].split(". ", 1)[1].startswith("🆕 ") for e in post.embeds)
        posted = set(first)
        for _ in range(12):  # post until nothing is left: the removed title never comes
            rec = await world.run("discovery now", user=world.admin)
            if "Posted" not in rec.original.content:
                break
            latest = fake.channel_messages(world.recs)[-1]
            batch = {c.split(":", 3)[3] for c in latest.custom_ids() if c.startswith("tm:rate:up:")}
            assert not any(e["title"].split(". ", 1)[1].startswith("🆕") for e in latest.embeds)
            posted |= batch
        assert len(posted) > 3 and cid(REMOVED) not in posted and cid(TURNED_ADULT) not in posted
    finally:
        await world.close()
        await recommender.aclose()
