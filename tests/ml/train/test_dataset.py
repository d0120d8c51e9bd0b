"""Training data: the seeded, genre-stratified title split and the label vocabularies."""

from __future__ import annotations

from pathlib import Path

from catalog.format import Title
from ml.train.dataset import SPLITS, build_labels, split_titles


def title(tid: str, genres: tuple[str, ...] = (), authors: tuple[str, ...] = ()) -> Title:
    return Title(tid, tid, authors, genres, (Path(f"/x/{tid}.png"),))


def catalogue() -> list[Title]:
    """20 action, 8 romance, 2 horror, 1 comedy and 5 titles without a genre."""
    counts = {"action": 20, "romance": 8, "horror": 2, "comedy": 1, None: 5}
    return [
        title(f"{genre or 'none'}{i:02d}", (genre,) if genre else ()) for genre, n in counts.items() for i in range(n)
    ]


def test_same_seed_same_split_whatever_the_order():
    titles = catalogue()
    assert split_titles(titles, seed=3) == split_titles(list(reversed(titles)), seed=3)


def test_another_seed_another_split():
    titles = catalogue()
    assert split_titles(titles, seed=0) != split_titles(titles, seed=1)


def test_every_title_in_exactly_one_split():
    titles = catalogue()
    for seed in range(5):
        split = split_titles(titles, seed)
        assert list(split) == list(SPLITS)
        ids = [t for name in SPLITS for t in split[name]]
        assert sorted(ids) == sorted(t.id for t in titles)  # no title lost, none in two splits
        assert all(split[name] == sorted(split[name]) for name in SPLITS)


def test_each_genre_is_dealt_65_15_20():
    split = split_titles(catalogue(), seed=0)

    def count(prefix: str) -> tuple[int, ...]:
        return tuple(sum(t.startswith(prefix) for t in split[name]) for name in SPLITS)

    assert count("action") == (13, 3, 4)
    assert count("romance") == (5, 1, 2)
    assert count("none") == (3, 1, 1)  # titles without a genre are split as one group


def test_rare_genres_stay_in_training():
    split = split_titles(catalogue(), seed=0)
    assert {t for t in split["train"] if t.startswith(("horror", "comedy"))} == {"horror00", "horror01", "comedy00"}


def test_labels_come_from_the_training_titles_most_frequent_first():
    train = [
        title("a", ("romance",), ("Kim",)),
        title("b", ("action", "romance"), ("Lee", "Kim")),
        title("c", ("action",), ("Lee",)),
        title("d", ("drama",), ("Park",)),
        title("e", ("action",), ()),
    ]
    labels = build_labels(train)
    assert labels.genres == ("action", "drama", "romance")  # primary genres only; ties alphabetical
    assert labels.authors == ("Lee", "Kim", "Park")  # first authors only
    assert labels.genre_index(title("x", ("horror",))) == -1  # unseen in training
    assert labels.genre_index(title("y")) == -1
    assert labels.author_index(title("z", ("action",), ("Park",))) == 2
