"""Cogs, one per feature; :meth:`bot.bot.Toonmatch.setup_hook` loads every module here."""
