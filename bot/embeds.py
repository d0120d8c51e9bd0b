"""Every embed and every user-visible sentence of the bot (one place for wording, limits and colours).

Every function takes the reader's translator ``tr`` (:func:`bot.i18n.tr_for`; English by default) and writes each
sentence with ``tr._("English source text {field}", field=...)``: the catalogues (``core/locales``) hold the other
languages, and ``make i18n`` picks new sentences up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import discord
from discord.utils import escape_markdown, format_dt

from bot.i18n import ENGLISH, N_, PERMISSION_NAMES, Translator, language_name, perm_names
from bot.i18n import genre_name as _genre_name
from catalog.format import Title
from db.queries import GuildPrefs, RatingPage
from ml.serve import TITLES_PER_ANSWER
from ml.serve.results import Answer, GenreGuess, Result

BRAND = discord.Colour(0x00C73C)  # webtoon green
WARN = discord.Colour(0xF0A020)
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
DEMO_NOTE = N_("[DEMO] synthetic catalogue — titles and covers are generated")
NOT_A_DRAWING = N_(
    "🖼️ This doesn't look much like a drawing (a photo, text or a blank picture?): the titles below are the nearest "
    "styles, but may be loose matches."
)
NOT_YOURS = N_(
    "🙅 Only {owner} can use this answer's buttons. Ask for your own: `/similar` with a picture, `/recommend` with "
    "a title, or right-click a message with a picture → Apps → *Find similar webtoons*."
)
CANNOT_DELETE = N_("🙅 Only {owner} or a member who can manage messages can delete this answer.")
UPLOAD_LEFT_OUT = N_(
    "🙈 I left the image out of the picture because it looks explicit and this channel isn't age-restricted. "
    "Here are the titles anyway."
)


def clip(text: str, limit: int, *, oneline: bool = True) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (whitespace collapsed unless ``oneline`` is false)."""
    text = " ".join(str(text).split()) if oneline else str(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def genre_name(genre: str, tr: Translator = ENGLISH) -> str:
    return _genre_name(genre, tr)


def pct(p: float) -> str:
    return f"{max(0.0, min(1.0, float(p))) * 100:.0f}%"


def _name(title: Title, limit: int = 60, *, in_link: bool = False, tr: Translator = ENGLISH) -> str:
    name = clip(_plain(title, tr), limit)
    if in_link:  # brackets would end the masked link's text early
        name = name.replace("[", "⁅").replace("]", "⁆")
    return escape_markdown(name)


def _linked(title: Title, limit: int = 60, *, link: bool = True, tr: Translator = ENGLISH) -> str:
    if link and title.page_url:
        return f"[{_name(title, limit, in_link=True, tr=tr)}]({title.page_url})"
    return f"**{_name(title, limit, tr=tr)}**"


def genre_line(guesses: Sequence[GenreGuess], tr: Translator = ENGLISH) -> str:
    return " · ".join(f"**{escape_markdown(genre_name(g.genre, tr))}** {pct(g.probability)}" for g in guesses)


def reason_text(reason: str | None, tr: Translator = ENGLISH) -> str | None:
    """A result's reason ("because you liked …", "same author") in the reader's language (a
    :class:`core.i18n.Msg` from ml; text read back from a message is shown as it is)."""
    return tr._(reason) if reason else None


@dataclass(frozen=True)
class Line:
    """One result as an answer lists it: its number on the contact sheet, the title (``None`` once it left the
    catalogue: ``name`` is shown instead), the similarity (0–1) and why it was chosen."""

    n: int
    name: str
    similarity: float
    reason: str | None = None
    title: Title | None = None


def lines_of(results: Sequence[Result]) -> list[Line]:
    return [Line(n, r.title.title, r.similarity, r.reason, r.title) for n, r in enumerate(results, start=1)]


def result_lines(
    lines: Sequence[Line], *, link: bool = True, name_limit: int = 60, tr: Translator = ENGLISH
) -> list[str]:
    out = []
    for line in lines:
        if line.title is not None:
            name = _linked(line.title, name_limit, link=link, tr=tr)
        else:  # gone from the catalogue since the answer was sent
            name = f"**{escape_markdown(clip(line.name, name_limit))}**"
        text = f"`{line.n:>2}` {name} · {pct(line.similarity)}"
        if line.reason:
            text += f" — *{escape_markdown(reason_text(line.reason, tr))}*"
        out.append(text)
    return out


def _fit(lines: Sequence[Line], limit: int = FIELD_LIMIT, *, tr: Translator = ENGLISH) -> str:
    """The numbered results, shortened (no English title, then no links) until they fit."""
    for link, name_limit in ((True, 60), (True, 32), (False, 40), (False, 24)):
        text = "\n".join(result_lines(lines, link=link, name_limit=name_limit, tr=tr))
        if len(text) <= limit:
            return text
    return clip(text, limit, oneline=False)


def results_page(
    embed: discord.Embed, lines: Sequence[Line], page: int, *, per_page: int, tr: Translator = ENGLISH
) -> discord.Embed:
    """``embed`` showing page ``page`` of ``lines`` (its results field replaced; the rest of the answer kept)."""
    shown = lines[page * per_page : (page + 1) * per_page]
    embed.clear_fields()
    if shown:
        if len(lines) > 1:
            name = tr._(
                "Closest styles · {first}–{last} of {total}",
                first=tr.num(shown[0].n),
                last=tr.num(shown[-1].n),
                total=tr.num(len(lines)),
            )
        else:
            name = tr._("Closest style")
        embed.add_field(name=name, value=_fit(shown, tr=tr), inline=False)
    return embed


def answer(
    ans: Answer,
    *,
    heading: str,
    synthetic: bool,
    image_name: str | None,
    per_page: int,
    query_note: str | None = None,
    tr: Translator = ENGLISH,
) -> discord.Embed:
    """The answer of /similar, /recommend and "Find similar webtoons", phone-sized: the genre line and notes, the
    first ``per_page`` results (numbered as on the contact sheet, linked, with scores and "because you liked …"),
    the contact sheet with all of them as the image. The pager redraws the results with :func:`results_page`.
    ``heading`` and ``query_note`` are already in the reader's language."""
    head = []
    if ans.source is not None:
        listed = " · ".join(f"**{escape_markdown(genre_name(g, tr))}**" for g in ans.source.genres) or tr._(
            "not listed"
        )
        head.append(tr._("Genres of {title}: {genres}", title=_linked(ans.source, tr=tr), genres=listed))
        if ans.genres:
            head.append(tr._("Its cover reads as: {genres}", genres=genre_line(ans.genres, tr)))
    elif ans.genres:
        if ans.panels > 1:
            text = tr.ngettext(
                "Genre guess (read as {n} panel): {genres}",
                "Genre guess (read as {n} panels): {genres}",
                ans.panels,
                genres=genre_line(ans.genres, tr),
            )
        else:
            text = tr._("Genre guess: {genres}", genres=genre_line(ans.genres, tr))
        head.append(text)
    if query_note:
        head.append(query_note)
    if ans.low_confidence:
        why = tr._(ans.message) if ans.message else tr._("these are the nearest styles")
        head.append(tr._("⚠️ **No close match** — {why}.", why=why))
    if not ans.results:
        head.append(tr._("I found no titles to show here."))
    embed = discord.Embed(
        title=clip(heading, 256),
        description=clip("\n".join(head), DESCRIPTION_LIMIT, oneline=False) or None,
        colour=WARN if ans.low_confidence else BRAND,
    )
    results_page(embed, lines_of(ans.results), 0, per_page=per_page, tr=tr)
    if image_name:
        embed.set_image(url=f"attachment://{image_name}")
    footer = tr._("All numbers are on the picture · pick one to see it and rate it · 👍/👎 shape your next answers")
    embed.set_footer(text=f"{tr._(DEMO_NOTE)}\n{footer}" if synthetic else footer)
    return embed


def genres(guesses: Sequence[GenreGuess], panels: int, *, synthetic: bool, tr: Translator = ENGLISH) -> discord.Embed:
    lines = []
    for i, g in enumerate(guesses, start=1):
        bar = "█" * round(g.probability * 10) + "░" * (10 - round(g.probability * 10))
        lines.append(f"`{i}.` **{escape_markdown(genre_name(g.genre, tr))}** `{bar}` {pct(g.probability)}")
    if panels > 1:
        lines.append(
            "\n"
            + tr.ngettext(
                "A tall strip: I read it as {n} panel and averaged them.",
                "A tall strip: I read it as {n} panels and averaged them.",
                panels,
            )
        )
    embed = discord.Embed(
        title=tr._("Genre guess"), description="\n".join(lines) or tr._("No genres known."), colour=BRAND
    )
    if synthetic:
        embed.set_footer(text=tr._(DEMO_NOTE))
    return embed


def rating_feedback(name: str, value: int, state: int, *, tr: Translator = ENGLISH) -> str:
    name = f"**{escape_markdown(name)}**"
    if state > 0:
        return tr._("👍 Noted: you like {title}. Your next answers lean towards titles like it.", title=name)
    if state < 0:
        return tr._(
            "👎 Noted: {title} is not for you. I won't suggest it again and steer away from similar ones.", title=name
        )
    if value > 0:
        return tr._("Removed your 👍 for {title}.", title=name)
    return tr._("Removed your 👎 for {title}.", title=name)


def title_card(title: Title | None, title_id: str, rating: int, *, tr: Translator = ENGLISH) -> discord.Embed:
    if title is None:
        embed = discord.Embed(title=clip(title_id, 256), description=tr._("This title is no longer in the catalogue."))
    else:
        embed = discord.Embed(title=clip(_plain(title, tr), 256), url=title.page_url, colour=BRAND)
        if title.authors:
            embed.add_field(name=tr._("By"), value=clip(", ".join(title.authors), 1024))
        if title.genres:
            embed.add_field(name=tr._("Genres"), value=clip(", ".join(genre_name(g, tr) for g in title.genres), 1024))
        if title.synopsis:
            embed.description = clip(title.synopsis, 600)
    states = {1: tr._("👍 You like this."), -1: tr._("👎 Marked as not for you."), 0: tr._("Not rated yet.")}
    embed.set_footer(text=f"{states[max(-1, min(1, rating))]} · {title_id}")
    return embed


def likes(page: RatingPage, names: dict[str, str], *, tr: Translator = ENGLISH) -> discord.Embed:
    if not page.total:
        return discord.Embed(
            title=tr._("Your ratings"),
            description=tr._("You haven't rated anything yet. Use 👍 / 👎 under any answer."),
            colour=BRAND,
        )
    lines = []
    for n, entry in enumerate(page.items, start=page.offset + 1):
        icon = "👍" if entry.value > 0 else "👎"
        when = format_dt(_aware(entry.updated_at), "R")
        lines.append(
            f"`{n:>2}` {icon} **{escape_markdown(clip(names.get(entry.title_id, entry.title_id), 60))}** · {when}"
        )
    last = page.offset + len(page.items)
    embed = discord.Embed(
        title=tr._("Your ratings ({n})", n=tr.num(page.total)), description="\n".join(lines), colour=BRAND
    )
    embed.set_footer(
        text=tr._(
            "{first}–{last} of {total} · ✖ removes a rating",
            first=tr.num(page.offset + 1),
            last=tr.num(last),
            total=tr.num(page.total),
        )
    )
    return embed


def _aware(dt: datetime) -> datetime:
    from datetime import UTC

    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def forget_prompt(n_ratings: int, *, tr: Translator = ENGLISH) -> discord.Embed:
    ratings = tr.ngettext("your {n} rating", "your {n} ratings", n_ratings)
    return discord.Embed(
        title=tr._("Forget me?"),
        description=tr._(
            "This deletes everything Toonmatch stores about you: {ratings}, the titles you were shown and the "
            "servers you used it in. It can't be undone.\n\nYou can download a copy first.",
            ratings=ratings,
        ),
        colour=WARN,
    )


def forgotten(deleted: int, *, tr: Translator = ENGLISH) -> str:
    return tr.ngettext(
        "🗑️ Done — deleted {n} record. Toonmatch no longer knows anything about you.",
        "🗑️ Done — deleted {n} records. Toonmatch no longer knows anything about you.",
        deleted,
    )


def discovery(
    results: Sequence[Result], thumbnails: dict[str, str], *, synthetic: bool, tr: Translator = ENGLISH
) -> list[discord.Embed]:
    """One embed per discovery pick: title (linked), authors, genres, why it was picked, a short synopsis."""
    out = []
    for n, r in enumerate(results, start=1):
        t = r.title
        mark = "🆕 " if r.new else ""  # added by a recent catalogue refresh
        embed = discord.Embed(title=clip(f"{n}. {mark}{_plain(t, tr)}", 256), url=t.page_url, colour=BRAND)
        lines = []
        if t.authors:
            lines.append(tr._("by {authors}", authors=escape_markdown(", ".join(t.authors))))
        if t.genres:
            lines.append(" · ".join(escape_markdown(genre_name(g, tr)) for g in t.genres[:3]))
        if r.reason:
            lines.append(f"*{escape_markdown(reason_text(r.reason, tr))}*")
        if t.synopsis:
            lines.append("\n" + escape_markdown(clip(t.synopsis, 300)))
        embed.description = clip("\n".join(lines), 1500, oneline=False) or None
        if t.id in thumbnails:
            embed.set_thumbnail(url=f"attachment://{thumbnails[t.id]}")
        if synthetic and n == len(results):
            embed.set_footer(text=tr._(DEMO_NOTE))
        out.append(embed)
    return out


def _plain(title: Title, tr: Translator = ENGLISH) -> str:
    """The title as the reader knows it, its other name in brackets."""
    other = tr.other_title(title)
    return tr.title(title) + (f" ({other})" if other else "")


def title_label(title: Title, tr: Translator = ENGLISH) -> str:
    """The title alone as the reader knows it (buttons, select options)."""
    return tr.title(title)


DISCOVERY_HEADER = N_("🔭 **Discovery** — lesser-known webtoons this server might like. Rate them with 👍 / 👎.")


def discovery_header(tr: Translator = ENGLISH) -> str:
    return tr._(DISCOVERY_HEADER)


#: Why discovery stopped in a server: stored in English (``guild_settings.discovery_disabled_reason``, read by
#: admins' tools too) and shown in the reader's language by matching these templates.
REASON_CHANNEL_DELETED = N_("the discovery channel was deleted")
REASON_CHANNEL_HIDDEN = N_("I can no longer see the discovery channel")
REASON_NOT_TEXT = N_("the discovery channel is not a text channel any more")
REASON_MISSING = N_("I'm missing {permissions} in #{channel}")
REASON_FORBIDDEN = N_("I'm not allowed to post in #{channel}")
DISCOVERY_REASONS = (REASON_CHANNEL_DELETED, REASON_CHANNEL_HIDDEN, REASON_NOT_TEXT, REASON_MISSING, REASON_FORBIDDEN)


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(pattern + r"\Z", re.S)


def disabled_reason(reason: str, tr: Translator = ENGLISH) -> str:
    """A stored reason why discovery stopped (English in the database) in the reader's language; a reason of no
    known form is shown as it is."""
    for template in DISCOVERY_REASONS:
        match = _template_regex(template).match(reason)
        if match is None:
            continue
        params = match.groupdict()
        if "permissions" in params:
            english = {ENGLISH._(v): k for k, v in PERMISSION_NAMES.items()}
            names = [english.get(p.strip()) for p in params["permissions"].split(",")]
            if all(names):
                params["permissions"] = perm_names(names, tr)  # type: ignore[arg-type]
        return tr._(template, **params)
    return reason


def discovery_status(prefs: GuildPrefs, channel_mention: str | None, *, tr: Translator = ENGLISH) -> str:
    if prefs.discovery_disabled_reason:
        return tr._(
            "⚠️ Discovery posts were turned off: {reason}. Fix it and run `/discovery set` again.",
            reason=disabled_reason(prefs.discovery_disabled_reason, tr),
        )
    if not prefs.discovery_enabled:
        return tr._("Discovery posts are off. Turn them on with `/discovery set`.")
    when = format_dt(_aware(prefs.next_post_at), "R") if prefs.next_post_at else tr._("soon")
    return tr.ngettext(
        "Discovery posts go to {channel} every {n} hour; the next one {when}.",
        "Discovery posts go to {channel} every {n} hours; the next one {when}.",
        prefs.discovery_every_hours,
        channel=channel_mention or tr._("the configured channel"),
        when=when,
    )


def looks_like(guesses: Sequence[GenreGuess], results: Sequence[Result], *, tr: Translator = ENGLISH) -> str:
    names = ", ".join(_linked(r.title, 40, tr=tr) for r in results[:3])
    if guesses:
        genre = f"{escape_markdown(genre_name(guesses[0].genre, tr))} ({pct(guesses[0].probability)})"
        if names:
            return tr._("👀 Looks like **{genre}** — drawn a bit like {titles}.", genre=genre, titles=names)
        return tr._("👀 Looks like **{genre}**.", genre=genre)
    if names:
        return tr._("👀 Looks like **a webtoon** — drawn a bit like {titles}.", titles=names)
    return tr._("👀 Looks like **a webtoon**.")


def _engine_error(error: str | None, tr: Translator) -> str:
    """Why the engine is not loaded (a :class:`core.i18n.Msg` from start-up), in the reader's language."""
    return tr._(error) if error else tr._("no run folder")


def engine_status(recommender, error: str | None, *, tr: Translator = ENGLISH) -> str:
    """/help's one line about the recommendation engine."""
    if recommender is None:
        return tr._(
            "⚠️ not loaded ({reason}) — image and title commands are off",
            reason=_engine_error(error, tr),
        )
    return tr.ngettext("ready — {n} title", "ready — {n} titles", len(recommender.titles))


def help_embed(
    *,
    engine_status: str,
    synthetic: bool,
    version: str | None = None,
    titles: int | None = None,
    privacy_url: str | None = None,
    tr: Translator = ENGLISH,
) -> discord.Embed:
    embed = discord.Embed(
        title=tr._("Toonmatch — webtoons from pictures"),
        description=tr._(
            "Show me a picture (a panel, a cover or a screenshot) and I'll find webtoons drawn in a similar style. "
            "Rate what I show you with 👍 / 👎 and my next answers follow your taste."
        ),
        colour=BRAND,
    )
    cmd = _command_names(tr)
    embed.add_field(
        name=tr._("Commands"),
        value="\n".join(
            [
                tr._(
                    "`/{similar} {image}` or `{link}` — webtoons that look like your image (the top 5, all {n} "
                    "numbered on the picture, pages for the rest)",
                    n=TITLES_PER_ANSWER,
                    **cmd,
                ),
                tr._("`/{recommend} {title}` — webtoons drawn like a title you know (Korean or English name)", **cmd),
                tr._(
                    "`/{genre} {image}` — the top-3 genre guesses for an image (tall strips are read panel by panel)",
                    **cmd,
                ),
                tr._("Right-click a message → **Apps** → *{find_similar}* / *{guess_genre}*", **cmd),
                tr._("`/{likes}` — your ratings; remove any", **cmd),
                tr._("`/{forget_me}` — delete everything stored about you", **cmd),
                tr._(
                    "Add `{private}: True` to /{similar}, /{recommend} or /{genre} for an answer only you see. An "
                    "answer's buttons are yours alone; 🗑 deletes it.",
                    **cmd,
                ),
            ]
        ),
        inline=False,
    )
    embed.add_field(
        name=tr._("For server admins (Manage Server)"),
        value=tr._(
            "`/{discovery} {set} {channel} {every}` — post a few lesser-known titles that fit this server's taste "
            "every N hours (1–168); `{language}` picks the posts' language\n"
            "`/{discovery} {now}` — post one right away · `/{discovery} {off}` — stop",
            **cmd,
        ),
        inline=False,
    )
    embed.add_field(
        name=tr._("Good to know"),
        value="\n".join(
            [
                tr._(
                    "The percentage next to a title is how close its art style is, measured against this catalogue: "
                    "near {none} for unrelated titles, {typical} as close as a typical title's closest neighbour, "
                    "near {same} for the same cover. ⚠️ *No close match* means even the best is below what new "
                    "titles usually get.",
                    none="0%",
                    typical="75%",
                    same="100%",
                ),
                tr._(
                    "Adult titles appear only in age-restricted channels. Heavy commands have a short per-user "
                    "cooldown."
                ),
                tr._("Engine: {status}", status=engine_status),
            ]
        ),
        inline=False,
    )
    about = [tr._("Version {version}", version=f"`{version}`")] if version else []  # an id, as it is
    if titles is not None:
        about.append(tr.ngettext("{n} title in the catalogue", "{n} titles in the catalogue", titles))
    privacy = (
        tr._("[privacy statement]({url})", url=privacy_url)
        if privacy_url
        else tr._("privacy statement: ask the bot's owner")
    )
    about.append(tr._("{privacy} · `/{forget_me}` deletes your data", privacy=privacy, **cmd))
    embed.add_field(name=tr._("About"), value=" · ".join(about), inline=False)
    if synthetic:
        embed.set_footer(text=tr._(DEMO_NOTE))
    return embed


# --------------------------------------------------------------------------- /settings, /discovery status, /about


def settings(
    prefs: GuildPrefs, *, default_picks: int, changed: str | None = None, tr: Translator = ENGLISH
) -> discord.Embed:
    """``/settings show`` (and the answer to every change: the whole list, with what changed named; ``changed`` is
    in the reader's language already)."""
    if prefs.discovery_picks is not None:
        picks = tr.num(prefs.discovery_picks)
    else:
        picks = tr._("{n} (the bot's default)", n=tr.num(default_picks))
    embed = discord.Embed(
        title=tr._("⚙️ Server settings"),
        description=(
            tr._("✅ Changed: {what}.", what=changed)
            if changed
            else tr._("Change them with `/settings …` (Manage Server).")
        ),
        colour=BRAND,
    )
    privacy = (
        tr._("**private** — only the person who asked sees an answer, unless they choose `private:` themselves")
        if prefs.answers_private
        else tr._("**public**, unless they choose `private:` themselves")
    )
    embed.add_field(name=tr._("Answer privacy"), value=f"{privacy} · `/settings privacy`", inline=False)
    embed.add_field(
        name=tr._("Titles per discovery post"), value=f"**{picks}** · `/settings discovery-titles`", inline=False
    )
    adult = (
        tr._("**allowed** — only in channels marked age-restricted (18+)")
        if prefs.adult_allowed
        else tr._("**not allowed** — never shown, even in age-restricted channels")
    )
    embed.add_field(
        name=tr._("Adult titles in age-restricted channels"), value=f"{adult} · `/settings adult`", inline=False
    )
    if prefs.locale:
        embed.add_field(name=tr._("Language"), value=language_name(prefs.locale), inline=False)
    embed.add_field(name=tr._("Discovery posts"), value="`/discovery status`", inline=False)
    return embed


def discovery_report(
    prefs: GuildPrefs,
    channel_mention: str | None,
    *,
    last_post: datetime | None,
    picks: int,
    default_picks: bool,
    tr: Translator = ENGLISH,
) -> discord.Embed:
    """``/discovery status``: channel, schedule, last and next post, titles per post, language if set."""
    embed = discord.Embed(
        title=tr._("🔭 Discovery"), description=discovery_status(prefs, channel_mention, tr=tr), colour=BRAND
    )
    if prefs.discovery_channel_id is not None:
        embed.add_field(name=tr._("Channel"), value=channel_mention or f"<#{prefs.discovery_channel_id}>")
        embed.add_field(
            name=tr._("Schedule"),
            value=tr.ngettext("every {n} hour", "every {n} hours", prefs.discovery_every_hours),
        )
    embed.add_field(name=tr._("Last post"), value=format_dt(_aware(last_post), "R") if last_post else tr._("none yet"))
    if prefs.discovery_enabled and prefs.next_post_at is not None:
        when = _aware(prefs.next_post_at)
        embed.add_field(name=tr._("Next post"), value=f"{format_dt(when, 'f')} ({format_dt(when, 'R')})")
    count = tr.num(picks)
    embed.add_field(
        name=tr._("Titles per post"), value=tr._("{n} (the bot's default)", n=count) if default_picks else count
    )
    if prefs.locale:
        embed.add_field(name=tr._("Language"), value=language_name(prefs.locale))
    if prefs.discovery_disabled_reason:
        embed.colour = WARN
    return embed


def duration(seconds: float, tr: Translator = ENGLISH) -> str:
    """``93784`` → ``"1 d 2 h 3 min"`` (minutes at most; ``"< 1 min"`` below one)."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = (
        [tr._("{n} d", n=days)] * bool(days)
        + [tr._("{n} h", n=hours)] * bool(hours)
        + [tr._("{n} min", n=minutes)] * bool(minutes)
    )
    return " ".join(parts) or tr._("< 1 min")


def about(
    *,
    version: str,
    run_id: str | None,
    titles: int | None,
    generation: str | None,
    engine_error: str | None,
    uptime_s: float,
    servers: int,
    shards: str,
    answers: int,
    p50: float | None,
    p99: float | None,
    tr: Translator = ENGLISH,
) -> discord.Embed:
    """``/about`` (owner only)."""
    embed = discord.Embed(title=tr._("Toonmatch — status"), colour=BRAND)
    embed.add_field(name=tr._("Version"), value=version)
    if titles is None:
        embed.add_field(
            name=tr._("Engine"),
            value=tr._("⚠️ not loaded ({reason})", reason=_engine_error(engine_error, tr)),
            inline=False,
        )
    else:
        embed.add_field(name=tr._("Run"), value=run_id or "?")
        embed.add_field(name=tr._("Catalogue"), value=tr.ngettext("{n} title", "{n} titles", titles))
        embed.add_field(name=tr._("Index generation"), value=generation or "?")
    embed.add_field(name=tr._("Uptime"), value=duration(uptime_s, tr))
    embed.add_field(name=tr._("Servers"), value=tr.num(servers))
    embed.add_field(name=tr._("Shards"), value=shards)
    latency = f" · p50 {p50:.2f} s · p99 {p99:.2f} s" if p50 is not None and p99 is not None else ""
    embed.add_field(name=tr._("Answers in the last 24 h"), value=f"{tr.num(answers)}{latency}", inline=False)
    return embed


#: Command, option and menu names as they appear in /help (the same strings the command tree is translated from).
COMMAND_WORDS = {
    "similar": "similar",
    "image": "image",
    "link": "link",
    "recommend": "recommend",
    "title": "title",
    "genre": "genre",
    "likes": "likes",
    "forget_me": "forget-me",
    "private": "private",
    "discovery": "discovery",
    "set": "set",
    "channel": "channel",
    "every": "every",
    "language": "language",
    "now": "now",
    "off": "off",
    "find_similar": "Find similar webtoons",
    "guess_genre": "Guess genre",
}


def _command_names(tr: Translator) -> dict[str, str]:
    """The names the reader's client shows for the commands (their localised names)."""
    out = {}
    for key, word in COMMAND_WORDS.items():
        text = tr._(word)
        out[key] = text if key in ("find_similar", "guess_genre") else text.lower()
    return out
