"""Inpainting by latent search (thesis 5.1.3, after Yeh et al. 2016) with a trained DCGAN,
the two improvements the thesis named (importance-weighted context, Poisson blending), and
two baselines (mean fill, nearest neighbour), all scored in one run.

For each test image y with a hole, a frozen G and D are searched for the latent z minimising
|| W * (G(z) - y) ||_1 + 0.003 log(1 - D(G(z))) (minigan.inpaint): 64 random latents per
image are scored, the --keep best refined by Adam (lr 0.005) for --steps steps, the lowest
loss kept; the hole is then filled from G(z*) by pasting or Poisson blending. Scored inside
the hole against the original: PSNR and SSIM; and the judge's (the thesis CNN's) accuracy on
the completed images, beside its accuracy on the originals and on the masked images.

    python examples/dcgan.py                         # first: a trained DCGAN (runs/dcgan)
    python examples/inpainting.py                    # 1,000 test images, the centre mask
    python examples/inpainting.py --steps 5000 --keep 64      # the thesis's full search
    python examples/inpainting.py --mask left --weighting importance --blend poisson

Each weighting's search is stored in OUT/search-WEIGHTING.npz chunk by chunk as it runs: the
same command again after a Ctrl-C or a crash goes on from there. Writes OUT/inpainting.png
(rows: condition, G(z*) and each blend per weighting, the baselines, the original),
OUT/worst.png (the best variant's 10 worst images by hole PSNR), OUT/search.png (the loss
during the search), OUT/results.md (the table) and OUT/metrics.json.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
from tqdm import tqdm

import minigan as mg
from minigan import inpaint as ip
from minigan import plot
from minigan.experiments.dcgan import JUDGE, get_judge, load_images, networks
from minigan.metrics import accuracy, paired_accuracy, predict
from minigan.metrics.images import judge_inputs
from minigan.runs import UserError, check_output_flag, cli, comma_list
from minigan.serialization import atomic_file, save_json

CHECKPOINT = os.path.join("runs", "dcgan", "checkpoint.npz")
STEPS, KEEP, CANDIDATES = 300, 2, 64
SHOWN = 10                  # images (columns) in the figures


def make_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = ap.add_argument
    add("--checkpoint", default=CHECKPOINT,
        help="a DCGAN run's checkpoint.npz (examples/dcgan.py, unconditional)")
    add("--mask", default="centre", choices=ip.MASKS,
        help="the hole: the centre half (the thesis), the left half, 3 random blocks, or a "
             "random 80%% of the pixels")
    add("--weighting", type=comma_list(ip.WEIGHTINGS, "weighting"), default=list(ip.WEIGHTINGS),
        help="contextual weights: mask (the thesis), importance (Yeh et al.), or both")
    add("--blend", type=comma_list(tuple(ip.BLENDS), "blend"), default=list(ip.BLENDS),
        help="fill the hole from G(z*) by paste (the thesis), poisson, or both")
    add("--n-images", type=int, default=1000, help="test images to inpaint")
    add("--steps", type=int, default=STEPS, help="Adam steps on z (the thesis: 5000)")
    add("--candidates", type=int, default=CANDIDATES, help="random latents scored per image")
    add("--keep", type=int, default=KEEP,
        help="the best candidates of each image refined (the thesis refines all: "
             "--keep 64)")
    add("--lr", type=float, default=ip.LR, help="Adam's learning rate on z")
    add("--lam", type=float, default=ip.LAMBDA, help="the weight of D's term")
    add("--batch", type=int, default=256, help="latents per forward pass")
    add("--seed", type=int, default=0, help="picks the images, random masks and latents")
    add("--data", default=None, help="Fashion-MNIST folder (default: $MINIGAN_DATA or "
                                     "Debian's)")
    add("--judge", default=JUDGE, help="the judge, a ThesisCNN model.npz (trained for 3 "
                                       "epochs and kept there if absent)")
    add("--out", default=os.path.join("runs", "inpainting"), help="output folder")
    add("--device", default="cpu", help="where G and D search: cpu, or cuda (pip install "
                                        "'minigan[gpu]'); the rest runs on the CPU")
    add("--no-progress", action="store_true", help="hide the progress bars")
    return ap


def parse_args(argv=None):
    ap = make_parser()
    args = ap.parse_args(argv)
    rules = [(args.n_images >= 1, "--n-images must be >= 1"),
             (args.steps >= 0, "--steps must be >= 0"),
             (args.candidates >= 1, "--candidates must be >= 1"),
             (1 <= args.keep <= args.candidates, "--keep must be in [1, --candidates]"),
             (np.isfinite(args.lr) and args.lr > 0, "--lr must be finite and > 0"),
             (np.isfinite(args.lam) and args.lam >= 0, "--lam must be finite and >= 0"),
             (args.batch >= 1, "--batch must be >= 1"),
             (os.path.isfile(args.checkpoint),
              f"--checkpoint {args.checkpoint}: no such file (train a DCGAN first: "
              "python examples/dcgan.py)")]
    bad = next((msg for ok, msg in rules if not ok), None)
    try:
        mg.device(args.device)
    except (ValueError, RuntimeError) as exc:
        bad = bad or f"--device: {exc}"
    if bad:
        ap.error(bad)
    check_output_flag(ap, args.out)
    return args


def load_gan(path):
    """(G, D, latent_dim) of a DCGAN run's checkpoint; UserError if it is not one."""
    try:
        state = mg.load(path)
        config = json.loads(str(state["config"]))
        m = int(config["latent_dim"])
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"--checkpoint {path}: not a DCGAN run's checkpoint ({exc})") from None
    if config.get("data_folder"):
        raise UserError(f"--checkpoint {path}: a DCGAN of an image folder; inpainting runs on "
                        "Fashion-MNIST's test images")
    if config.get("conditional"):
        raise UserError(f"--checkpoint {path}: a conditional DCGAN; inpainting needs the "
                        "unconditional one (a test image's class is not given)")
    G, D = (mg.nn.fuse(net) for net in networks(config))
    try:
        G.load_state_dict(state["G"])
        D.load_state_dict(state["D"])
    except (KeyError, ValueError) as exc:
        raise UserError(f"--checkpoint {path}: not the DCGAN of examples/dcgan.py "
                        f"({exc})") from None
    return G, D, m


