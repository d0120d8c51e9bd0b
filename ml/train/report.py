"""``report.md`` and its plots: our numbers beside the paper's, each genre-head part, retrieval vs the baseline."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from ml.run import BackboneInfo, RunConfig

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# The paper's test-set numbers (macro precision / recall / F1), reproduced beside ours.
PAPER = {
    "author": {"precision": 0.00325, "recall": 0.00664, "f1": 0.00389},
    "genre": {"precision": 0.22584, "recall": 0.28761, "f1": 0.17386},
}


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _row(name: str, m: dict) -> str:
    return (
        f"| {name} | {_fmt(m.get('precision'))} | {_fmt(m.get('recall'))} | {_fmt(m.get('f1'))} | "
        f"{_fmt(m.get('accuracy'))} | {_fmt(m.get('n'))} |"
    )


def plot_history(metrics: dict, path: Path) -> None:
    hist = metrics["history"]
    epochs = [h["epoch"] for h in hist]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for key in ("loss", "contrastive", "genre_ce", "author_ce"):
        if hist:  # a frozen pretrained backbone has no training history of its own
            axes[0].plot(epochs, [h[key] for h in hist], label=key)
    if metrics.get("paper_history"):
        axes[0].plot(
            [h["epoch"] for h in metrics["paper_history"]],
            [h["loss"] for h in metrics["paper_history"]],
            "--",
            label="paper-style CNN loss",
        )
    axes[0].set_xlabel("epoch")
    axes[0].set_title("training losses")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=7)
    for key in ("val_hit@1", "val_genre_f1_head"):
        vals = [h.get(key) for h in hist]
        if any(v is not None for v in vals):
            axes[1].plot(epochs, [np.nan if v is None else v for v in vals], label=key)
    axes[1].set_xlabel("epoch")
    axes[1].set_ylim(0, 1)
    axes[1].set_title("validation")
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(metrics: dict, path: Path) -> None:
    labels, matrix = metrics["confusion"]["labels"], np.array(metrics["confusion"]["matrix"])
    if matrix.size == 0:
        return
    norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (primary genre)")
    ax.set_title("genre confusion (test split)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


EMBEDDING_NAMES = {
    "scratch": "contrastive, flip-averaged, L2",
    "pretrained": "pretrained features, PCA-whitened, L2",
}


def backbone_line(backbone: BackboneInfo) -> str:
    if backbone.kind == "pretrained":
        src = backbone.source or {}
        return (
            f"Pretrained backbone: frozen MobileNetV2 α=1.4 (`{src.get('model', '?')}` from the npm package "
            f"`{src.get('package', '?')}` {src.get('version', '?')}, {src.get('license', '?')}, tarball sha256 "
            f"`{str(src.get('tarball_sha256', '?'))[:12]}…`): multi-depth channel statistics + colour/texture "
            "features; PCA-whitened embedding, every image indexed in both orientations."
        )
    reason = backbone.fallback_reason
    note = f" — **the pretrained backbone was unavailable** ({reason})" if reason else ""
    return f"Backbone: the small CNN trained from scratch (multi-task, supervised contrastive){note}."


def write_report(run_dir: Path, metrics: dict, config: RunConfig) -> Path:
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    plot_history(metrics, plots / "training.png")
    plot_confusion(metrics, plots / "genre_confusion.png")
    lines = ["# Toonmatch training report", ""]
    if config.catalog.synthetic:
        lines += [
            "> **Synthetic demo catalogue**: these numbers describe procedurally drawn demo covers, not real webtoons.",
            "",
        ]
    split, cat, train, size = metrics["split"], config.catalog, config.train, config.input_size
    lines += [
        f"Catalogue: `{cat.path}` ({cat.n_titles} titles, sha256 `{cat.sha256[:12]}…`). Split by title, "
        f"seed {config.split_seed}: {split['train']} train / {split['val']} val / {split['test']} test. "
        f"Input {size}×{size}, preset `{train['preset']}`, "
        + (f"{train['epochs']} epochs, " if config.backbone.kind == "scratch" else "")
        + f"trained in {metrics['train_seconds']:.0f} s (the paper-style baseline CNN included).",
        "",
        backbone_line(config.backbone),
        "",
        "## Classification (test split, macro over primary genres / first authors present)",
        "",
        "| model | precision | recall | F1 | accuracy | n |",
        "|---|---|---|---|---|---|",
        _row("paper: author CNN", PAPER["author"]),
        *(
            [_row("ours: author head of the multi-task backbone", metrics["author_multitask_head"])]
            if metrics.get("author_multitask_head")
            else []
        ),
        _row(f"**ours: author classifier** ({metrics['genre_head']} features, shipped)", metrics["author"]),
        _row("paper: genre (AutoKeras)", PAPER["genre"]),
        _row("paper-style genre CNN, retrained here", metrics["paper_style_genre_cnn"]),
        _row(f"**ours: genre classifier** ({metrics['genre_head']} head)", metrics["genre"]),
        "",
        f"Titles whose label the model does not know are skipped: genre {metrics['genre'].get('skipped', 0)}, "
        f"author {metrics['author'].get('skipped', 0)} (no primary genre, or an author with no title in the training "
        "split).",
        "",
        "### Genre head parts (logistic regression, class-balanced, C chosen on validation)",
        "",
        f"Each part is fitted on the training split alone; the shipped classifier uses the **{metrics['genre_head']}** "
        "features with that part's C, refitted on train + val (its test scores are in the table above).",
        "",
        *_prior_lines(metrics.get("genre_prior")),
        "| features | C | prior | val F1 | test precision | test recall | test F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, part in metrics["genre_parts"].items():
        t = part["test"]
        lines.append(
            f"| {name} | {part['C']} | {part.get('prior', 0.0)} | {_fmt(part['val']['f1'])} | {_fmt(t['precision'])} | "
            f"{_fmt(t['recall'])} | {_fmt(t['f1'])} |"
        )
    ours, base = metrics["retrieval"], metrics["retrieval_paper_baseline"]
    lines += [
        "",
        "## Retrieval (whole catalogue indexed; queries are perturbed covers: crop ≤10 %, flip, border, JPEG 60, "
        "resize 0.7–1.3)",
        "",
        "| embedding | perturbed hit@1 | perturbed hit@24 | same-author hit@24 | top-1 % titles' share | queries |",
        "|---|---|---|---|---|---|",
        f"| paper-style (genre CNN penultimate layer) | {_fmt(base['perturbed_hit@1'])} | "
        f"{_fmt(base['perturbed_hit@24'])} | {_fmt(base['same_author_hit@24'])} | "
        f"{_fmt(base.get('hub_share@24_top1%'))} | {base['n_queries']} |",
        f"| **ours** ({EMBEDDING_NAMES[config.backbone.kind]}) | "
        f"{_fmt(ours['perturbed_hit@1'])} | "
        f"{_fmt(ours['perturbed_hit@24'])} | {_fmt(ours['same_author_hit@24'])} | "
        f"{_fmt(ours.get('hub_share@24_top1%'))} | {ours['n_queries']} |",
        "",
        "Top-1 % titles' share (hubness): each test title's cover asks for its 24 nearest other titles; the share of "
        "those answer slots taken by the most-shown 1 % of the catalogue's titles (uniform: 1 %).",
        "",
        f"Annoy index: {metrics['index']['n_items']} images, {metrics['index']['n_trees']} trees, title-level "
        f"recall@24 vs exact search **{metrics['index']['recall@24_vs_exact']:.3f}**.",
        "",
        "## Plots",
        "",
        "![training curves](plots/training.png)",
        "",
        "![genre confusion matrix](plots/genre_confusion.png)",
        "",
    ]
    path = run_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _prior_lines(prior: dict | None) -> list[str]:
    """The genre head's class-prior correction: the strength chosen and each strength's validation macro-F1."""
    if not prior or not prior.get("val_f1"):
        return []
    tried = ", ".join(f"{k}: {_fmt(v)}" for k, v in prior["val_f1"].items())
    return [
        "Class-prior correction of the shipped genre head (a logit shift after which its predicted genres on the "
        "training rows have the training genre frequencies, times a strength chosen on validation): strength "
        f"**{prior['strength']}** (val macro-F1 by strength: {tried}).",
        "",
    ]
