"""The Toonmatch Discord bot: ``python -m bot`` (see :mod:`bot.__main__`, :mod:`bot.bot` and docs/discord.md).

Layout: :mod:`bot.bot` (Bot subclass, start-up, command sync), ``bot/exts/`` (one cog per feature), and shared
presentation — :mod:`bot.embeds` (every embed and sentence), :mod:`bot.views` (persistent buttons and selects),
:mod:`bot.answers` (sending an engine answer), :mod:`bot.images` (getting image bytes out of Discord),
:mod:`bot.checks` (cooldown, NSFW, deferring) and :mod:`bot.errors` (the one place failures become messages).
"""