def problem(args, xte, yte, m):
    """The seeded draw: which test images, their masks and candidate latents."""
    if args.n_images > len(xte):
        raise UserError(f"--n-images {args.n_images} is more than the {len(xte)} test images")
    rng = np.random.default_rng(args.seed)
    index = np.sort(rng.choice(len(xte), args.n_images, replace=False))
    masks = ip.make_masks(args.mask, args.n_images, xte.shape[-1], rng)
    z0 = rng.uniform(-1, 1, (args.n_images, args.candidates, m)).astype(np.float32)
    return xte[index], yte[index], index, masks, z0


def search_key(args, weighting):
    """What a stored search depends on: the GAN's weights and every search setting."""
    with open(args.checkpoint, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    keys = ("mask", "n_images", "steps", "candidates", "keep", "lr", "lam", "batch", "seed",
            "data")
    return json.dumps({"gan": digest, "weighting": weighting,
                       **{k: getattr(args, k) for k in keys}}, sort_keys=True)


def run_search(G, D, images, masks, z0, weighting, args):
    """One weighting's search, stored chunk by chunk in OUT/search-WEIGHTING.npz and resumed
    from it (when its key matches these settings). Returns (the Search, its seconds: every
    chunk's search time, a resumed run's earlier chunks included; NaN if a chunk was stored
    without one)."""
    path = os.path.join(args.out, f"search-{weighting}.npz")
    key = search_key(args, weighting)
    done = {}
    if os.path.exists(path):
        try:
            saved = mg.load(path)
            if str(saved["key"]) == key:
                done = {int(c): part for c, part in saved["chunks"].items()}
        except (OSError, ValueError, KeyError):
            pass                    # damaged: search again
    chunks = -(-len(images) // max(args.batch // args.keep, 1))
    if done:
        print(f"{weighting}: resuming, {len(done)} of {chunks} chunks already searched")

    clock = [time.perf_counter()]

    def keep(c, part):                        # with its search time, kept for a resumed run
        now = time.perf_counter()
        done[c], clock[0] = {**part, "seconds": np.float64(now - clock[0])}, now
        mg.save({"key": key, "chunks": {str(i): p for i, p in done.items()}}, path)

    bar = tqdm(total=chunks * args.steps, disable=args.no_progress, unit="step",
               desc=f"search, {weighting} weights")
    try:
        found = ip.search(G, D, images, masks, z0, weighting=weighting, keep=args.keep,
                          steps=args.steps, lr=args.lr, lam=args.lam, batch=args.batch,
                          on_step=lambda loss: _advance(bar, loss), on_chunk=keep,
                          done=done)
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: {len(done)} of {chunks} chunks kept in {path}; the same command "
              "again goes on from there", file=sys.stderr)
        raise SystemExit(130) from None
    bar.close()
    return found, sum(float(p.get("seconds", np.nan)) for p in done.values())


def _advance(bar, loss):
    bar.update(1)
    if loss is not None and bar.n % 10 == 0:
        bar.set_postfix_str(f"mean loss {loss:.3g}", refresh=False)


def judged(judge, images, labels):
    """The judge's accuracy on images in [-1, 1]."""
    return accuracy(labels, predict(judge, judge_inputs(images)))


def score(completed, originals, masks, labels, predicted):
    """The hole's PSNR and SSIM, and the judge's accuracy from its ``predicted`` classes."""
    psnr = ip.hole_psnr(completed, originals, masks)
    return {"psnr": float(psnr.mean()), "psnr_median": float(np.median(psnr)),
            "ssim": float(ip.hole_ssim(completed, originals, masks).mean()),
            "accuracy": accuracy(labels, predicted)}


def against_neighbour(rows, predicted, labels):
    """Each GAN variant's judged images against the nearest neighbour's, image by image
    (``paired_accuracy``), into its row as ``vs_nearest_neighbour``."""
    for name in rows:
        if name.startswith("GAN"):
            rows[name]["vs_nearest_neighbour"] = paired_accuracy(
                labels, predicted["nearest neighbour"], predicted[name])


def _neighbour_verdict(r, nn_):
    """'accuracy a vs b: difference ± SE, the discordant images, McNemar p (verdict)'."""
    c = r["vs_nearest_neighbour"]
    word = "no significant difference" if c["p_value"] >= 0.05 else \
        "beats it" if c["difference"] > 0 else "worse"
    return (f"accuracy {r['accuracy']:.3f} vs nearest neighbour's {nn_['accuracy']:.3f}: "
            f"{c['difference']:+.3f} ± {c['standard_error']:.3f}; right where it is wrong on "
            f"{c['only_b']} images, wrong where it is right on {c['only_a']}, McNemar p = "
            f"{c['p_value']:.2g} ({word})")


def verdicts(rows):
    """One line per GAN variant against the baselines, and each improvement on its own."""
    lines = []
    base, nn_ = rows["mean fill"], rows["nearest neighbour"]
    keys = ("psnr", "ssim", "accuracy")
    gan = [name for name in rows if name.startswith("GAN")]
    for name in gan:
        r = rows[name]
        mean_word = "beats" if all(r[k] > base[k] for k in keys) else "does not beat"
        lines.append(f"{name}: {mean_word} mean fill on all three; "
                     f"{_neighbour_verdict(r, nn_)}")
    for old, new, what in (("mask", "importance", "importance weighting"),
                           ("paste", "poisson", "Poisson blending")):
        for name in gan:
            if old in name and name.replace(old, new) in rows:
                r, s = rows[name], rows[name.replace(old, new)]
                diff = ", ".join(f"{k} {s[k] - r[k]:+.3f}" for k in keys)
                lines.append(f"{what}, from {name}: {diff}")
    return lines


def table(rows, judge_accuracy):
    out = ["| variant | PSNR in the hole (dB, mean / median) | SSIM in the hole | judge "
           "accuracy |", "|---|---|---|---|"]
    for name, r in rows.items():
        psnr = f"{r['psnr']:.2f} / {r['psnr_median']:.2f}" if "psnr" in r else "—"
        ssim = f"{r['ssim']:.3f}" if "ssim" in r else "—"
        out.append(f"| {name} | {psnr} | {ssim} | {r['accuracy']:.3f} |")
    out.append(f"\nThe judge's accuracy on the whole test set: {judge_accuracy:.4f}.")
    return "\n".join(out)


def figures(out, originals, masks, shown, best, searches):
    cond = ip.masked(originals, masks)
    rows, labels = [cond[:SHOWN]], ["condition"]
    for w, found in searches.items():
        rows.append(found.generated[:SHOWN])
        labels.append(f"G(z*), {w}")
        for name in shown:
            if name.startswith(f"GAN, {w},"):
                rows.append(shown[name][:SHOWN])
                labels.append(name.split(", ")[-1] + f", {w}")
    for name in ("mean fill", "nearest neighbour"):
        rows.append(shown[name][:SHOWN])
        labels.append(name)
    rows.append(originals[:SHOWN])
    labels.append("original")
    with atomic_file(os.path.join(out, "inpainting.png")) as f:
        plot.image_grid(np.stack(rows), f, "inpainting by latent search, one column an image",
                        row_labels=labels)
    psnr = ip.hole_psnr(shown[best], originals, masks)
    worst = np.argsort(psnr, kind="stable")[:SHOWN]
    w = best.split(", ")[1]
    grid = np.stack([cond[worst], searches[w].generated[worst], shown[best][worst],
                     originals[worst]])
    with atomic_file(os.path.join(out, "worst.png")) as f:
        plot.image_grid(grid, f, f"the 10 worst by PSNR in the hole: {best}",
                        row_labels=["condition", "G(z*)", "completed", "original"])
    with atomic_file(os.path.join(out, "search.png")) as f:
        plot.curves(np.arange(len(next(iter(searches.values())).curve)),
                    {f"{w} weights": found.curve / (abs(found.curve[0]) or 1)
                     for w, found in searches.items()}, f, "Adam step",
                    "mean loss / mean loss at the start",
                    "the latent search: each weighting's loss over the refined latents")


@cli
def main(argv=None):
    start = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    G, D, m = load_gan(args.checkpoint)
    G.to(args.device), D.to(args.device)
    x, _, xte, yte = load_images(args.data, 1)
    judge = get_judge(args.judge, args.data, progress=not args.no_progress)
    originals, labels, index, masks, z0 = problem(args, xte, yte, m)
    completed = {"mean fill": ip.mean_fill(originals, masks, x),
                 "nearest neighbour": ip.nearest_neighbour(originals, masks, x)[0]}
    searches, seconds = {}, {}
    for w in args.weighting:
        searches[w], seconds[w] = run_search(G, D, originals, masks, z0, w, args)
        for b in args.blend:
            completed[f"GAN, {w}, {b}"] = ip.BLENDS[b](originals, searches[w].generated,
                                                       masks)
    rows = {"original": {"accuracy": judged(judge, originals, labels)},
            "masked (hole grey)": {"accuracy": judged(judge, ip.masked(originals, masks),
                                                      labels)}}
    predicted = {name: predict(judge, judge_inputs(c)) for name, c in completed.items()}
    rows.update({name: score(c, originals, masks, labels, predicted[name])
                 for name, c in completed.items()})
    against_neighbour(rows, predicted, labels)
    judge_accuracy = judged(judge, xte, yte)
    gan = [n for n in completed if n.startswith("GAN")]
    best = max(gan, key=lambda n: (rows[n]["accuracy"], rows[n]["psnr"]))
    figures(args.out, originals, masks, completed, best, searches)
    lines = verdicts(rows)
    header = f"    python examples/inpainting.py {' '.join(argv)}".rstrip()
    text = "\n".join([header, "", table(rows, judge_accuracy), "", *[f"- {v}" for v in lines],
                      "", "Search time: " + ", ".join(
                          f"{w} weights {s:.0f} s" if s == s else f"{w} weights not recorded"
                          for w, s in seconds.items())])
    with atomic_file(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text + "\n")
    record = {"settings": {k: v for k, v in vars(args).items() if k != "no_progress"},
              "images": index.tolist(), "rows": rows, "best": best, "verdicts": lines,
              "search_seconds": seconds, "judge_test_accuracy": judge_accuracy,
              "wall_seconds": time.perf_counter() - start}
    save_json(record, os.path.join(args.out, "metrics.json"))
    print(text)
    print(f"outputs in {args.out}")
    return record


if __name__ == "__main__":
    main()
