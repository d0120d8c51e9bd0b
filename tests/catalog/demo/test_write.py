"""A written demo catalogue folder: valid, labelled, deterministic, and its styles are learnable."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from catalog.demo import GENRES, README_MARKER, generate_demo_catalog, number_of_authors
from catalog.format import CATALOG_FILE, load_catalog
from core.errors import CatalogError

N_TITLES = 60
HANGUL = re.compile("[가-힣]")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return generate_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog", n_titles=N_TITLES, seed=0)


@pytest.fixture(scope="module")
def rows(demo) -> list[dict]:
    return [json.loads(line) for line in (demo / CATALOG_FILE).read_text(encoding="utf-8").splitlines()]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_loads_with_the_catalogue_loader(demo):
    catalog = load_catalog(demo, require_images=True)
    assert len(catalog) == N_TITLES
    assert all(t.images and t.genres and t.authors for t in catalog.titles)


def test_genres_and_authors(demo):
    catalog = load_catalog(demo)
    assert {t.primary_genre for t in catalog.titles} == set(GENRES)
    assert len(GENRES) == 8 and set(GENRES) <= {
        "romance", "fantasy", "action", "slice_of_life", "comedy", "thriller", "drama", "sports",
        "historical", "martial_arts", "sensibility",
    }  # fmt: skip
    artists: dict[str, list[str]] = defaultdict(list)
    for t in catalog.titles:
        artists[t.authors[0]].append(t.primary_genre)
    assert len(artists) == number_of_authors(N_TITLES) == 10
    assert all(len(g) >= 2 for g in artists.values()), "every author has at least two titles"
    assert all(1 <= len(set(g)) <= 2 for g in artists.values()), "every author works in one or two genres"
    credits = Counter(a for t in catalog.titles for a in t.authors)
    assert set(credits) == set(artists)  # writer credits only name authors who also draw titles
    assert all(len(t.authors) == len(set(t.authors)) for t in catalog.titles)


def test_everything_is_labelled_synthetic(demo, rows):
    for r in rows:
        assert r["id"].startswith("demo:") and r["source"] == "demo"
        assert "url" in r and r["url"] is None
        assert "[DEMO]" in r["title"] or "(데모)" in r["title"]
        assert r["title_en"] is None or r["title_en"].startswith("[DEMO] ")
        assert "synthetic" in r["synopsis"].lower()
        assert "demo" in r["tags"]
        assert all(a.endswith(("(demo)", "(데모)")) for a in r["authors"])
        assert all(Path(p).name.startswith("demo_") and p.endswith(".png") for p in r["images"])
    korean = [r for r in rows if HANGUL.search(r["title"])]
    assert len(rows) // 2 <= len(korean) < len(rows), "mostly Korean titles, some English-only"
    assert all(r["title_en"] for r in korean)
    readme = (demo / "README.md").read_text(encoding="utf-8")
    assert README_MARKER in readme and "synthetic" in readme.lower()


def test_ranks_adult_flags_and_scores(rows):
    assert sorted(r["popularity_rank"] for r in rows) == list(range(1, N_TITLES + 1))
    assert [r["popularity_rank"] for r in rows] != list(range(1, N_TITLES + 1))  # shuffled
    assert all(isinstance(r["adult"], bool) for r in rows)
    assert 1 <= sum(r["adult"] for r in rows) <= max(1, N_TITLES // 20)
    assert all(isinstance(r["star_score"], float) for r in rows)
    assert len({r["id"] for r in rows}) == len({r["title"] for r in rows}) == N_TITLES


def test_images_are_png_thumbnails_that_decode(demo):
    catalog = load_catalog(demo)
    counts = Counter(len(t.images) for t in catalog.titles)
    assert set(counts) <= {1, 2, 3} and counts[1] > counts.get(3, 0) and len(counts) > 1
    sizes = Counter()
    for t in catalog.titles:
        for path in t.images:
            with Image.open(path) as im:
                assert im.format == "PNG"
                im.load()
                assert im.mode == "RGB"
                sizes[im.size] += 1
    assert set(sizes) <= {(125, 101), (83, 90), (308, 400), (480, 623), (202, 120)}
    assert sizes[(125, 101)] >= N_TITLES // 4 and len(sizes) >= 3
    # a title's images are variations on one look, not copies
    multi = next(t for t in catalog.titles if len(t.images) > 1)
    assert len({p.read_bytes() for p in multi.images}) == len(multi.images)


def test_fixed_size_and_image_count(tmp_path):
    out = generate_demo_catalog(tmp_path / "c", n_titles=10, seed=3, images_per_title=2, size=(64, 48))
    catalog = load_catalog(out)
    assert all(len(t.images) == 2 for t in catalog.titles)
    for t in catalog.titles:
        for path in t.images:
            with Image.open(path) as im:
                assert im.size == (64, 48)


def test_deterministic_and_rerun_into_the_same_folder(demo, tmp_path):
    other = tmp_path / "again"
    generate_demo_catalog(other, n_titles=20, seed=5)  # an earlier, different demo catalogue in the folder...
    assert (other / CATALOG_FILE).read_bytes() != (demo / CATALOG_FILE).read_bytes()
    generate_demo_catalog(other, n_titles=N_TITLES, seed=0)  # ...is replaced, leaving no stale images
    assert _files(other) == _files(demo)


def test_refuses_a_folder_that_is_not_a_demo_catalogue(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CatalogError, match="not empty"):
        generate_demo_catalog(tmp_path, n_titles=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    "kwargs",
    [{"n_titles": 1}, {"n_titles": 2.5}, {"seed": -1}, {"images_per_title": 0}, {"images_per_title": (3, 1)},
     {"size": (8, 8)}],
)  # fmt: skip
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_demo_catalog(tmp_path / "c", **{"n_titles": 4, **kwargs})
    assert not (tmp_path / "c").exists()


def _hsv_histogram(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        hsv = np.asarray(im.convert("RGB").resize((32, 32)).convert("HSV")).reshape(-1, 3).astype(int)
    bins = (hsv[:, 0] * 8 // 256) * 9 + (hsv[:, 1] * 3 // 256) * 3 + hsv[:, 2] * 3 // 256
    hist = np.bincount(bins, minlength=72).astype(float)
    return hist / hist.sum()


def test_genre_styles_are_separable_by_colour_alone(demo):
    """Nearest-centroid on colour histograms of covers, trained on half the titles of each genre, tested on the rest."""
    catalog = load_catalog(demo)
    features = np.stack([_hsv_histogram(t.cover) for t in catalog.titles])
    labels = np.array([t.primary_genre for t in catalog.titles])
    rng = np.random.default_rng(0)
    train, test = [], []
    for genre in GENRES:
        idx = rng.permutation(np.flatnonzero(labels == genre))
        train += list(idx[: (len(idx) + 1) // 2])
        test += list(idx[(len(idx) + 1) // 2 :])
    centroids = np.stack([features[train][labels[train] == g].mean(axis=0) for g in GENRES])
    distances = ((features[test][:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    accuracy = float((np.array(GENRES)[distances.argmin(axis=1)] == labels[test]).mean())
    assert accuracy >= 0.6, f"genre accuracy {accuracy:.2f} (chance {1 / len(GENRES):.2f})"
