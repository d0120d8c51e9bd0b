"""What every layer shares: user-facing errors, settings and logging. Imports nothing of the project."""
