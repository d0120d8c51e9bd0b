"""The one place failures become messages: every error of a command, context menu, button or select ends here.

:func:`report` turns an exception into a short ephemeral message for the user and one log line carrying the
interaction id. Users' mistakes (bad file, unknown title, cooldown, missing permission) log at INFO; only bugs log at
ERROR (with the traceback), and their message asks the user to quote the interaction id. Never a traceback in chat.

The error-handler cog (:mod:`bot.exts.error_handler`) installs :func:`report` as ``tree.on_error``; persistent
buttons and selects call it themselves (discord.py only logs errors of dynamic items).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import ENGLISH, Translator, perm_names, tr_for
from core.errors import (
    AmbiguousTitleError,
    BadImageError,
    ImageTooLargeError,
    RemovedTitleError,
    RunFolderError,
    ToonmatchError,
    UnknownTitleError,
)
from core.i18n import Msg

log = logging.getLogger(__name__)

MAX_SUGGESTIONS = 5


# --------------------------------------------------------------------------- errors the bot itself raises


class BotUserError(ToonmatchError):
    """A user-facing refusal raised by the bot; its message is shown as it is."""


class NotAnImageError(BadImageError):
    """The attachment or link is not an image by its declared type (checked before downloading)."""


class DownloadFailedError(BotUserError):
    """Fetching an image failed on the way (connection reset or refused, a stalled or truncated transfer, a CDN
    error): nothing wrong with the file, so the user is asked to try again. ``cause`` is for the log line."""

    def __init__(self, cause: str) -> None:
        super().__init__(Msg("I couldn't download that image"))
        self.cause = cause


class LinkRefusedError(BotUserError):
    """A ``link`` option the bot will not fetch: not http(s), a host that is not on the public internet, too many
    redirects, or an error answer (:mod:`bot.fetch`)."""


class NoImageError(BotUserError):
    """A context-menu target message carries no image attachment or image embed."""


class RecommenderUnavailableError(BotUserError):
    """The recommendation engine is not loaded (no or a broken run folder): image and title commands cannot run."""


class AdultContentError(BotUserError):
    """An adult title was asked for outside an age-restricted (NSFW) channel."""


class NotOwnerError(BotUserError):
    """An owner-only command (``/about``) run by someone who is not the application's owner or a team member."""


class NotYourButtonError(BotUserError):
    """Somebody pressed a button meant for another user (e.g. another person's /forget-me confirmation)."""


# --------------------------------------------------------------------------- describing failures


@dataclass(frozen=True)
class Report:
    """What the user reads and how loudly it is logged."""

    message: str
    level: int
    bug: bool = False
    detail: str | None = None  # for the log line only


def _strip_source(text: str) -> str:
    """ml prefixes image errors with the source name ("upload: not an image…"); users need only the reason."""
    head, sep, tail = text.partition(": ")
    return tail if sep and head in ("upload", "image") else text


def _said(error: BaseException, tr: Translator) -> str:
    """An error's own message in the reader's language (a :class:`core.i18n.Msg`; other text as it is)."""
    text = error.args[0] if error.args and isinstance(error.args[0], Msg) else str(error)
    return tr._(text) if isinstance(text, Msg) else text


def _suggestions(exc: UnknownTitleError, tr: Translator) -> str:
    names = [f"• {s}" for s in exc.suggestions[:MAX_SUGGESTIONS]]
    return ("\n" + tr._("Closest matches:") + "\n" + "\n".join(names)) if names else ""


