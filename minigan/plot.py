"""Figures (the one module that imports matplotlib; it draws to files, headless)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

VIEW = (-9.0, 9.0)


def _density_grid(mixture, view=VIEW, n=200):
    g = np.linspace(view[0], view[1], n)
    xx, yy = np.meshgrid(g, g)
    p = np.exp(mixture.log_prob(np.stack([xx.ravel(), yy.ravel()], 1))).reshape(n, n)
    return xx, yy, p


def _hist(ax, samples, edges, title, vmax=None):
    """A 2-D histogram of samples (counts per cell, on a log colour scale from 1 to ``vmax``,
    so a collapsed and a spread-out generator read on one scale; empty cells in the lowest
    colour); non-finite samples are left out."""
    s = samples[np.isfinite(samples).all(1)]
    counts, _, _ = np.histogram2d(s[:, 0], s[:, 1], bins=[edges, edges])
    viridis = plt.get_cmap("viridis")
    cmap = viridis.with_extremes(bad=viridis(0.0))
    top = vmax if vmax is not None else max(counts.max(), 2)
    im = ax.pcolormesh(edges, edges, np.ma.masked_less(counts.T, 1), cmap=cmap,
                       norm=LogNorm(vmin=1, vmax=max(top, 2)))
    ax.set_title(title, fontsize=10)
    _square(ax, (edges[0], edges[-1]))
    return im


def _square(ax, view):
    ax.set_aspect("equal")
    ax.set_xlim(*view)
    ax.set_ylim(*view)


def _contours(ax, mixture, **kw):
    xx, yy, p = _density_grid(mixture)
    levels = np.quantile(p[p > p.max() * 1e-3], [0.2, 0.5, 0.7, 0.85, 0.95])
    return ax.contour(xx, yy, p, levels=np.unique(levels), **kw)


def samples_over_density(samples, mixture, path, title="generator"):
    """Thesis fig. 4.3 on one panel: the generated samples as dots, the true density's
    contours drawn over them, so a missing or misplaced mode shows at a glance."""
    s = samples[np.isfinite(samples).all(1)]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.25, c="tab:blue", linewidths=0)
    _contours(ax, mixture, colors="tab:red", linewidths=1.2)
    ax.scatter(*mixture.means.T, marker="+", c="k", s=60)
    _square(ax, VIEW)
    ax.set_title(title, fontsize=11)
    ax.legend(handles=[
        Line2D([], [], ls="", marker="o", ms=4, c="tab:blue",
               label=f"generated ({len(samples)} samples)"),
        Line2D([], [], c="tab:red", label="true density (contours)"),
        Line2D([], [], ls="", marker="+", ms=8, c="k", label="true means")],
        loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def samples_vs_density(samples, mixture, path, title="generator"):
    """Thesis fig. 4.3: 2-D histogram of samples beside the true density's contours."""
    edges = np.linspace(VIEW[0], VIEW[1], 61)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.8))
    _hist(a, samples, edges, title)
    _contours(b, mixture, cmap="viridis")
    b.set_title("true density")
    _square(b, VIEW)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def metric_curves(turns, curves, perfect, path):
    """Thesis fig. 4.4 and beyond: each metric over training, log scale, with the value a
    perfect sampler gets as a dashed line. curves/perfect: {name: values / value}."""
    names = list(curves)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6))
    for ax, name in zip(np.atleast_1d(axes), names):
        ax.plot(turns, curves[name], lw=1.5, label=f"final {curves[name][-1]:.3g}")
        ax.axhline(perfect[name], ls="--", c="k", lw=1,
                   label=f"perfect sampler {perfect[name]:.3g}")
        if name in ("thesis", "hist", "tv"):
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("turn")
        ax.legend(fontsize=8)
    # fixed margins: tight_layout lays the log axes' ticks out twice (0.6 of the figure's 0.7 s)
    fig.subplots_adjust(left=0.3 / len(names), right=0.99, bottom=0.14, top=0.92,
                        wspace=0.28)
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def class_samples(samples, components, weights, finals, path, title=""):
    """Thesis fig. 5.1: each class's generated samples over its own component's contours,
    one panel per class, with that class's KL and coverage in the title. samples: (K, n, 2);
    components: K one-component mixtures; finals: K dicts of the class's final metrics."""
    K = len(samples)
    rows, cols = (1, K) if K <= 4 else grid_shape(K)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4.4 * rows), squeeze=False,
                             layout="constrained")
    for k, ax in enumerate(axes.ravel()):
        s = samples[k][np.isfinite(samples[k]).all(1)][:3000]
        ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.3, c="tab:blue", linewidths=0)
        _contours(ax, components[k], colors="tab:red", linewidths=1.1)
        ax.scatter(*components[k].means.T, marker="+", c="k", s=60)
        _square(ax, VIEW)
        ax.set_title(f"class {k} (weight {weights[k]:.2g})\nKL {finals[k]['kl']:.3g}, "
                     f"coverage {finals[k]['coverage']:.3f}", fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def class_curves(turns, curves, perfect, weights, settled, level, path):
    """Thesis fig. 5.2: each class's histogram metric and KL over training on log plots,
    with a perfect sampler's values dashed; a dot marks the turn from which a class's KL
    stays at or below ``level`` (``settled``: {class: turn or None})."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
    colours = plt.get_cmap("tab10")
    for k in range(len(weights)):
        c = colours(k % 10)
        when = settled[k]
        label = f"class {k} (weight {weights[k]:.2g}): " + (
            f"settled at turn {when}" if when is not None else "not settled")
        axes[0].plot(turns, curves[f"hist_{k}"], c=c, lw=1.3, label=label)
        axes[0].axhline(perfect[f"hist_{k}"], c=c, ls="--", lw=0.8)
        axes[1].plot(turns, curves[f"kl_{k}"], c=c, lw=1.3, label=label)
        if when is not None:
            axes[1].scatter([when], [curves[f"kl_{k}"][turns.index(when)]], c=[c], s=40,
                            zorder=3, edgecolors="k")
    axes[1].axhline(level, c="k", ls=":", lw=1, label=f"settled: KL <= {level}")
    axes[1].axhline(perfect["kl_0"], c="gray", ls="--", lw=1,
                    label=f"perfect sampler ~ {perfect['kl_0']:.2g}")
    for ax, name in zip(axes, ("histogram metric per class (dashed: perfect sampler)",
                               "KL(generated || true component) per class")):
        ax.set_yscale("log")
        ax.set_xlabel("turn")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def grid_shape(n):
    """(rows, cols) with rows * cols == n exactly (no empty panel), as close to twice as
    wide as tall as n allows."""
    pairs = [(r, n // r) for r in range(1, int(n ** 0.5) + 1) if n % r == 0]
    return min(pairs, key=lambda rc: abs(np.log(rc[1] / rc[0] / 2)))


def snapshot_grid(snapshots, path, scorer=None):
    """Thesis fig. 4.5: the generator's histogram at chosen turns, on one colour scale.
    snapshots: {turn: (n, 2)}; with a ``scorer`` (MixtureMetrics) each title gives its hist."""
    edges = np.linspace(VIEW[0], VIEW[1], 61)
    items = sorted(snapshots.items())
    vmax = max(np.histogram2d(*s[np.isfinite(s).all(1)].T, bins=[edges, edges])[0].max()
               for _, s in items) or 1
    rows, cols = grid_shape(len(items))
    width = 3.3 * cols + 0.8
    fig, axes = plt.subplots(rows, cols, figsize=(width, 3.3 * rows), squeeze=False)
    # fixed margins and a colour bar axis of its own (a constrained layout took 0.5 s here)
    fig.subplots_adjust(left=0.3 / width, right=1 - 1.0 / width, bottom=0.06, top=0.93,
                        wspace=0.25, hspace=0.3)
    for ax, (turn, s) in zip(axes.ravel(), items):
        title = f"turn {turn}"
        if scorer is not None:
            title += f": hist {scorer(s)['hist']:.3g}"
        im = _hist(ax, s, edges, title, vmax=vmax)
    fig.colorbar(im, cax=fig.add_axes([1 - 0.75 / width, 0.15, 0.12 / width, 0.7]),
                 label="samples per cell")
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def seed_summary(summary, path, panels=3):
    """Many seeds of one recipe: every seed's curve of ``summary['curve']`` with their median
    (log scale), and each seed's final value of the first ``panels`` metrics of
    ``summary['stats']`` with the median and the worst marked."""
    done = {s: r for s, r in summary["seeds"].items() if r["status"] == "complete"}
    keys = list(summary["stats"])[:panels]
    fig, axes = plt.subplots(1, 1 + len(keys), figsize=(5 + 4 * len(keys), 3.8),
                             width_ratios=[2] + [1] * len(keys))
    curve, perfect = summary["curve"], summary["perfect"] or {}
    ax = axes[0]
    for r in done.values():
        ax.plot(r["turns"], r["curve"], c="tab:blue", alpha=0.3, lw=0.8)
    if done and len({len(r["turns"]) for r in done.values()}) == 1:
        first = next(iter(done.values()))
        ax.plot(first["turns"], np.median([r["curve"] for r in done.values()], 0),
                c="k", lw=2, label="median over seeds")
    if curve in perfect:
        ax.axhline(perfect[curve], ls="--", c="gray", lw=1, label="perfect sampler")
    if ax.has_data():
        ax.set_yscale("log")
    ax.set_xlabel("turn")
    ax.set_title(f"{curve} over training, {len(done)} seeds ({summary['preset']})")
    _legend(ax, 8)
    failed = [int(s) for s, r in summary["seeds"].items() if r["status"] != "complete"]
    for ax, key in zip(axes[1:], keys):
        _seed_panel(ax, key, done, summary["stats"][key], perfect.get(key), failed)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def _seed_panel(ax, key, done, stat, perfect, failed):
    ax.scatter([int(s) for s in done], [r["final"][key] for r in done.values()],
               c="tab:blue", s=18)
    if stat["median"] is not None:
        ax.axhline(stat["median"], c="k", lw=1.5, label=f"median {stat['median']:.3g}")
        ax.axhline(stat["worst"], c="tab:red", lw=1, ls=":", label=f"worst {stat['worst']:.3g}")
    if perfect is not None:
        ax.axhline(perfect, c="gray", ls="--", lw=1, label=f"perfect {perfect:.3g}")
    for s in failed:
        ax.axvline(s, c="tab:red", alpha=0.4)
    values = [r["final"][key] for r in done.values()]
    if values and min(values) > 0 and max(values) > 10 * min(values):
        ax.set_yscale("log")          # values over decades (a collapsed seed among good ones)
    ax.set_title(f"final {key} per seed" + (f" ({len(failed)} failed)" if failed else ""))
    ax.set_xlabel("seed")
    _legend(ax, 7)


def _legend(ax, size):
    """A legend if anything on ``ax`` has a label (every seed failed: nothing has)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=size)


