"""Alembic migrations of the taste store; applied at start-up by :func:`db.migrate.upgrade`."""
