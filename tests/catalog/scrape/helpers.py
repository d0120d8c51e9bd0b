"""Assertions shared by the scraper tests."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from catalog.format import load_catalog


def catalog_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "catalog.jsonl").read_text(encoding="utf-8").splitlines()]


def without_timestamps(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "scraped_at"} for row in rows]


def temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]


def assert_complete_and_valid(out: Path) -> list[dict]:
    """The catalogue loads, every image it lists decodes fully, nothing half-written is left anywhere."""
    catalog = load_catalog(out)
    rows = catalog_lines(out)
    assert [r["id"] for r in rows] == [t.id for t in catalog.titles]
    ids = [int(r["id"].split(":")[1]) for r in rows]
    assert ids == sorted(ids), "titles must be sorted by id"
    assert temp_files(out) == []
    for path in (out / "images").iterdir():
        with Image.open(path) as im:
            im.load()
    for title in catalog.titles:
        assert all(p.is_file() for p in title.images)
    for line in (out / ".scrape" / "journal.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line)
    return rows


def snapshot(out: Path) -> tuple[list[dict], dict[str, bytes]]:
    """Catalogue lines without timestamps and every image file's bytes: equal snapshots = identical catalogues."""
    images = {p.name: p.read_bytes() for p in sorted((out / "images").iterdir())}
    return without_timestamps(catalog_lines(out)), images
