"""What the persistent items share: the failure path, the client, ◀ / ▶ buttons, title names and who may use an
answer's controls (its asker)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

import discord
from discord import ui

from bot import embeds, errors
from bot.i18n import ENGLISH, Translator, tr_for
from core.errors import RemovedTitleError
from core.i18n import Msg

if TYPE_CHECKING:
    from bot.bot import Toonmatch
    from catalog.format import Title

TITLE_ID = r"(?P<title_id>[^\s]{1,80})"  # the title id part of a custom_id template
PICK = "tm:pick"  # an answer's select; ``tm:pick:<asker id>`` since answers are the asker's only


def client_of(interaction: discord.Interaction) -> Toonmatch:
    return interaction.client  # type: ignore[return-value]


class SafeItem:
    """Mixin: run :meth:`handle` and send any failure through the one error handler (discord.py would only log
    it, leaving the user with "This interaction failed")."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.handle(interaction)  # type: ignore[attr-defined]
        except Exception as exc:
            await errors.report(interaction, exc)
        else:
            metrics = interaction.extras.get("metrics")
            if metrics is not None:  # bot.metrics: answered
                metrics.finished(interaction)


class ArrowItem(SafeItem):
    """Mixin of the ◀ / ▶ paging buttons, ``<PREFIX>:prev|next:<position>``. A subclass is a
    ``ui.DynamicItem[ui.Button]`` whose template has the groups ``dir`` and ``at``; it sets :attr:`PREFIX` and
    :attr:`ROW` and implements ``handle`` (showing position :attr:`at`)."""

    PREFIX: ClassVar[str]
    ROW: ClassVar[int]

    def __init__(self, direction: str, at: int, *, disabled: bool = False) -> None:
        button = ui.Button(
            emoji="◀️" if direction == "prev" else "▶️",
            style=discord.ButtonStyle.secondary,
            custom_id=f"{self.PREFIX}:{direction}:{at}",
            disabled=disabled,
        )
        super().__init__(button, row=self.ROW)  # type: ignore[call-arg]  # the DynamicItem next in the MRO
        self.at = at

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: ui.Button, match: re.Match[str]):
        return cls(match["dir"], int(match["at"]))


def title_of(client: Toonmatch, title_id: str) -> Title | None:
    """The catalogue entry of ``title_id`` (``None`` without a recommender or once the title left the catalogue)."""
    return client.recommender.titles.get(title_id) if client.recommender is not None else None


def refuse_removed(client: Toonmatch, title_id: str) -> None:
    """Raise RemovedTitleError (answered "this title is no longer listed") for a title its source stopped listing:
    the buttons of old messages outlive the title."""
    if client.recommender is not None and client.recommender.is_removed(title_id):
        raise RemovedTitleError(Msg("this title is no longer listed"))


def title_name(client: Toonmatch, title_id: str, tr: Translator = ENGLISH) -> str:
    """The title as the reader knows it (Korean for Korean readers, else its English name where it has one)."""
    title = title_of(client, title_id)
    return tr.title(title) if title is not None else title_id


def pick_select(message: discord.Message | None) -> Any:
    """An answer message's pick select (``tm:pick`` or ``tm:pick:<asker id>``), ``None`` if it has none: the one
    component that carries the answer's results and its asker."""
    for row in message.components if message is not None else []:
        for comp in getattr(row, "children", [row]):
            custom_id = getattr(comp, "custom_id", None) or ""
            if custom_id == PICK or custom_id.startswith(PICK + ":"):
                return comp
    return None


def asker_of(message: discord.Message | None) -> int | None:
    """The id of the user an answer message belongs to (from its pick select), ``None`` if it records none."""
    select = pick_select(message)
    asker = select.custom_id[len(PICK) + 1 :] if select is not None else ""
    return int(asker) if asker.isdigit() else None


async def refuse_unless_asker(interaction: discord.Interaction) -> bool:
    """``True`` if the clicker may use this answer's controls; otherwise they get a short ephemeral hint."""
    asker = asker_of(interaction.message)
    if asker is None or asker == interaction.user.id:
        return True
    await interaction.response.send_message(
        tr_for(interaction)._(embeds.NOT_YOURS, owner=f"<@{asker}>"), ephemeral=True
    )
    return False
