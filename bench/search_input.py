"""Title search on awkward input: how long a query takes by its length, and whether other Unicode forms still match.

    python bench/search_input.py [--catalog ../shared/data/webtoons]

Builds ``ml.serve.search.TitleSearch`` over a catalogue (the shared development data when present, else a
synthetic 10,000-title list) and prints the time of one ``search`` (what autocomplete runs inline, on the event
loop) for queries of 10 to 20,000 characters, and the rank of a title found through decomposed Hangul, full-width
Latin and zero-width characters.
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from pathlib import Path

if __package__ in (None, ""):  # `python bench/search_input.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.format import Title
from ml.serve.search import TitleSearch

LENGTHS = (10, 100, 1_000, 20_000)


def _titles(catalog: Path | None) -> list[Title]:
    if catalog is not None and (catalog / "catalog.jsonl").exists():
        from catalog.format import load_catalog

        return list(load_catalog(catalog).titles)
    syllables = "가나다라마바사아자차카타파하신의탑전지적독자시점"
    return [
        Title(
            id=f"x:{i}",
            title="".join(syllables[(i * 7 + j * 3) % len(syllables)] for j in range(4 + i % 6)),
            title_en=f"Title {i} of the synthetic list" if i % 2 else None,
            authors=(f"작가{i % 300}",),
            genres=("drama",),
            images=(),
        )
        for i in range(10_000)
    ]


def _time(search: TitleSearch, query: str, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        search.search(query, 50)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--catalog", type=Path, default=Path("../shared/data/webtoons"))
    args = p.parse_args()
    titles = _titles(args.catalog)
    search = TitleSearch(titles)
    print(f"{len(titles)} titles")
    for n in LENGTHS:
        print(f"query of {n:>6} characters: {_time(search, ('신의 탑 tower ' * n)[:n]):7.2f} ms")
    hangul = [t for t in titles if any("\uac00" <= c <= "\ud7a3" for c in t.title)]
    target = next((t for t in hangul if t.title_en), hangul[0] if hangul else titles[0])
    forms = {
        "as written": target.title,
        "decomposed Hangul (NFD)": unicodedata.normalize("NFD", target.title),
        "zero-width spaces": "\u200b".join(target.title),
    }
    targets = dict.fromkeys(forms, target)
    english = next((t for t in titles if t.title_en), None)
    if english is not None:
        forms["full-width Latin"] = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in english.title_en)
        targets["full-width Latin"] = english
    for name, query in forms.items():
        ids = [m.title_id for m in search.search(query, 25)]
        wanted = targets[name].id
        rank = ids.index(wanted) + 1 if wanted in ids else None
        print(f"{name:>24}: {wanted} at rank {rank}")


if __name__ == "__main__":
    main()
