"""Sending a recommender answer: embed + contact sheet + rating view, then remembering what was shown.

Shared by /similar, /recommend and the "Find similar webtoons" context menu. The interaction is already deferred.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot import checks, embeds, errors, fetch, images, prefs
from bot.i18n import ENGLISH, Translator, tr_for
from bot.views import which_image
from bot.views.results import RESULTS_PER_PAGE, answer_view, entries_of
from ml.serve import TITLES_PER_ANSWER
from ml.serve.covers import SheetText
from ml.serve.results import Answer

if TYPE_CHECKING:
    from bot.bot import Toonmatch

log = logging.getLogger(__name__)


def sheet_text(answer: Answer, tr: Translator) -> SheetText:
    """The contact sheet's words in the asker's language (its numbers and percentages stay as they are)."""
    names = {r.title.id: tr.title(r.title) for r in answer.results}
    if answer.source is not None:
        names[answer.source.id] = tr.title(answer.source)
    return SheetText(
        query=tr._("QUERY"),
        source=tr._("FROM"),
        your_image=tr._("your image"),
        no_cover=tr._("no cover"),
        demo=tr._("[DEMO] synthetic catalogue"),
        low_confidence=tr._(answer.message) if answer.message else None,
        names=names,
    )


async def contact_sheet(
    client: Toonmatch, answer: Answer, query_image, *, include_query: bool = True, tr: Translator = ENGLISH
) -> discord.File | None:
    """The numbered contact sheet, rendered off the event loop, captioned in the asker's language. A failure to
    draw it is logged (a bug) but does not cost the user the answer."""
    recommender = client.require_recommender()
    try:
        data, fmt = await recommender.contact_sheet(
            answer, query_image, include_query=include_query, text=sheet_text(answer, tr)
        )
    except Exception:
        log.exception("rendering the contact sheet failed; answering without it")
        return None
    return discord.File(io.BytesIO(data), f"toonmatch.{fmt}")


async def send_answer(
    client: Toonmatch,
    interaction: discord.Interaction,
    answer: Answer,
    *,
    heading: str,
    private: bool,
    query_image=None,
    include_query: bool = True,
    query_note: str | None = None,
    tr: Translator = ENGLISH,
) -> discord.WebhookMessage | None:
    """``heading`` and ``query_note`` are in the asker's language already (``tr``'s)."""
    file = await contact_sheet(client, answer, query_image, include_query=include_query, tr=tr)
    embed = embeds.answer(
        answer,
        heading=heading,
        synthetic=client.require_recommender().synthetic,
        image_name=file.filename if file else None,
        per_page=RESULTS_PER_PAGE,
        query_note=query_note,
        tr=tr,
    )
    view = answer_view(entries_of(answer.results, tr=tr), asker=interaction.user.id, deletable=not private, tr=tr)
    kwargs = {"file": file} if file is not None else {}
    if view is not None:
        kwargs["view"] = view
    message = await errors.send_final(interaction, embed=embed, ephemeral=private, **kwargs)
    if answer.results:
        try:  # bookkeeping only: the user already has the answer, so a failure here is logged, not shown
            await client.remember_shown(interaction.user.id, [r.title.id for r in answer.results], interaction.guild_id)
        except Exception:
            log.exception("interaction %s: recording the shown titles failed", interaction.id)
    log.info(
        "interaction %s: answered %s with %d results (low confidence: %s, %.0f ms)",
        interaction.id,
        interaction.command.qualified_name if interaction.command else "?",
        len(answer.results),
        answer.low_confidence,
        answer.timings.get("total_ms", 0.0),
    )
    return message


async def from_upload(
    client: Toonmatch,
    interaction: discord.Interaction,
    image: discord.Attachment | None,
    link: str | None,
    *,
    private: bool | None,
    answer: Callable[..., Awaitable[None]],
) -> None:
    """/similar and /genre: exactly one of the attachment and the link, checked (refused ephemerally before anything
    is downloaded), then deferred and answered by ``answer`` (:func:`similar_from` or :func:`genres_from`);
    ``private=None``: the server's default."""
    source = fetch.source_of(image, link)
    client.require_recommender()
    private = await prefs.answers_private(client, interaction, private)
    await checks.defer(interaction, private=private)
    await answer(client, interaction, source, private=private)


async def from_message(
    client: Toonmatch,
    interaction: discord.Interaction,
    message: discord.Message,
    *,
    answer: Callable[..., Awaitable[None]],
) -> None:
    """The right-click menus: the message's image answered by ``answer`` with the server's default privacy; with
    several images, the user first chooses one (an ephemeral "which image?" select)."""
    sources = images.find_images(message)
    client.require_recommender()
    private = await prefs.answers_private(client, interaction, None)
    if len(sources) > 1:
        await which_image.ask(interaction, sources, private=private, answer=answer)
        return
    source = images.check_source(sources[0])
    await checks.defer(interaction, private=private)
    await answer(client, interaction, source, private=private)


async def similar_from(
    client: Toonmatch, interaction: discord.Interaction, source: images.ImageSource, *, private: bool
) -> None:
    """Download the (already checked) image, ask the recommender with the user's taste, send the answer."""
    recommender = client.require_recommender()
    data = await client.download(source)
    taste = await client.taste_of(interaction.user.id)
    answer, query_image = await recommender.similar(
        data, k=TITLES_PER_ANSWER, taste=taste, allow_adult=await prefs.adult_here(interaction)
    )
    tr = tr_for(interaction)
    threshold = client.settings.discord.nsfw_threshold
    hide = checks.hide_upload(answer.screen, interaction.channel, private=private, threshold=threshold)
    drawing = client.settings.discord.not_drawing_threshold
    not_drawn = answer.screen is not None and answer.screen.drawn < drawing
    await send_answer(
        client,
        interaction,
        answer,
        heading=tr._("Webtoons drawn like your image"),
        private=private,
        query_image=query_image,
        include_query=not hide,
        query_note=tr._(embeds.NOT_A_DRAWING) if not_drawn else None,
        tr=tr,
    )
    if hide:
        log.info(
            "interaction %s: image left off the contact sheet (explicit score %.2f ≥ %.2f)",
            interaction.id,
            answer.screen.explicit,
            threshold,
        )
        try:  # the titles are answered already; a lost notice is logged, not shown
            await interaction.followup.send(tr._(embeds.UPLOAD_LEFT_OUT), ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("interaction %s: the left-out notice failed: %s", interaction.id, exc)


async def genres_from(
    client: Toonmatch, interaction: discord.Interaction, source: images.ImageSource, *, private: bool
) -> None:
    recommender = client.require_recommender()
    data = await client.download(source)
    guesses, panels = await recommender.genres(data)
    embed = embeds.genres(guesses, panels, synthetic=recommender.synthetic, tr=tr_for(interaction))
    await errors.send_final(interaction, embed=embed, ephemeral=private)
    log.info("interaction %s: guessed genres over %d panel(s)", interaction.id, panels)
