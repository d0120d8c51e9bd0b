"""The health and metrics server of a bot process (bot.health, bot.metrics), end to end on the fake Discord:
/metrics moves by exactly the interactions made, /readyz follows the gateway, the engine and the database, and an
address that cannot be bound stops the start with one line."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.__main__ import main
from db import Database, create_engine
from tests.bot.conftest import build_world, make_settings

FREE_PORT = "127.0.0.1:0"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page: (name, sorted labels) → value."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(page: dict, name: str, **labels: str) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


def total(page: dict, name: str, **labels: str) -> float:
    """The sum over every sample of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in page.items() if n == name and want <= set(ls))


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


@pytest.fixture
async def served(fake, db, recommender, tiny_run):
    world = await build_world(
        fake, db, recommender, make_settings(fake.token, tiny_run, TOONMATCH_METRICS_ADDRESS=FREE_PORT)
    )
    try:
        yield world
    finally:
        await world.close()


def _sfw_title(engine):
    return sorted((t for t in engine.titles.values() if not t.adult and t.title_en), key=lambda t: t.id)[0]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_metrics_move_by_exactly_the_interactions_made(served, bot_engine, sample_images):
    world, url = served, served.bot.health.url
    status, text = await get(f"{url}/metrics")
    assert status == 200
    before = samples(text)
    assert value(before, "toonmatch_engine_loaded") == 1
    assert value(before, "toonmatch_index_titles") == len(bot_engine.titles)
    info = [k for k in before if k[0] == "toonmatch_index_info"]
    assert info and dict(info[0][1])["generation"] == bot_engine.index.generation

    await world.run("help")  # answered
    rec = await world.run("recommend", {"title": _sfw_title(bot_engine).id})  # answered (model + cpu pool)
    await world.run("similar", {"image": world.attach("text", sample_images)})  # refused: not an image
    like = await world.fake.click(
        next(c for c in rec.original.custom_ids() if c.startswith("tm:rate:up:")),
        message=rec.original,
        user=world.alice,
    )
    await like.wait_response()  # a button of the asker's answer: answered
    await world.fake.autocomplete("recommend", "title", "a", user=world.alice)  # not counted

    after = samples((await get(f"{url}/metrics"))[1])

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("toonmatch_interactions_total") == 4
    assert moved("toonmatch_interactions_total", command="help", outcome="answered") == 1
    assert moved("toonmatch_interactions_total", command="recommend", outcome="answered") == 1
    assert moved("toonmatch_interactions_total", command="similar", outcome="refused", kind="bad_image") == 1
    assert moved("toonmatch_interactions_total", command="tm:rate", outcome="answered") == 1
    assert moved("toonmatch_interactions_total", outcome="failed") == 0
    assert moved("toonmatch_ack_latency_seconds_count") == 4  # every one acknowledged once
    assert moved("toonmatch_ack_latency_seconds_count", command="recommend") == 1
    assert moved("toonmatch_answer_latency_seconds_count") == 3  # the answered ones
    assert moved("toonmatch_answer_latency_seconds_sum", command="recommend") > 0
    batches = moved("toonmatch_model_batch_panels_count")
    assert batches == moved("toonmatch_executor_seconds_count", pool="model") == 1  # /recommend's cover
    assert moved("toonmatch_executor_seconds_count", pool="cpu") >= 2  # cover input, the answer, the sheet
    assert moved("toonmatch_discovery_posts_total") == 0 and moved("toonmatch_database_errors_total") == 0
    for key in after:  # bounded labels: no snowflake anywhere
        assert not any(v.isdigit() and len(v) >= 15 for _, v in key[1]), key
    count, p50, p99 = world.bot.metrics.window.summary()
    assert count == 3 and 0 < p50 <= p99


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_discovery_posts_and_rate_limits_are_counted(served):
    from tests.bot.exts.discovery.helpers import enable

    world, url = served, served.bot.health.url
    await enable(world)
    world.fake.rate_limit_global(limit=1, per=0.5)  # the bot learns this one only from a 429
    for _ in range(2):
        await world.run("discovery now", user=world.admin, timeout=60)
    page = samples((await get(f"{url}/metrics"))[1])
    assert value(page, "toonmatch_discovery_posts_total", outcome="posted") == 2
    assert total(page, "toonmatch_discord_rate_limits_total") >= 1  # a 429 was waited out
    assert world.fake.rate_limits.rejected


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_readyz_follows_the_database_and_the_gateway(served):
    world, url = served, served.bot.health.url
    status, _ = await get(f"{url}/healthz")
    assert status == 200
    status, body = await get(f"{url}/readyz")
    assert status == 200 and '"ready": true' in body

    # the database does not answer: a server that refuses connections
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    unreachable = Database(create_engine(f"postgresql+asyncpg://nobody:x@127.0.0.1:{closed_port}/none"))
    real, world.bot.db = world.bot.db, unreachable
    try:
        status, body = await get(f"{url}/readyz")
        assert status == 503 and "database does not answer" in body
    finally:
        world.bot.db = real
        await unreachable.aclose()
    assert (await get(f"{url}/readyz"))[0] == 200

    # the gateway connection drops and its RESUME is held: not ready until it is let through
    held, release = asyncio.Event(), asyncio.Event()
    handle = world.fake._gateway_op

    async def gate(conn, payload):
        if payload.get("op") in (2, 6):  # IDENTIFY, RESUME
            held.set()
            await release.wait()
        await handle(conn, payload)

    world.fake._gateway_op = gate
    try:
        await world.fake.drop_connection(4000)
        await asyncio.wait_for(held.wait(), 20)
        status, body = await get(f"{url}/readyz")
        assert status == 503 and "shard 0 is not connected" in body
    finally:
        release.set()
        world.fake._gateway_op = handle
    for _ in range(100):
        if (await get(f"{url}/readyz"))[0] == 200:
            break
        await asyncio.sleep(0.1)
    assert (await get(f"{url}/readyz"))[0] == 200
    assert samples((await get(f"{url}/metrics"))[1])[("toonmatch_database_errors_total", (("where", "readiness"),))]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_readyz_without_an_engine(fake, db, tiny_run):
    world = await build_world(fake, db, None, make_settings(fake.token, tiny_run, TOONMATCH_METRICS_ADDRESS=FREE_PORT))
    try:
        status, body = await get(f"{world.bot.health.url}/readyz")
        assert status == 503 and "model and index are not loaded" in body
    finally:
        await world.close()


