"""The one error handler: what users read for each kind of failure, how loudly it is logged, and that a refusal is
always ephemeral (also after a public defer). Spec'd mocks stand in for the interaction."""

from __future__ import annotations

import logging
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord import app_commands

from bot import errors
from core.errors import AmbiguousTitleError, BadImageError, ImageTooLargeError, RunFolderError, UnknownTitleError
from core.i18n import Msg, translator


def _interaction(*, done: bool, rtype=None, extras=None, itype=discord.InteractionType.application_command):
    interaction = MagicMock(spec=discord.Interaction)
    interaction.id = 1234567890
    interaction.type = itype
    interaction.extras = dict(extras or {})
    interaction.guild_id = 42
    interaction.data = {"name": "similar"}
    interaction.user = MagicMock(spec=discord.User, id=7)
    interaction.command = None
    response = MagicMock(spec=discord.InteractionResponse)
    response.is_done.return_value = done
    response.type = rtype
    response.send_message = AsyncMock()
    interaction.response = response
    interaction.followup = MagicMock(spec=discord.Webhook)
    interaction.followup.send = AsyncMock()
    interaction.delete_original_response = AsyncMock()
    return interaction


@pytest.mark.parametrize(
    ("error", "expected", "level"),
    [
        (app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30), 4.2), "try again in 5 s", logging.INFO),
        (app_commands.MissingPermissions(["manage_guild"]), "Manage Server", logging.INFO),
        (app_commands.NoPrivateMessage(), "only works in a server", logging.INFO),
        (BadImageError("upload: not an image, or a format we can't read"), "can't use that file: not an image", 20),
        (ImageTooLargeError("upload: file is 30.0 MB; the limit is 25 MB"), "too big: file is 30.0 MB", 20),
        (UnknownTitleError("no title", ["Tower (naver:1)", "Towers (naver:2)"]), "• Tower (naver:1)", 20),
        (UnknownTitleError("no title", []), "pick a title from the suggestions", 20),
        (AmbiguousTitleError("several", ["A (x:1)", "A (x:2)"]), "Several titles fit", 20),
        (
            errors.RecommenderUnavailableError("The recommendation engine isn't loaded."),
            "isn't loaded",
            logging.WARNING,
        ),
        (RunFolderError("run/: missing model"), "not available: run/: missing model", logging.WARNING),
        (errors.DownloadFailedError("ClientPayloadError: reset"), "couldn't download that image", logging.WARNING),
    ],
)
def test_users_mistakes_get_a_clear_message_and_no_error_level(error, expected, level):
    rep = errors.describe(error, 99)
    assert expected in rep.message and rep.level == level and not rep.bug


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30), 4.2), "5초 뒤에 다시 해 주세요"),
        (app_commands.MissingPermissions(["manage_guild"]), "**서버 관리** 권한이 필요해요"),
        (app_commands.BotMissingPermissions(["embed_links", "attach_files"]), "**링크 첨부, 파일 첨부** 권한이 없어요"),
        (app_commands.NoPrivateMessage(), "서버에서만 쓸 수 있어요"),
        (BadImageError(Msg("{name}: the file is empty", name="upload")), "이 파일은 쓸 수 없어요: 파일이 비어 있어요"),
        (
            UnknownTitleError("no title", ["신의 탑 (naver:1)"]),
            "모르는 제목이에요.\n가장 비슷한 제목:\n• 신의 탑 (naver:1)",
        ),
        (
            errors.NoImageError(
                Msg("🖼️ That message has no image attachment or image embed. Try it on a message with a picture.")
            ),
            "이미지 첨부나",
        ),
        (errors.DownloadFailedError("ClientPayloadError: reset"), "이미지를 내려받지 못했어요"),
        (
            KeyError("secret internals"),
            "봇 쪽에서 문제가 생겼어요. 계속 그러면 봇 관리자에게 이 번호를 알려 주세요: `99`",
        ),
    ],
)
def test_refusals_in_korean(error, expected):
    english = errors.describe(error, 99)
    korean = errors.describe(error, 99, tr=translator("ko"))
    assert expected in korean.message and (korean.level, korean.bug) == (english.level, english.bug)
    assert korean.message != english.message


def test_wrapped_errors_are_unwrapped():
    command = MagicMock(spec=app_commands.Command)
    command.name = "similar"
    wrapped = app_commands.CommandInvokeError(command, BadImageError("upload: the file is empty"))
    assert "the file is empty" in errors.describe(wrapped).message


