"""Alembic revisions (loaded by file path; this file only makes the folder ship as package data)."""
