""" "Which image?": a right-click on a message with several images asks the user (ephemerally) which one to answer.

The prompt lives only minutes and only its user sees it, so unlike the answers' controls it is an ordinary
in-memory view (nothing to survive a restart): it holds the found images and what to answer them with.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import ui

from bot import checks, embeds, errors, images
from bot.i18n import ENGLISH, Translator, tr_for

if TYPE_CHECKING:
    from bot.bot import Toonmatch

log = logging.getLogger(__name__)

TIMEOUT = 180.0
Answer = Callable[..., Awaitable[None]]


def _describe(source: images.ImageSource, tr: Translator = ENGLISH) -> str:
    if source.attachment is None:
        return tr._("an image in an embed")
    if source.size:
        return tr._("attachment · {size} MB", size=f"{source.size / 2**20:.1f}")
    return tr._("attachment")


class WhichImage(ui.View):
    def __init__(
        self, origin: discord.Interaction, sources: list[images.ImageSource], *, private: bool, answer: Answer
    ) -> None:
        super().__init__(timeout=TIMEOUT)
        self.origin, self.sources, self.private, self.answer = origin, sources, private, answer
        self.tr = tr = tr_for(origin)
        self.select = ui.Select(
            placeholder=tr._("Which image should I use?"),
            options=[
                discord.SelectOption(
                    label=embeds.clip(f"{n}. {s.name}", 100), value=str(n - 1), description=_describe(s, tr)
                )
                for n, s in enumerate(sources, start=1)
            ],
        )
        self.select.callback = self.chosen
        self.add_item(self.select)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.origin.user.id  # only its user sees the prompt; a guard all the same

    async def chosen(self, interaction: discord.Interaction) -> None:
        n = int(self.select.values[0])
        client: Toonmatch = interaction.client  # type: ignore[assignment]
        try:
            source = images.check_source(self.sources[n])
            client.require_recommender()
            await checks.defer(interaction, private=self.private)
            self.stop()
            await self._close(
                self.tr._("🖼️ Using image {n}: **{name}**", n=n + 1, name=discord.utils.escape_markdown(source.name))
            )
            await self.answer(client, interaction, source, private=self.private)
        except Exception as exc:
            await errors.report(interaction, exc)

    async def on_timeout(self) -> None:
        await self._close(self.tr._("⌛ No image was chosen. Right-click the message again when you're ready."))

    async def _close(self, text: str) -> None:
        try:
            await self.origin.edit_original_response(content=text, view=None)
        except discord.HTTPException as exc:  # dismissed or expired: nothing left to tidy
            log.info("interaction %s: could not close the image prompt: %s", self.origin.id, exc)


async def ask(
    interaction: discord.Interaction, sources: list[images.ImageSource], *, private: bool, answer: Answer
) -> None:
    """Offer ``sources`` in an ephemeral select; the choice is answered with ``answer`` (visibility ``private``)."""
    view = WhichImage(interaction, sources, private=private, answer=answer)
    text = tr_for(interaction).ngettext(
        "This message has {n} image. Which one should I use?",
        "This message has {n} images. Which one should I use?",
        len(sources),
    )
    await errors.send_final(interaction, text, view=view, ephemeral=True)