def test_a_bug_asks_to_quote_the_interaction_id_and_shows_no_details():
    rep = errors.describe(KeyError("secret internals"), 555)
    assert rep.bug and rep.level == logging.ERROR
    assert "`555`" in rep.message and "secret" not in rep.message


async def test_refusal_before_any_response_is_an_ephemeral_reply():
    interaction = _interaction(done=False)
    await errors.send_ephemeral(interaction, "no")
    interaction.response.send_message.assert_awaited_once_with("no", ephemeral=True)
    interaction.delete_original_response.assert_not_awaited()


async def test_refusal_after_a_public_defer_deletes_the_placeholder_first():
    interaction = _interaction(done=True, rtype=discord.InteractionResponseType.deferred_channel_message)
    errors.mark_deferred(interaction, ephemeral=False)
    await errors.send_ephemeral(interaction, "no")
    interaction.delete_original_response.assert_awaited_once()
    interaction.followup.send.assert_awaited_once_with("no", ephemeral=True)


@pytest.mark.parametrize(
    ("rtype", "extras"),
    [
        (discord.InteractionResponseType.deferred_channel_message, {"ephemeral_defer": True}),
        (discord.InteractionResponseType.deferred_channel_message, {"ephemeral_defer": False, "answered": True}),
        (discord.InteractionResponseType.deferred_message_update, {}),
        (discord.InteractionResponseType.channel_message, {}),
    ],
)
async def test_refusal_never_deletes_an_answer_or_a_private_placeholder(rtype, extras):
    interaction = _interaction(done=True, rtype=rtype, extras=extras)
    await errors.send_ephemeral(interaction, "no")
    interaction.delete_original_response.assert_not_awaited()
    interaction.followup.send.assert_awaited_once_with("no", ephemeral=True)


async def test_a_refusal_after_the_final_answer_keeps_the_answer():
    interaction = _interaction(done=True, rtype=discord.InteractionResponseType.deferred_channel_message)
    errors.mark_deferred(interaction, ephemeral=False)
    await errors.send_final(interaction, "here you are")
    interaction.followup.send.assert_awaited_once_with(content="here you are", wait=True)
    await errors.send_ephemeral(interaction, "no")
    interaction.delete_original_response.assert_not_awaited()


async def test_the_final_answer_is_the_response_when_nothing_was_sent_yet():
    interaction = _interaction(done=False)
    assert await errors.send_final(interaction, "hi", ephemeral=True) is None
    interaction.response.send_message.assert_awaited_once_with(content="hi", ephemeral=True)
    interaction.followup.send.assert_not_awaited()
    assert interaction.extras["answered"]


@pytest.mark.bot_errors_expected
async def test_report_logs_bugs_at_error_with_the_interaction_id(caplog):
    interaction = _interaction(done=False)
    with caplog.at_level(logging.INFO, logger="bot.errors"):
        await errors.report(interaction, ZeroDivisionError("x"))
    [record] = caplog.records
    assert record.levelno == logging.ERROR and "1234567890" in record.getMessage() and record.exc_info
    sent = interaction.response.send_message.await_args
    assert sent.kwargs == {"ephemeral": True} and "1234567890" in sent.args[0]


async def test_report_logs_mistakes_at_info_and_survives_a_failing_send(caplog):
    interaction = _interaction(done=False)
    interaction.response.send_message.side_effect = discord.NotFound(MagicMock(status=404), "Unknown interaction")
    with caplog.at_level(logging.INFO, logger="bot.errors"):
        await errors.report(interaction, BadImageError("upload: the file is empty"))
    levels = [r.levelno for r in caplog.records]
    assert levels == [logging.INFO, logging.WARNING]


@pytest.mark.bot_errors_expected
async def test_report_does_not_answer_autocomplete():
    interaction = _interaction(done=False, itype=discord.InteractionType.autocomplete)
    await errors.report(interaction, RuntimeError("x"))
    interaction.response.send_message.assert_not_awaited()


async def test_a_failed_download_logs_its_cause_on_one_line_and_tells_the_user_to_try_again(caplog):
    interaction = _interaction(done=False)
    caplog.set_level(logging.INFO)
    await errors.report(interaction, errors.DownloadFailedError("ClientPayloadError: payload is not completed"))
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "1234567890" in record.getMessage() and "payload is not completed" in record.getMessage()
    sent = interaction.response.send_message.await_args
    assert "try again" in sent.args[0] and "payload" not in sent.args[0] and sent.kwargs["ephemeral"]
