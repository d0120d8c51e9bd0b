"""Serving: the engine (models + Annoy index), the async recommender front, title search, contact sheets."""