def describe(error: BaseException, interaction_id: int | None = None, *, tr: Translator = ENGLISH) -> Report:
    """The message (in ``tr``'s language) and log level for ``error`` (unwrapping discord.py's invoke wrappers
    first)."""
    while isinstance(error, app_commands.CommandInvokeError | commands.CommandInvokeError):
        error = error.original
    info, warning = logging.INFO, logging.WARNING
    if isinstance(error, app_commands.CommandOnCooldown):
        wait = max(1, round(error.retry_after + 0.49))
        return Report(tr._("⏳ Slow down a little — try again in {wait} s.", wait=tr.num(wait)), info)
    if isinstance(error, app_commands.MissingPermissions):
        perms = perm_names(error.missing_permissions, tr)
        return Report(tr._("🔒 You need the **{permissions}** permission for this command.", permissions=perms), info)
    if isinstance(error, app_commands.BotMissingPermissions):
        perms = perm_names(error.missing_permissions, tr)
        return Report(
            tr._(
                "🔒 I'm missing the **{permissions}** permission here; ask a server admin to grant it.",
                permissions=perms,
            ),
            warning,
        )
    if isinstance(error, app_commands.NoPrivateMessage):
        return Report(tr._("This command only works in a server, not in direct messages."), info)
    if isinstance(error, app_commands.TransformerError):
        return Report(
            tr._("I couldn't understand the value “{value}”. Please pick it from the list.", value=error.value), info
        )
    if isinstance(error, app_commands.CheckFailure):
        return Report(tr._("You can't use this command here."), info)
    if isinstance(error, DownloadFailedError):
        return Report(tr._("📡 I couldn't download that image — try again."), warning, detail=error.cause)
    if isinstance(error, ImageTooLargeError):
        return Report(
            tr._("📦 That image is too big: {reason}. Try a smaller one.", reason=_strip_source(_said(error, tr))), info
        )
    if isinstance(error, BadImageError):
        reason = _strip_source(_said(error, tr))
        detail = getattr(error, "detail", None)
        return Report(tr._("🖼️ I can't use that file: {reason}", reason=reason), info, detail=detail)
    if isinstance(error, AmbiguousTitleError):
        return Report(tr._("🔎 Several titles fit — which one did you mean?") + _suggestions(error, tr), info)
    if isinstance(error, RemovedTitleError):
        return Report(tr._("📕 This title is no longer listed."), info)
    if isinstance(error, UnknownTitleError):
        hint = _suggestions(error, tr) or "\n" + tr._("Start typing and pick a title from the suggestions.")
        return Report(tr._("🔎 I don't know that title.") + hint, info)
    if isinstance(error, RecommenderUnavailableError):
        return Report(f"🛠️ {_said(error, tr)}", warning)
    if isinstance(error, RunFolderError):
        return Report(tr._("🛠️ The recommendation engine is not available: {reason}", reason=str(error)), warning)
    if isinstance(error, ToonmatchError):
        return Report(_said(error, tr), info)
    quote = (
        " " + tr._("If it keeps happening, tell the bot's admin this id: `{id}`.", id=interaction_id)
        if interaction_id
        else ""
    )
    return Report(tr._("💥 Something went wrong on my side.") + quote, logging.ERROR, bug=True)


# --------------------------------------------------------------------------- telling the user


def mark_deferred(interaction: discord.Interaction, *, ephemeral: bool) -> None:
    """Remember how an interaction was deferred (the error path needs to know whether the placeholder is public)."""
    interaction.extras["ephemeral_defer"] = ephemeral


async def send_final(
    interaction: discord.Interaction, content: str | None = None, **kwargs
) -> discord.WebhookMessage | None:
    """Send the interaction's final answer and remember that it was sent, so that an error after it (a later notice,
    bookkeeping) never deletes it as a placeholder (:func:`send_ephemeral`). The response itself when nothing was
    sent yet, else a follow-up (after :func:`bot.checks.defer`), whose message is returned."""
    if content is not None:
        kwargs["content"] = content
    if interaction.response.is_done():
        message = await interaction.followup.send(wait=True, **kwargs)
    else:
        await interaction.response.send_message(**kwargs)
        message = None
    interaction.extras["answered"] = True
    return message


async def send_ephemeral(interaction: discord.Interaction, content: str, **kwargs) -> None:
    """Answer only the user, whatever state the interaction is in.

    A public "thinking…" placeholder is deleted first: after a defer, Discord turns the first follow-up into the
    original response with the defer's visibility, so an ephemeral refusal must not take its place."""
    response = interaction.response
    if not response.is_done():
        await response.send_message(content, ephemeral=True, **kwargs)
        return
    public_placeholder = (
        response.type is discord.InteractionResponseType.deferred_channel_message
        and not interaction.extras.get("ephemeral_defer", False)
        and not interaction.extras.get("answered", False)
    )
    if public_placeholder:
        try:
            await interaction.delete_original_response()
        except discord.HTTPException as exc:
            log.warning("interaction %s: could not delete the deferred response: %s", interaction.id, exc)
    await interaction.followup.send(content, ephemeral=True, **kwargs)


def _where(interaction: discord.Interaction) -> str:
    command = interaction.command.qualified_name if interaction.command else None
    data = interaction.data or {}
    what = command or data.get("custom_id") or data.get("name") or "?"
    place = f"guild {interaction.guild_id}" if interaction.guild_id else "DM"
    return f"{what!r} by user {interaction.user.id} in {place}"


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    """Log ``error`` once (with the interaction id) and tell the user, ephemerally; never raises."""
    rep = describe(error, interaction.id)  # English, for the log
    metrics = interaction.extras.get("metrics")
    if metrics is not None:  # bot.metrics: the interaction's outcome (refused by kind, or failed)
        metrics.finished(interaction, error)
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if rep.bug:
        log.error("interaction %s: %s failed", interaction.id, _where(interaction), exc_info=original)
    else:
        why = f"{rep.message} ({rep.detail})" if rep.detail else rep.message
        log.log(rep.level, "interaction %s: %s refused: %s", interaction.id, _where(interaction), why)
    if interaction.type is discord.InteractionType.autocomplete:
        return
    try:
        await send_ephemeral(interaction, describe(error, interaction.id, tr=tr_for(interaction)).message)
    except discord.HTTPException as exc:  # expired interaction, network: the log line above is all we can do
        log.warning("interaction %s: could not send the error message: %s", interaction.id, exc)
    except Exception:
        log.exception("interaction %s: could not send the error message", interaction.id)
