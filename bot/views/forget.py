"""/forget-me: the confirmation's buttons (``tm:forget:confirm|export|cancel:<user id>``), for that user only."""

from __future__ import annotations

import io
import logging
import re

import discord
from discord import ui

from bot import embeds, errors
from bot.i18n import ENGLISH, N_, Translator, tr_for
from bot.views.common import SafeItem, client_of
from core.i18n import Msg
from db import queries

log = logging.getLogger(__name__)


class ForgetButton(
    SafeItem, ui.DynamicItem[ui.Button], template=r"tm:forget:(?P<action>confirm|export|cancel):(?P<user_id>\d{1,20})"
):
    LOOKS = {
        "confirm": (N_("Delete everything"), "🗑️", discord.ButtonStyle.danger),
        "export": (N_("Download my data first"), "📄", discord.ButtonStyle.secondary),
        "cancel": (N_("Cancel"), None, discord.ButtonStyle.secondary),
    }

    def __init__(self, action: str, user_id: int, *, tr: Translator = ENGLISH) -> None:
        label, emoji, style = self.LOOKS[action]
        super().__init__(
            ui.Button(label=tr._(label), emoji=emoji, style=style, custom_id=f"tm:forget:{action}:{user_id}")
        )
        self.action, self.user_id = action, user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        return cls(match["action"], int(match["user_id"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise errors.NotYourButtonError(Msg("These buttons belong to someone else's /forget-me."))
        client = client_of(interaction)
        tr = tr_for(interaction)
        if self.action == "cancel":
            await interaction.response.edit_message(
                content=tr._("Cancelled — nothing was deleted."), embed=None, view=None
            )
        elif self.action == "export":
            data = await client.db.run(queries.export_user, self.user_id)
            blob = queries.export_json(data).encode()
            file = discord.File(io.BytesIO(blob), f"toonmatch-data-{self.user_id}.json")
            await interaction.response.send_message(
                tr._("📄 Everything Toonmatch stores about you:"), file=file, ephemeral=True
            )
        else:
            deleted = await client.db.run(queries.forget_user, self.user_id)
            log.info("user %s asked to be forgotten: %d rows deleted", self.user_id, deleted)
            await interaction.response.edit_message(content=embeds.forgotten(deleted, tr=tr), embed=None, view=None)


def forget_view(user_id: int, *, tr: Translator = ENGLISH) -> ui.View:
    view = ui.View(timeout=None)
    for action in ("confirm", "export", "cancel"):
        view.add_item(ForgetButton(action, user_id, tr=tr))
    return view
