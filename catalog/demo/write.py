"""Writing a demo catalogue folder: argument checks, the README, the images and ``catalog.jsonl``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm import tqdm

from catalog.demo.plan import TitlePlan, plan_titles
from catalog.demo.render import render_cover
from catalog.demo.styles import GENRES, STYLE_BY_GENRE, AuthorStyle
from catalog.format import write_catalog
from core.errors import CatalogError

SOURCE = "demo"
README_MARKER = "Toonmatch synthetic demo catalogue"
DEFAULT_TITLES = 240
MAX_TITLES = 10_000
MAX_IMAGES_PER_TITLE = 40


def generate_demo_catalog(
    out_dir: str | Path,
    n_titles: int = DEFAULT_TITLES,
    seed: int = 0,
    images_per_title: int | tuple[int, int] = (1, 3),
    size: tuple[int, int] | None = None,
    *,
    progress: bool = False,
) -> Path:
    """Write a synthetic demo catalogue (``catalog.jsonl``, ``images/*.png``, ``README.md``) into ``out_dir``.

    ``images_per_title``: a fixed count or an inclusive ``(low, high)`` range (most titles get ``low``).
    ``size``: ``(width, height)`` for every image; ``None`` mixes real thumbnail sizes (125×101, 83×90, 308×400
    posters, 202×120 episode images). ``progress``: show a tqdm bar on stderr. Refuses a non-empty folder that is
    not already a demo catalogue (which it then overwrites). Returns the catalogue folder.
    """
    images_per_title, size = _checked_arguments(n_titles, seed, images_per_title, size)
    out = Path(out_dir).expanduser()
    _check_out_dir(out)
    plans, authors = plan_titles(n_titles, seed, images_per_title, size)
    images_dir = out / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    # The README (with its marker) goes first, so an interrupted run can be redone into the same folder.
    primary_genres = sorted({p.genres[0] for p in plans}, key=GENRES.index)
    (out / "README.md").write_text(
        _readme(n_titles, sum(len(p.sizes) for p in plans), authors, primary_genres, seed), encoding="utf-8"
    )

    rows: list[dict[str, Any]] = []
    written: set[str] = set()
    with tqdm(total=n_titles, desc="demo covers", unit="title", disable=not progress, leave=False) as bar:
        for index, p in enumerate(plans):
            rel_paths = _write_images(out, p, title_seed=(seed, 1, index))
            written.update(Path(rel).name for rel in rel_paths)
            rows.append(_row(p, rel_paths))
            bar.update(1)

    for stale in images_dir.glob("demo_*.png"):  # left over from an earlier, larger demo catalogue
        if stale.name not in written:
            stale.unlink()
    write_catalog(out, rows)
    return out.resolve()


def _checked_arguments(
    n_titles: int, seed: int, images_per_title: int | tuple[int, int], size: tuple[int, int] | None
) -> tuple[int | tuple[int, int], tuple[int, int] | None]:
    """``ValueError`` for an argument out of range; else ``(images_per_title, size)`` normalised."""
    if isinstance(n_titles, bool) or not isinstance(n_titles, int) or not 2 <= n_titles <= MAX_TITLES:
        raise ValueError(f"n_titles must be an integer from 2 to {MAX_TITLES}, got {n_titles!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    ipt = images_per_title
    lo, hi = (ipt, ipt) if isinstance(ipt, int) and not isinstance(ipt, bool) else tuple(ipt)  # type: ignore[arg-type]
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= MAX_IMAGES_PER_TITLE):
        raise ValueError(f"images_per_title must be from 1 to {MAX_IMAGES_PER_TITLE} (or a low ≤ high range)")
    if size is not None:
        if len(size) != 2 or not all(isinstance(s, int) and 16 <= s <= 2048 for s in size):
            raise ValueError(f"size must be (width, height) with each side from 16 to 2048, got {size!r}")
        size = (int(size[0]), int(size[1]))
    return (ipt if isinstance(ipt, int) else (lo, hi)), size


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CatalogError(f"output path exists and is not a folder: {out}")
    if out.is_dir() and any(out.iterdir()):
        readme = out / "README.md"
        is_demo = readme.is_file() and README_MARKER in readme.read_text(encoding="utf-8", errors="replace")
        if not is_demo:
            raise CatalogError(
                f"refusing to write into {out}: the folder is not empty and is not a demo catalogue "
                "(choose a new or empty folder)"
            )


def _write_images(out: Path, p: TitlePlan, *, title_seed: tuple[int, ...]) -> list[str]:
    """Draw and save a title's images; their paths relative to ``out``."""
    rel_paths = []
    for k, img_size in enumerate(p.sizes):
        img = render_cover(
            p.genres[0],
            p.artist,
            img_size,
            title_seed=title_seed,
            image_index=k,
            secondary=p.genres[1] if len(p.genres) > 1 else None,
        )
        rel = f"images/demo_{p.slug}_{k + 1:02d}.png"
        img.save(out / rel, format="PNG")
        rel_paths.append(rel)
    return rel_paths


def _row(p: TitlePlan, images: list[str]) -> dict[str, Any]:
    """The ``catalog.jsonl`` record of a planned title."""
    gs = STYLE_BY_GENRE[p.genres[0]]
    return {
        "id": f"{SOURCE}:{p.slug}",
        "title": p.title,
        "title_en": p.title_en,
        "authors": [p.artist.name] + ([p.writer] if p.writer else []),
        "genres": p.genres,
        "adult": p.adult,
        "source": SOURCE,
        "url": None,
        "popularity_rank": p.rank,
        "star_score": p.star,
        "tags": p.tags,
        "synopsis": (
            f"Synthetic demo title, not a real webtoon: a procedurally drawn {gs.name.replace('_', ' ')} "
            f"cover by the fictional artist {p.artist.name}. 실제 작품이 아닌 합성 데모({gs.ko})입니다."
        ),
        "images": images,
    }


def _readme(n_titles: int, n_images: int, authors: list[AuthorStyle], genres: list[str], seed: int) -> str:
    return f"""# {README_MARKER}

**Everything in this folder is synthetic.** The covers are procedurally drawn shapes and colours; the titles,
authors, synopses, ranks and scores are made up. None of it is a real webtoon. It exists so the Toonmatch pipeline
(train, index, evaluate, query, bot) can run on a fresh machine with no real data.

- {n_titles} titles, {n_images} PNG images, {len(authors)} fictional authors, genres: {", ".join(genres)}.
- Every record has `source: "demo"`, an id `demo:<slug>`, `[DEMO]` or `(데모)` in its title, `url: null`.
- Genre drives the palette, background and motifs; each author adds a signature (texture, line weight, accent
  shape and colour, eyes, border), so genre and author can be learned from the images.
- Metrics measured on this catalogue say nothing about real covers.

Regenerate with `python -m scripts.make_demo_catalog --out <folder> --titles {n_titles} --seed {seed}`
(deterministic: the same seed gives the same files).
"""
