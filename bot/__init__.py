"""The Toonmatch Discord bot: ``python -m bot`` (see :mod:`bot.__main__`, :mod:`bot.bot` and docs/discord.md).

Layout: :mod:`bot.bot` (Bot subclass, start-up, command sync; it holds the database as ``bot.db`` and the
:class:`~ml.serve.recommender.Recommender` as ``bot.recommender``), ``bot/exts/`` (one cog per feature, Discord I/O
only; :mod:`bot.exts.discovery` is a package: cog, service and "looks like…" replies), and shared
presentation — :mod:`bot.embeds` (every embed and sentence), :mod:`bot.views` (persistent buttons and selects, one
module per feature), :mod:`bot.answers` (sending a recommender answer), :mod:`bot.images` (getting image bytes out of
Discord), :mod:`bot.checks` (cooldown, NSFW, deferring) and :mod:`bot.errors` (the one place failures become
messages).

The bot uses the recommender's own methods (answers, titles, search, covers, contact sheets), never the
:class:`~ml.serve.engine.Engine` behind it.
"""
