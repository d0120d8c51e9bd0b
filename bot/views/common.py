"""What the persistent items share: the failure path, the client, ◀ / ▶ buttons and title names."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

import discord
from discord import ui

from bot import errors
from bot.i18n import ENGLISH, Translator

if TYPE_CHECKING:
    from bot.bot import Toonmatch
    from catalog.format import Title

TITLE_ID = r"(?P<title_id>[^\s]{1,80})"  # the title id part of a custom_id template


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


def title_name(client: Toonmatch, title_id: str, tr: Translator = ENGLISH) -> str:
    """The title as the reader knows it (Korean for Korean readers, else its English name where it has one)."""
    title = title_of(client, title_id)
    return tr.title(title) if title is not None else title_id