def sweep_families(name, figure, path, perfect=1.0):
    """A thesis sweep figure (4.6-4.11): per panel, one curve per setting of the final
    generator's hist over training (median over seeds, interquartile band), log scale.
    figure: a ``minigan.sweep.summarise`` entry."""
    panels = figure["panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.3), squeeze=False)
    colours = plt.get_cmap("viridis")
    for ax, (panel, rows) in zip(axes[0], panels.items()):
        for i, (label, st) in enumerate(rows.items()):
            c = colours(i / max(len(rows) - 1, 1) * 0.9)
            curve = st["curve"]
            shown = f"{label}: median {st['median_hist']:.3g}" + (
                f", {st['diverged']} diverged" if st["diverged"] else "")
            ax.plot(curve["turns"], curve["median"], c=c, lw=1.6, label=shown)
            ax.fill_between(curve["turns"], curve["q25"], curve["q75"], color=c, alpha=0.2,
                            lw=0)
        ax.axhline(perfect, c="gray", ls="--", lw=1, label="perfect sampler")
        ax.set_yscale("log")
        ax.set_xlabel("turn")
        ax.set_ylabel("hist (normalised histogram distance)")
        ax.set_title(panel, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"fig {name}: {figure['title']} (median over seeds, quartile band)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def image_grid(images, path, title="", row_labels=None):
    """Images (rows, cols, C, H, W) in [-1, 1], C = 1 (grey) or 3 (colour), as one grid
    (thesis figs 4.14, 4.16), with an optional label left of each row."""
    images = np.asarray(images)
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(0.9 * cols + 0.6, 0.9 * rows + 0.5),
                             squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            if images.shape[2] == 3:
                ax.imshow(np.clip((images[r, c].transpose(1, 2, 0) + 1) / 2, 0, 1))
            else:
                ax.imshow(images[r, c, 0], cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
        if row_labels is not None:
            axes[r, 0].set_ylabel(str(row_labels[r]), fontsize=8, rotation=0, ha="right",
                                  va="center")
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, top=1 - 0.45 / (0.9 * rows + 0.5))
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)


def epoch_curves(epochs, curves, perfect, path):
    """A DCGAN run per epoch: FID_cnn (log, with the real images' floor) and the judge's class
    proportions (between dashed lines: the smallest and largest share the judge gives the
    real test images; shaded: the [0.05, 0.16] band) when the run has a judge;
    always D's outputs."""
    panels = [p for p, key in ((_fid_panel, "fid"), (_proportions_panel, "prop_0"),
                               (_d_outputs_panel, "d_real")) if key in curves]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        panel(ax, epochs, curves, perfect)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def _fid_panel(ax, epochs, curves, perfect):
    ax.plot(epochs, curves["fid"], marker="o", label=f"final {curves['fid'][-1]:.3g}")
    ax.axhline(perfect["fid"], c="gray", ls="--", label=f"real images {perfect['fid']:.2g}")
    ax.set_yscale("log")
    ax.set_title("FID_cnn (judge features vs the test images)", fontsize=10)


def _proportions_panel(ax, epochs, curves, perfect):
    for k in range(10):
        ax.plot(epochs, curves[f"prop_{k}"], lw=1, label=str(k))
    ax.axhspan(0.05, 0.16, color="tab:green", alpha=0.1, label="0.05-0.16")
    lo, hi = perfect["prop_min"], perfect["prop_max"]   # the judge's shares of real images
    ax.axhline(lo, c="gray", ls="--", label=f"real images {lo:.3f}-{hi:.3f}")
    ax.axhline(hi, c="gray", ls="--")
    ax.set_title("the judge's class proportions of the samples", fontsize=10)


def _d_outputs_panel(ax, epochs, curves, perfect):
    for key in ("d_real", "d_fake"):
        ax.plot(epochs, curves[key], marker="o", label={"d_real": "D(x)",
                                                         "d_fake": "D(G(z))"}[key])
    ax.axhline(0.5, c="gray", ls="--", label="equilibrium 0.5")
    ax.set_ylim(0, 1)
    ax.set_title("D's output on the last real and fake batch", fontsize=10)


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
    fig.savefig(path, dpi=110, format="png")
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
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def toy_samples(samples, mixtures, scores, path):
    """The toy benchmarks at a glance: a panel per (method, data), rows the methods, columns
    the data; each the samples of one seed over the true density's means (3-sigma circles
    for the round mixtures, contours for the thesis's), titled with that run's modes and
    high-quality share. samples / scores: {(method, data): (n, 2) / {"modes", ...}};
    mixtures: {data: GaussianMixture}."""
    methods = list(dict.fromkeys(m for m, _ in samples))
    data = list(dict.fromkeys(d for _, d in samples))
    fig, axes = plt.subplots(len(methods), len(data), figsize=(3.4 * len(data),
                                                                 3.4 * len(methods)),
                             squeeze=False)
    for i, m in enumerate(methods):
        for j, d in enumerate(data):
            ax, mix = axes[i, j], mixtures[d]
            s = np.asarray(samples[(m, d)], dtype=float)
            s = s[np.isfinite(s).all(1)]
            ax.scatter(s[:, 0], s[:, 1], s=1.5, alpha=0.35, c="tab:blue", linewidths=0)
            _mode_marks(ax, mix)
            spread = np.sqrt(mix.covariances[:, [0, 1], [0, 1]].max())
            half = 1.15 * (np.abs(mix.means).max() + 3 * spread)
            _square(ax, (-half, half))
            sc = scores[(m, d)]
            ax.set_title(f"{m} on {d}: {sc['modes']} of {mix.n_components} modes, "
                         f"HQ {100 * sc['high_quality']:.0f}%", fontsize=9)
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def _mode_marks(ax, mixture):
    """Each component's 3-sigma region: a circle where it is round, contours otherwise."""
    covs = mixture.covariances
    if np.allclose(covs, covs[:, :1, :1] * np.eye(2)):
        for mean, cov in zip(mixture.means, covs):
            ax.add_patch(plt.Circle(mean, 3 * np.sqrt(cov[0, 0]), fill=False, ec="tab:red",
                                    lw=0.8))
    else:
        _contours(ax, mixture, colors="tab:red", linewidths=0.8)


def mapping_arrows(x, mapped, truth, x_mixture, y_mixture, path, title="", arrows=250):
    """A learned map at a glance: an arrow from each of the first ``arrows`` points x of
    domain X to where the map sends it, a dot where the true map sends it, over both
    domains' density contours (X blue, Y red)."""
    n = min(arrows, len(x))
    fig, ax = plt.subplots(figsize=(7, 7))
    for mixture, colour in ((x_mixture, "tab:blue"), (y_mixture, "tab:red")):
        _contours(ax, mixture, colors=colour, linewidths=0.9)
    ax.quiver(x[:n, 0], x[:n, 1], mapped[:n, 0] - x[:n, 0], mapped[:n, 1] - x[:n, 1],
              angles="xy", scale_units="xy", scale=1, width=0.002, color="0.35", alpha=0.7)
    ax.scatter(*truth[:n].T, s=6, c="tab:green", zorder=3)
    _square(ax, VIEW)
    ax.set_title(title, fontsize=10)
    ax.legend(handles=[
        Line2D([], [], c="tab:blue", label="density of X (contours)"),
        Line2D([], [], c="tab:red", label="density of Y = A x + b"),
        Line2D([], [], c="0.35", label="x -> T(x), learned"),
        Line2D([], [], ls="", marker="o", ms=4, c="tab:green", label="A x + b, the truth")],
        loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
