"""Catalogues: the format (:mod:`catalog.format`), the Naver scraper (:mod:`catalog.scrape`) and the
synthetic demo-catalogue generator (:mod:`catalog.demo`). Imports neither ``ml``, ``db`` nor ``bot``."""
