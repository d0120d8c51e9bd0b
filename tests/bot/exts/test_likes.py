"""/likes (paged, remove buttons) and /forget-me (confirm, export, cancel) end to end."""

from __future__ import annotations

import json

from db import queries


async def _rate_many(world, user, n: int) -> list[str]:
    ids = sorted(world.recommender.titles)[:n]
    async with world.db.begin() as session:
        for i, tid in enumerate(ids):
            await queries.rate(session, user.id, tid, 1 if i % 2 == 0 else -1)
    return ids


async def test_likes_when_nothing_rated(world):
    rec = await world.run("likes")
    assert rec.original.ephemeral and "haven't rated anything" in rec.original.embeds[0]["description"]
    assert not rec.original.components


async def test_likes_lists_ratings_with_remove_buttons_and_removes(world):
    ids = await _rate_many(world, world.alice, 3)
    rec = await world.run("likes")
    msg = rec.original
    assert msg.ephemeral and "Your ratings (3)" in msg.embeds[0]["title"]
    removes = [c for c in msg.custom_ids() if c.startswith("tm:unrate:")]
    assert len(removes) == 3
    victim = removes[0].split(":", 3)[3]
    click = await world.fake.click(removes[0], message=msg, user=world.alice)
    await click.wait_response()
    assert click.callback_type == 7  # the list is redrawn in place
    assert "Your ratings (2)" in msg.embeds[0]["title"]
    remaining = await world.db.run(queries.user_taste, world.alice.id)
    assert victim not in remaining.liked + remaining.disliked
    assert len(remaining.liked + remaining.disliked) == 2 and victim in ids


async def test_likes_pages_through_many_ratings(world):
    await _rate_many(world, world.alice, 13)
    rec = await world.run("likes")
    msg = rec.original
    assert len([c for c in msg.custom_ids() if c.startswith("tm:unrate:0:")]) == 10
    click = await world.fake.click("tm:likes:next:10", message=msg, user=world.alice)
    await click.wait_response()
    assert len([c for c in msg.custom_ids() if c.startswith("tm:unrate:10:")]) == 3
    assert "11–13 of 13" in msg.embeds[0]["footer"]["text"]
    back = await world.fake.click("tm:likes:prev:0", message=msg, user=world.alice)
    await back.wait_response()
    assert "1–10 of 13" in msg.embeds[0]["footer"]["text"]


async def test_forget_me_asks_then_deletes_everything(world, sample_images):
    await _rate_many(world, world.alice, 2)
    await world.run("similar", {"image": world.attach("png", sample_images)})
    bob_ids = await _rate_many(world, world.bob, 1)
    rec = await world.run("forget-me")
    msg = rec.original
    assert msg.ephemeral and "your 2 ratings" in msg.embeds[0]["description"]
    assert (await world.db.run(queries.export_user, world.alice.id))["shown"]  # nothing deleted before confirming
    click = await world.fake.click(f"tm:forget:confirm:{world.alice.id}", message=msg, user=world.alice)
    await click.wait_response()
    assert "no longer knows anything about you" in msg.content and not msg.components
    exported = await world.db.run(queries.export_user, world.alice.id)
    assert exported["ratings"] == [] and exported["shown"] == [] and exported["memberships"] == []
    assert (await world.db.run(queries.user_taste, world.bob.id)).liked == bob_ids  # others untouched


async def test_forget_me_export_and_cancel(world):
    await _rate_many(world, world.alice, 1)
    rec = await world.run("forget-me")
    export = await world.fake.click(f"tm:forget:export:{world.alice.id}", message=rec.original, user=world.alice)
    file_msg = await export.wait_response()
    assert file_msg.ephemeral
    data = json.loads(next(iter(file_msg.files.values())))
    assert data["user_id"] == str(world.alice.id) and len(data["ratings"]) == 1
    cancel = await world.fake.click(f"tm:forget:cancel:{world.alice.id}", message=rec.original, user=world.alice)
    await cancel.wait_response()
    assert "nothing was deleted" in rec.original.content
    assert len((await world.db.run(queries.user_taste, world.alice.id)).liked) == 1


async def test_forget_me_buttons_refuse_other_users(world):
    await _rate_many(world, world.alice, 1)
    rec = await world.run("forget-me")
    click = await world.fake.click(f"tm:forget:confirm:{world.alice.id}", message=rec.original, user=world.bob)
    msg = await click.wait_response()
    assert msg.ephemeral and "someone else" in msg.content
    assert len((await world.db.run(queries.user_taste, world.alice.id)).liked) == 1
