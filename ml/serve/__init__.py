"""Serving: the engine (models + Annoy index), the async recommender front, title search, contact sheets."""

TITLES_PER_ANSWER = 24  # titles in one answer: the 5 × 5 contact sheet holds them with the query first
