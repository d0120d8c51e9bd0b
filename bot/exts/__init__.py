"""Cogs, one per feature (a package when it outgrows a module); :meth:`bot.bot.Toonmatch.setup_hook` loads every
module and package here as one extension (:func:`bot.bot.extension_names`)."""
