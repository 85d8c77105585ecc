"""Figures (the one module that imports matplotlib; it draws to files, headless)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

VIEW = (-9.0, 9.0)


def _density_grid(mixture, view=VIEW, n=200):
    g = np.linspace(view[0], view[1], n)
    xx, yy = np.meshgrid(g, g)
    p = np.exp(mixture.log_prob(np.stack([xx.ravel(), yy.ravel()], 1))).reshape(n, n)
    return xx, yy, p


def _hist(ax, samples, edges, title):
    ax.hist2d(samples[:, 0], samples[:, 1], bins=[edges, edges], cmap="viridis")
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(edges[0], edges[-1])


def samples_vs_density(samples, mixture, path, title="generator"):
    """Thesis fig. 4.3: 2-D histogram of samples beside the true density's contours."""
    edges = np.linspace(VIEW[0], VIEW[1], 61)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.8))
    _hist(a, samples, edges, f"{title}: {len(samples)} samples")
    xx, yy, p = _density_grid(mixture)
    b.contour(xx, yy, p, levels=12, cmap="viridis")
    b.set_title("true density")
    b.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def metric_curves(turns, curves, perfect, path):
    """Thesis fig. 4.4 and beyond: each metric over training, log scale, with the value a
    perfect sampler gets as a dashed line. curves/perfect: {name: values / value}."""
    names = list(curves)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6))
    for ax, name in zip(np.atleast_1d(axes), names):
        ax.plot(turns, curves[name], lw=1.5)
        ax.axhline(perfect[name], ls="--", c="k", lw=1, label="perfect sampler")
        if name in ("thesis", "hist", "tv"):
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("turn")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def snapshot_grid(snapshots, path):
    """Thesis fig. 4.5: the generator's histogram at chosen turns. snapshots: {turn: (n, 2)}."""
    edges = np.linspace(VIEW[0], VIEW[1], 61)
    n = len(snapshots)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4 * rows), squeeze=False)
    for ax, (turn, s) in zip(axes.ravel(), sorted(snapshots.items())):
        _hist(ax, s, edges, f"turn {turn}")
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def metric_families(families, metric, path, title):
    """A sweep: one curve per setting on one plot (thesis figs. 4.6-4.11).
    families: {label: (turns, values)}."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (turns, values) in families.items():
        ax.plot(turns, values, label=str(label))
    ax.set_yscale("log")
    ax.set_xlabel("turn")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def curves(xs, series, path, xlabel, ylabel, title="", logx=False):
    """One or more curves on one plot. series: {label: ys}."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, ys in series.items():
        ax.plot(xs, ys, label=label, marker="." if len(xs) < 30 else None)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def confusion(counts, classes, path, title="confusion matrix"):
    """The confusion matrix as a colour plot, counts written in the cells."""
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    top = counts.max() or 1
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if counts[i, j] > top / 2 else "black")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
