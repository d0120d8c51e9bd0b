"""End-to-end tests of the fake Discord with a real discord.py ``commands.Bot``."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import logging
import warnings
from types import SimpleNamespace

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from PIL import Image

from tests.helpers.fake_discord import CommandNotAvailable, FakeDiscord, FakeDiscordError
from tests.helpers.fake_discord.fixtures import fake_discord  # noqa: F401

pytestmark = pytest.mark.timeout(30)


def png_bytes(width: int = 8, height: int = 6, color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


class ShowButton(discord.ui.DynamicItem[discord.ui.Button], template=r"show:(?P<n>\d+)"):
    """A persistent button: works after a restart because the state lives in the custom_id."""

    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label=f"Show {n}", style=discord.ButtonStyle.primary, custom_id=f"show:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match, /):
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"shown {self.n} to {interaction.user.name}", ephemeral=True)


class Feedback(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="What do you think?", custom_id="feedback:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


TITLES = ["Tower of God", "True Beauty", "Lore Olympus", "Omniscient Reader", "Solo Leveling"]


def make_bot(events: list[str] | None = None) -> commands.Bot:
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
    events = events if events is not None else []

    async def setup_hook() -> None:
        bot.add_dynamic_items(ShowButton)
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]

    @bot.event
    async def on_ready() -> None:
        events.append("ready")

    @bot.tree.command(name="render", description="Defer, then send a file and a persistent button")
    async def render(interaction: discord.Interaction, n: int) -> None:
        await interaction.response.defer(thinking=True)
        view = discord.ui.View(timeout=None)
        view.add_item(ShowButton(n))
        await interaction.followup.send(
            f"rendered {n}", file=discord.File(io.BytesIO(png_bytes()), filename="render.png"), view=view
        )

    @bot.tree.command(name="secret", description="Ephemeral reply")
    async def secret(interaction: discord.Interaction) -> None:
        perms = interaction.permissions
        await interaction.response.send_message(
            f"psst {interaction.user.name} manage_guild={perms.manage_guild}",
            ephemeral=True,
            file=discord.File(io.BytesIO(b"top secret"), filename="secret note.txt"),
        )

    @bot.tree.command(name="search", description="Search titles")
    async def search(interaction: discord.Interaction, title: str) -> None:
        await interaction.response.send_message(f"searching {title}")

    @search.autocomplete("title")
    async def search_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TITLES if current.lower() in t.lower()][:25]

    discovery = app_commands.Group(
        name="discovery",
        description="Discovery channel settings",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @discovery.command(name="set", description="Set the discovery channel")
    async def discovery_set(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        resolved = interaction.guild.get_channel(channel.id)
        await interaction.response.send_message(
            f"discovery={channel.name} nsfw={channel.nsfw} cached={resolved is not None} "
            f"here_nsfw={interaction.channel.nsfw}",
            ephemeral=True,
        )

    bot.tree.add_command(discovery)

    @bot.tree.command(name="post", description="Post an embed with an image to a channel")
    async def post(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        target = bot.get_channel(channel.id)
        embed = discord.Embed(title="New webtoon", description="Looks like Tower of God")
        embed.set_image(url="attachment://cover.png")
        msg = await target.send(embed=embed, file=discord.File(io.BytesIO(png_bytes(4, 4)), filename="cover.png"))
        data = await msg.attachments[0].read()
        await interaction.edit_original_response(content=f"posted {msg.id} ({len(data)} bytes)")

    @bot.tree.command(name="too-long", description="Tries to send an invalid message")
    async def too_long(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message("x" * 2001)
        except discord.HTTPException as exc:
            await interaction.response.send_message(f"rejected {exc.status} {exc.code}", ephemeral=True)

    @bot.tree.command(name="slow", description="Acknowledges too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.4)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            events.append(f"late:{exc.code}")

    @bot.tree.command(name="progress", description="Edits, followups, deletion")
    async def progress(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="step 1")
        await interaction.edit_original_response(content="step 2")
        extra = await interaction.followup.send("public note", wait=True)
        await extra.edit(content="public note (edited)")
        original = await interaction.original_response()
        await interaction.followup.send(f"original said {original.content}", ephemeral=True)
        await interaction.delete_original_response()

    @bot.tree.command(name="feedback", description="Opens a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    class Picker(discord.ui.View):
        @discord.ui.select(custom_id="pick", options=[discord.SelectOption(label=t, value=t) for t in TITLES[:3]])
        async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
            select.disabled = True
            await interaction.response.edit_message(content=f"picked {select.values[0]}", view=self)

    @bot.tree.command(name="pick", description="A select menu in a normal (message-bound) view")
    async def pick(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose one", view=Picker())

    @bot.tree.context_menu(name="Profile")
    async def profile(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"profile of {member.name} in {interaction.guild.name}")

    @bot.event
    async def on_message(message: discord.Message) -> None:
        events.append(f"message:{message.author.name}:{message.content!r}")

    @bot.tree.context_menu(name="Find similar")
    async def find_similar(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.defer(thinking=True)
        images = [a for a in message.attachments if (a.content_type or "").startswith("image/")]
        urls = [e.image.url or e.thumbnail.url for e in message.embeds]
        if images:
            data = await images[0].read()
            info = f"{images[0].filename} {images[0].width}x{images[0].height} sha={hashlib.sha256(data).hexdigest()}"
        else:
            info = f"embeds={urls}"
        await interaction.followup.send(f"similar to {info}")

    return bot


@pytest.fixture
async def world(fake_discord: FakeDiscord) -> SimpleNamespace:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild("Webtoon Club")
    general = fake.add_channel(guild, "general")
    after_dark = fake.add_channel(guild, "after-dark", nsfw=True)
    alice = fake.add_member(guild, "alice")
    mod = fake.add_member(guild, "mod", permissions=discord.Permissions(manage_guild=True))
    return SimpleNamespace(fake=fake, guild=guild, general=general, after_dark=after_dark, alice=alice, mod=mod)


async def test_login_connect_and_sync(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    events: list[str] = []
    async with fake.run_client(make_bot(events)) as bot:
        assert events == ["ready"]
        assert bot.user.id == fake.bot_user.id
        assert bot.application_id == fake.application_id
        guild = bot.get_guild(world.guild.id)
        assert guild is not None and guild.name == "Webtoon Club"
        assert guild.get_channel(world.after_dark.id).nsfw is True
        assert guild.me.guild_permissions.send_messages
        assert {c["name"] for c in fake.registered_commands} == {
            "render",
            "secret",
            "search",
            "discovery",
            "post",
            "too-long",
            "slow",
            "feedback",
            "progress",
            "pick",
            "Profile",
            "Find similar",
        }
        discovery = fake.command("discovery")
        assert discovery["default_member_permissions"] == str(discord.Permissions(manage_guild=True).value)
        assert [o["name"] for o in discovery["options"]] == ["set"]
        assert fake.identify_payloads[0]["intents"] == discord.Intents.default().value
        # zlib-stream unless the zstandard package is installed (then discord.py asks for zstd-stream)
        compression = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
        assert fake.gateway_connects == [{"v": "10", "encoding": "json", "compress": compression}]
        assert fake.find_requests("PUT", r"/applications/\d+/commands$")
        fake.assert_healthy()


async def test_defer_then_followup_with_file_and_button(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("render", {"n": 3}, user=world.alice)
        latency = await rec.wait_acknowledged(timeout=3)
        assert latency < 3
        msg = await rec.wait_response(timeout=5)
        assert msg is not None and not msg.ephemeral and not msg.loading
        assert msg.content == "rendered 3"
        assert msg.files["render.png"] == png_bytes()
        assert msg.attachments[0].width == 8 and msg.attachments[0].content_type == "image/png"
        assert msg.custom_ids() == ["show:3"]
        # the first followup after a "thinking" defer replaces the placeholder
        assert rec.followups == [msg] and rec.original is msg
        assert rec.callback_type == 5
        # the uploaded file is downloadable from the fake CDN
        assert msg.attachments[0].url.startswith(fake.cdn_base)


async def test_ephemeral_reply_and_member_permissions(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("secret", user=world.alice)
        msg = await rec.wait_response()
        assert msg.ephemeral and msg.flags & 64
        assert msg.content == "psst alice manage_guild=False"
        assert msg.files == {"secret_note.txt": b"top secret"}  # Discord sanitises file names
        assert msg.attachments[0].to_payload()["ephemeral"] is True
        assert rec.payload["member"]["permissions"] == str(
            world.guild.channel_permissions(world.alice.id, world.general)
        )
        assert fake.channel_messages(world.general, include_interaction_responses=True) == []
        rec = await fake.slash_command("secret", user=world.mod)
        assert (await rec.wait_response()).content == "psst mod manage_guild=True"


async def test_autocomplete(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.autocomplete("search", "title", "to")
        choices = await rec.wait_choices()
        assert [c["value"] for c in choices] == ["Tower of God"]
        assert rec.callback_type == 8
        assert await rec.wait_response() is None


async def test_subcommand_group_permissions_and_nsfw(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command(
            "discovery set", {"channel": world.after_dark}, user=world.mod, channel=world.general
        )
        msg = await rec.wait_response()
        assert msg.content == "discovery=after-dark nsfw=True cached=True here_nsfw=False"
        options = rec.payload["data"]["options"]
        assert options[0]["type"] == 1 and options[0]["name"] == "set"
        assert rec.payload["data"]["resolved"]["channels"][str(world.after_dark.id)]["nsfw"] is True
        # Discord hides default_member_permissions commands from members lacking them
        with pytest.raises(CommandNotAvailable):
            await fake.slash_command("discovery set", {"channel": world.general}, user=world.alice)
        with pytest.raises(FakeDiscordError, match="missing required"):
            await fake.slash_command("discovery set", {}, user=world.mod)


async def test_button_click_dynamic_item(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("render", {"n": 7}, user=world.alice)
        msg = await rec.wait_response()
        click = await fake.click("show:7", user=world.mod)
        assert click.payload["message"]["id"] == str(msg.id)
        reply = await click.wait_response()
        assert reply.ephemeral and reply.content == "shown 7 to mod"


async def test_context_menu_downloads_attachment(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    image = png_bytes(10, 20, "blue")
    att = fake.add_attachment(image, "panel.png", "image/png", channel=world.general)
    assert att["width"] == 10 and att["height"] == 20
    async with fake.run_client(make_bot()):
        target = fake.user_message(world.general, "look at this", author=world.alice, attachments=[att])
        rec = await fake.context_menu("Find similar", target, user=world.mod)
        msg = await rec.wait_response()
        assert msg.content == f"similar to panel.png 10x20 sha={hashlib.sha256(image).hexdigest()}"
        # embed-only message (a linked image)
        url = fake.add_cdn_file("external/cover.jpg", image, "image/png")
        target2 = fake.user_message(world.general, url, embeds=[fake.image_embed(url, width=10, height=20)])
        rec2 = await fake.context_menu("Find similar", target2)
        assert (await rec2.wait_response()).content == f"similar to embeds=[{url!r}]"


async def test_bot_posts_to_channel(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("post", {"channel": world.general}, user=world.mod)
        (post,) = await fake.wait_channel_message(world.general)
        assert post.embeds[0]["title"] == "New webtoon"
        assert post.embeds[0]["image"]["url"] == post.attachments[0].url  # attachment:// resolved
        assert post.filenames == ["cover.png"]
        reply = await rec.wait_response()
        assert reply.ephemeral and reply.content == f"posted {post.id} ({len(png_bytes(4, 4))} bytes)"
        req = fake.find_requests("POST", rf"/channels/{world.general.id}/messages")[0]
        assert req.json["embeds"][0]["image"]["url"] == "attachment://cover.png"
        assert req.files[0].field_name == "files[0]" and req.files[0].filename == "cover.png"


async def test_bot_without_send_permission_gets_403(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    locked = fake.add_channel(
        world.guild,
        "locked",
        overwrites=[{"id": fake.bot_user.id, "type": 1, "deny": discord.Permissions(send_messages=True)}],
    )
    async with fake.run_client(make_bot()) as bot:
        with pytest.raises(discord.Forbidden) as info:
            await bot.get_channel(locked.id).send("hello")
        assert info.value.code == 50013
        await bot.get_channel(world.general.id).send("hello")
        assert [m.content for m in fake.channel_messages(world.general)] == ["hello"]


async def test_validation_and_late_acknowledgement(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    events: list[str] = []
    async with fake.run_client(make_bot(events)):
        rec = await fake.slash_command("too-long")
        msg = await rec.wait_response()
        assert msg.content == "rejected 400 50035"
        assert rec.callback_attempts[0]["status"] == 400
        fake.ack_deadline = 0.2
        rec = await fake.slash_command("slow")
        with pytest.raises(AssertionError, match="too late"):
            await rec.wait_acknowledged(timeout=2)
        assert rec.expired
        await fake.wait_until(lambda: "late:10062" in events, timeout=2)


async def test_modal_roundtrip(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("feedback")
        modal = await rec.wait_modal()
        assert modal["title"] == "Feedback"
        submit = await fake.modal_submit(rec, {"feedback:text": "great art"})
        assert (await submit.wait_response()).content == "thanks: great art"


async def test_restart_keeps_persistent_buttons_and_commands(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("render", {"n": 42})
        msg = await rec.wait_response()
        ids_before = {c["name"]: c["id"] for c in fake.registered_commands}
    assert not fake.connected
    async with fake.run_client(make_bot()):
        assert {c["name"]: c["id"] for c in fake.registered_commands} == ids_before
        click = await fake.click("show:42", message=msg)
        assert (await click.wait_response()).content == "shown 42 to alice"
    assert len(fake.identify_payloads) == 2


async def test_resume_after_dropped_connection(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        await fake.drop_connection(4000)
        rec = await fake.slash_command("secret")  # waits for the RESUME
        assert (await rec.wait_response()).content.startswith("psst alice")
        assert len(fake.resume_payloads) == 1 and len(fake.identify_payloads) == 1


async def test_clean_close_without_warnings(world: SimpleNamespace, caplog: pytest.LogCaptureFixture) -> None:
    fake: FakeDiscord = world.fake
    loop_errors: list[dict] = []
    loop = asyncio.get_running_loop()
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: loop_errors.append(ctx))
    try:
        with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
            warnings.simplefilter("always")
            async with fake.run_client(make_bot()):
                rec = await fake.slash_command("secret")
                await rec.wait_response()
            gc.collect()
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(old_handler)
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not [r for r in caplog.records if "nclosed" in r.getMessage()]
    assert not loop_errors
    assert not fake.connected


async def test_rest_api_without_a_bot() -> None:
    """The server also works standalone (e.g. for scripts): auth, 404s and the CDN."""
    import aiohttp

    async with FakeDiscord() as fake:
        att = fake.add_attachment(b"hello", "a.txt")
        async with aiohttp.ClientSession() as session:
            async with session.get(att["url"]) as resp:
                assert resp.status == 200 and await resp.read() == b"hello"
                assert resp.content_type == "text/plain"
            async with session.get(f"{fake.api_base}/users/@me") as resp:
                assert resp.status == 401
            headers = {"Authorization": f"Bot {fake.token}"}
            async with session.get(f"{fake.api_base}/users/@me", headers=headers) as resp:
                assert (await resp.json())["id"] == str(fake.bot_user.id)
            async with session.get(f"{fake.api_base}/nope", headers=headers) as resp:
                assert resp.status == 404
        assert len(fake.unhandled_requests) == 1


async def test_select_menu_view_and_update_message(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("pick")
        msg = await rec.wait_response()
        assert msg.find_component("pick")["type"] == 3
        choice = await fake.select("pick", ["True Beauty"])
        updated = await choice.wait_response()
        assert choice.callback_type == 7 and updated is msg
        assert msg.content == "picked True Beauty" and msg.find_component("pick")["disabled"] is True
        assert [v["content"] for v in msg.versions] == ["choose one", "picked True Beauty"]
        with pytest.raises(FakeDiscordError, match="disabled"):
            await fake.select("pick", ["Tower of God"])


async def test_dm_and_user_context_menu(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("secret", user=world.alice, dm=True)
        msg = await rec.wait_response()
        assert msg.content.startswith("psst alice") and "guild_id" not in rec.payload
        with pytest.raises(CommandNotAvailable):  # guild_only group
            await fake.slash_command("discovery set", {"channel": world.general}, user=world.mod, dm=True)
        rec = await fake.context_menu("Profile", world.mod, user=world.alice)
        assert (await rec.wait_response()).content == "profile of mod in Webtoon Club"


async def test_message_events_respect_message_content_intent(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    events: list[str] = []
    async with fake.run_client(make_bot(events)) as bot:
        fake.user_message(world.general, "hello bot", author=world.alice)
        await fake.wait_until(lambda: "message:alice:''" in events, timeout=2)  # no message_content intent
        await bot.get_channel(world.general.id).send("own message")
        await fake.wait_until(lambda: "message:Toonmatch:'own message'" in events, timeout=2)


async def test_edits_followups_and_deletion(world: SimpleNamespace) -> None:
    fake: FakeDiscord = world.fake
    async with fake.run_client(make_bot()):
        rec = await fake.slash_command("progress")
        first = await rec.wait_response()
        assert first.ephemeral  # resolved by the first edit
        public, private = await rec.wait_followups(2)
        await rec.wait_deleted()
        assert [v["content"] for v in first.versions] == ["", "step 1", "step 2"]
        assert not public.ephemeral and public.content == "public note (edited)" and public.edited_timestamp
        assert private.ephemeral and private.content == "original said step 2"
        assert rec.original_deleted and rec.messages == [first, public, private]
        assert fake.channel_messages(world.general, include_interaction_responses=True) == [public]


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("reset", (aiohttp.ClientPayloadError, aiohttp.ClientOSError)),
        ("short", aiohttp.ClientPayloadError),
        ("stall", TimeoutError),
    ],
)
async def test_cdn_faults_break_the_next_downloads_then_serve_again(mode, error) -> None:
    image = png_bytes(64, 64) * 20  # several kilobytes: the first half arrives before the fault
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        att = fake.add_attachment(image, "panel.png", "image/png")
        fake.fail_cdn(att, mode, times=2)
        for _ in range(2):
            received = bytearray()
            with pytest.raises(error):
                async with asyncio.timeout(0.5), http.get(att["url"]) as resp:
                    assert resp.status == 200 and resp.content_length == len(image)  # it promised the whole file
                    async for chunk in resp.content.iter_any():
                        received += chunk
            if mode != "reset":  # (a reset may drop what the client had not read yet)
                assert bytes(received) == image[: len(image) // 2]
        async with http.get(att["url"]) as resp:
            assert await resp.read() == image
        assert len(fake.cdn_requests) == 3 and len(set(fake.cdn_requests)) == 1


async def test_cdn_status_fault_and_bad_fault_requests() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        url = fake.add_cdn_file("external/cover.png", png_bytes(), "image/png")
        fake.fail_cdn(url, "status", status=502)
        async with http.get(url) as resp:
            assert resp.status == 502
        async with http.get(url) as resp:
            assert resp.status == 200
        with pytest.raises(FakeDiscordError):
            fake.fail_cdn(url, "explode")
        with pytest.raises(FakeDiscordError):
            fake.fail_cdn(f"{fake.cdn_base}/nowhere.png", "reset")


async def test_rate_limited_routes_answer_429_like_discord_and_recover_after_the_window() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        guild = fake.add_guild("club")
        first, second = fake.add_channel(guild, "a"), fake.add_channel(guild, "b")
        fake.rate_limit(r"GET /channels/\d+", limit=2, per=0.4)
        auth = {"Authorization": f"Bot {fake.token}"}

        async def get(channel):
            async with http.get(f"{fake.api_base}/channels/{channel.id}", headers=auth) as resp:
                return resp.status, dict(resp.headers), await resp.json()

        statuses = [await get(first) for _ in range(3)]
        assert [s for s, _, _ in statuses] == [200, 200, 429]
        ok_headers = statuses[0][1]
        assert ok_headers["X-RateLimit-Limit"] == "2" and ok_headers["X-RateLimit-Remaining"] == "1"
        assert float(ok_headers["X-RateLimit-Reset-After"]) <= 0.4 and ok_headers["X-RateLimit-Bucket"]
        status, headers, body = statuses[2]
        assert set(body) == {"message", "retry_after", "global"} and body["global"] is False
        assert 0 < body["retry_after"] <= 0.4 and headers["Retry-After"] == "1" and headers["Via"]
        assert headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Scope"] == "user"
        assert (await get(second))[0] == 200  # another channel: another bucket
        await asyncio.sleep(body["retry_after"])
        assert (await get(first))[0] == 200  # the window has passed
        assert [r.status for r in fake.requests].count(429) == 1 and len(fake.rate_limits.rejected) == 1


async def test_the_global_rate_limit_says_global_and_spares_interaction_callbacks() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        fake.rate_limit_global(limit=1, per=5.0)
        auth = {"Authorization": f"Bot {fake.token}"}
        async with http.get(f"{fake.api_base}/users/@me", headers=auth) as resp:
            assert resp.status == 200
        async with http.get(f"{fake.api_base}/users/@me", headers=auth) as resp:
            assert resp.status == 429 and resp.headers["X-RateLimit-Global"] == "true"
            assert resp.headers["X-RateLimit-Scope"] == "global"
            assert (await resp.json())["global"] is True
        async with http.post(f"{fake.api_base}/interactions/1/nope/callback", json={"type": 5}) as resp:
            assert resp.status == 404  # not limited: answered (an unknown interaction)
        assert fake.rate_limits.rejected == [("GET", "/users/@me", "global", True)]


async def test_discord_py_waits_out_a_429_and_the_request_succeeds(fake_discord) -> None:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild("club")
    channel = fake.add_channel(guild, "general")
    client = discord.Client(intents=discord.Intents.default())
    async with fake.run_client(client):
        target = client.get_channel(channel.id)
        fake.rate_limit_global(limit=1, per=0.3)  # discord.py cannot know this one in advance: it gets 429s
        sent = await asyncio.gather(*(target.send(f"message {n}") for n in range(4)))
    assert sorted(m.content for m in sent) == [f"message {n}" for n in range(4)]
    assert len(fake.channel_messages(channel)) == 4
    assert fake.rate_limits.rejected and {path for _, path, _, _ in fake.rate_limits.rejected} == {
        f"/channels/{channel.id}/messages"
    }