@pytest.fixture
def bot_env(monkeypatch, tmp_path, tiny_run):
    for key in ("TOONMATCH_LOG_LEVEL", "TOONMATCH_MESSAGE_CONTENT", "TOONMATCH_LOG_FORMAT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOONMATCH_RUN_DIR", str(tiny_run))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'main.db'}")
    return monkeypatch


@pytest.mark.parametrize("address", ["in use", "192.0.2.1:9108"])
async def test_an_address_that_cannot_be_bound_stops_the_start_with_one_line(fake, bot_env, capsys, address):
    with contextlib.ExitStack() as stack:
        if address == "in use":
            busy = stack.enter_context(socket.socket())
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            address = f"127.0.0.1:{busy.getsockname()[1]}"
        bot_env.setenv("DISCORD_TOKEN", fake.token)
        bot_env.setenv("TOONMATCH_METRICS_ADDRESS", address)
        with fake.patch_discord():
            assert await asyncio.to_thread(main, []) == 1
    err = capsys.readouterr().err.strip()  # the log lines of the start, then the error
    last = err.splitlines()[-1]
    assert last.startswith("error: cannot listen on TOONMATCH_METRICS_ADDRESS") and address in last
    assert [line for line in err.splitlines() if line.startswith("error:")] == [last] and "Traceback" not in err
    assert not fake.connected


def test_a_malformed_address_is_a_bad_setting(bot_env, capsys):
    bot_env.setenv("DISCORD_TOKEN", "abc.def.ghi")
    bot_env.setenv("TOONMATCH_METRICS_ADDRESS", "localhost")
    assert main([]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "TOONMATCH_METRICS_ADDRESS" in err and "host:port" in err


def test_processes_of_one_host_get_ports_by_their_first_shard(tiny_run):
    from bot.health import metrics_address

    def addr(**extra):
        return metrics_address(make_settings("t", tiny_run, **extra))

    assert addr() is None  # the tests' default: off
    assert addr(TOONMATCH_METRICS_ADDRESS="127.0.0.1:9108") == ("127.0.0.1", 9108)
    assert addr(TOONMATCH_METRICS_ADDRESS="[::1]:9108", TOONMATCH_SHARD_COUNT=4) == ("::1", 9108)  # every shard
    part = dict(TOONMATCH_METRICS_ADDRESS="0.0.0.0:9108", TOONMATCH_SHARD_COUNT=4)
    assert addr(**part, TOONMATCH_SHARD_IDS="0-1") == ("0.0.0.0", 9108)
    assert addr(**part, TOONMATCH_SHARD_IDS="2-3") == ("0.0.0.0", 9110)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_readyz_of_a_process_running_two_shards_names_the_one_that_is_down(db, recommender, tiny_run):
    from bot.bot import BotOptions, make_bot
    from tests.bot.conftest import TEST_OPTIONS, roomy_fake

    async with roomy_fake(shard_count=2) as fake:
        for n in range(2):
            fake.add_guild(f"club {n}", shard=n)
        settings = make_settings(fake.token, tiny_run, TOONMATCH_SHARD_COUNT=2, TOONMATCH_METRICS_ADDRESS=FREE_PORT)
        options = BotOptions.from_settings(settings, **TEST_OPTIONS)
        bot = make_bot(settings, db=db, recommender=recommender, options=options)
        async with fake.run_client(bot):
            url = bot.health.url
            assert (await get(f"{url}/readyz"))[0] == 200
            assert value(samples((await get(f"{url}/metrics"))[1]), "toonmatch_shards_connected") == 2
            held, release = asyncio.Event(), asyncio.Event()
            handle = fake._gateway_op

            async def gate(conn, payload):
                if payload.get("op") in (2, 6):
                    held.set()
                    await release.wait()
                await handle(conn, payload)

            dropped = max(fake._live_sessions(), key=lambda s: s.attached_at).shard[0]  # what drop_connection drops
            fake._gateway_op = gate
            try:
                await fake.drop_connection(4000)
                await asyncio.wait_for(held.wait(), 20)
                status, body = await get(f"{url}/readyz")
                assert status == 503 and f"shard {dropped} is not connected" in body
                assert f"shard {1 - dropped} " not in body
                assert value(samples((await get(f"{url}/metrics"))[1]), "toonmatch_shards_connected") == 1
            finally:
                release.set()
                fake._gateway_op = handle
            for _ in range(100):
                if (await get(f"{url}/readyz"))[0] == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await get(f"{url}/readyz"))[0] == 200
