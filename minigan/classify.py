"""Training a classifier on an MNIST-layout dataset: the loop the thesis's chapters 2-3 share
(logistic regression, the feed-forward net, the CNN), with evaluation along the way.

A run checks its flags, its output folder and its data before it trains; stops cleanly on
Ctrl-C (``--resume DIR`` continues it, bit for bit) and on a non-finite loss (exit status 3);
and writes its files atomically into a folder that replaces --out as a whole at the end: the
checkpoint first, then the figures, then metrics.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from tqdm import tqdm

from minigan import backend
from minigan import functional as F
from minigan.core import tensor
from minigan.data import DataLoader, IDXError, load_fashion_mnist, load_mnist, to_unit
from minigan.metrics import accuracy, confusion_matrix, predict
from minigan.runs import (
    Diverged,
    StopOnInterrupt,
    UserError,
    check_finite_loss,
    finite_positive,
    prepare_output,
    replace_folder,
    setting_conflicts,
    without_flags,
)
from minigan.serialization import atomic_file, save, save_json
from minigan.serialization import load as load_checkpoint

CHECKPOINT = "checkpoint.npz"


def add_common_flags(ap, steps, batch_size, lr, eval_every, out):
    ap.add_argument("--dataset", choices=("fashion", "mnist"), default="fashion",
                    help="fashion: Fashion-MNIST (checked by SHA-256); mnist: any MNIST-layout "
                         "IDX folder given by --data")
    ap.add_argument("--data", default=None, help="folder of the IDX files")
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--lr", type=finite_positive, default=lr, help="learning rate (finite, > 0)")
    ap.add_argument("--eval-every", type=int, default=eval_every)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=out)
    ap.add_argument("--resume", metavar="DIR", default=None,
                    help="continue the interrupted run in DIR (its flags must be given again)")
    ap.add_argument("--device", default="cpu",
                    help="where to train: cpu, or cuda (pip install 'minigan[gpu]')")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def check_common_flags(ap, args):
    """Every flag, the output folder and a resumed run's checkpoint, before any work."""
    for ok, msg in ((args.steps >= 1, "--steps must be >= 1"),
                    (args.batch_size >= 1, "--batch-size must be >= 1"),
                    (args.eval_every >= 1, "--eval-every must be >= 1"),
                    (args.seed >= 0, f"--seed must be >= 0, got {args.seed}")):
        if not ok:
            ap.error(msg)
    if args.dataset == "mnist" and not args.data:
        ap.error("--dataset mnist needs --data FOLDER")
    try:
        backend.device(args.device)
    except (ValueError, RuntimeError) as exc:
        ap.error(f"--device: {exc}")
    try:
        if args.resume is None:
            args.folder = prepare_output(args.out)
        else:
            args.out = args.folder = args.resume
            args.resumed = _resumed_state(args)
    except UserError as exc:
        ap.error(str(exc))


def _config(args):
    return {k: v for k, v in sorted(vars(args).items())
            if k not in ("out", "folder", "resume", "resumed", "no_progress")}


def _resumed_state(args):
    path = os.path.join(args.resume, CHECKPOINT)
    if not os.path.isfile(path):
        raise UserError(f"--resume {args.resume}: no {CHECKPOINT} there to resume from")
    state = load_checkpoint(path)
    saved = json.loads(str(state["config"]))
    # the device is where a run computes, not what it is: a run may resume on another
    differ = setting_conflicts({k: v for k, v in _config(args).items() if k != "device"},
                               saved)
    if differ:
        raise UserError(f"--resume {args.resume}: a different configuration from the "
                        "checkpoint's: " + "; ".join(differ))
    return state


def load_data(args, image_shape):
    """(train x, train y, test x, test y, classes), images as float32 in [0, 1] of
    ``image_shape`` per example (e.g. (784,) or (1, 28, 28)); UserError for missing,
    corrupt or unusable data, named."""
    try:
        d = (load_fashion_mnist(args.data) if args.dataset == "fashion"
             else load_mnist(args.data))
    except (FileNotFoundError, IDXError) as exc:
        raise UserError(str(exc)) from None
    for split in ("train", "test"):
        images = getattr(d, f"{split}_images")
        if images.dtype.kind == "f" and not np.isfinite(images).all():
            raise UserError(f"the {split} images hold NaN or infinite values")
    if args.batch_size > len(d.train_images):
        raise UserError(f"--batch-size {args.batch_size} is more than the "
                        f"{len(d.train_images)} training images")

    def prep(images):
        return to_unit(images).reshape((len(images),) + tuple(image_shape))
    return (prep(d.train_images), d.train_labels, prep(d.test_images), d.test_labels,
            d.classes)


class _Progress:
    """Where a run stands: the step, the epoch's shuffling state and its position in it, the
    curves so far. Saved in the checkpoint, so that a resumed run draws the same batches."""

    def __init__(self, rng):
        self.rng, self.step, self.batch_in_epoch = rng, 0, 0
        self.epoch_state = rng.bit_generator.state
        self.record = {"steps": [], "examples": [], "test_accuracy": [], "train_loss": []}
        self.losses, self.train_seconds = [], 0.0

    def state_dict(self):
        return {"step": self.step, "batch_in_epoch": self.batch_in_epoch,
                "epoch_state": json.dumps(self.epoch_state), "record": json.dumps(self.record),
                "losses": np.array(self.losses, dtype=np.float64),
                "train_seconds": self.train_seconds}

    def load_state_dict(self, s):
        self.step, self.batch_in_epoch = int(s["step"]), int(s["batch_in_epoch"])
        self.epoch_state = json.loads(str(s["epoch_state"]))
        self.record = json.loads(str(s["record"]))
        self.losses = [float(v) for v in np.asarray(s["losses"]).reshape(-1)]
        self.train_seconds = float(s["train_seconds"])


def _batches(loader, progress):
    """Minibatches from where ``progress`` stands, epoch after epoch, forever."""
    while True:
        progress.rng.bit_generator.state = progress.epoch_state
        for i, batch in enumerate(loader):
            if i >= progress.batch_in_epoch:
                progress.batch_in_epoch = i + 1
                yield batch
        progress.epoch_state, progress.batch_in_epoch = progress.rng.bit_generator.state, 0


def train(model, optimizer, data, args, eval_at=()):
    """Minibatch training for ``args.steps`` steps on cross-entropy; test accuracy every
    ``args.eval_every`` steps and at the steps in ``eval_at``. Stops early on Ctrl-C
    (status 'interrupted') or a non-finite loss (status 'diverged', the model as it was
    before that step). Returns the record (status, curves, final accuracy, confusion
    matrix, training time) and the state to checkpoint."""
    eval_at = set(eval_at)
    xtr, ytr, xte, yte, classes = data
    rng = np.random.default_rng(args.seed)
    loader = DataLoader(xtr, ytr, batch_size=args.batch_size, drop_last=True, generator=rng)
    progress = _Progress(rng)
    dev = args.device
    model.to(dev)
    resumed = getattr(args, "resumed", None)
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        progress.load_state_dict(resumed["progress"])
    record, status, error = progress.record, "complete", None
    bar = tqdm(total=args.steps, initial=progress.step, disable=args.no_progress, unit="step",
               mininterval=0.5)
    batches = _batches(loader, progress)
    with StopOnInterrupt() as stop:
        while progress.step < args.steps and not stop.requested:
            x, y = next(batches)
            start = time.perf_counter()
            loss = F.cross_entropy(model(tensor(x, device=dev)), backend.to_device(y, dev))
            try:
                value = check_finite_loss(loss.item(), "the loss", progress.step + 1,
                                          lambda: {"loss": progress.losses[-1]}
                                          if progress.losses else {})
            except Diverged as exc:       # keep the model as it was before this step
                status, error = "diverged", exc
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            progress.train_seconds += time.perf_counter() - start
            progress.losses.append(value)
            progress.step += 1
            bar.update(1)
            step = progress.step
            if step % args.eval_every == 0 or step == args.steps or step in eval_at:
                acc = accuracy(yte, predict(model, xte))
                record["steps"].append(step)
                record["examples"].append(step * args.batch_size)
                record["test_accuracy"].append(acc)
                record["train_loss"].append(float(np.mean(progress.losses)))
                progress.losses = []
                bar.set_postfix(acc=f"{acc:.4f}")
    bar.close()
    if stop.requested and status == "complete":
        status = "interrupted"
    pred = predict(model, xte)
    result = dict(record, status=status, error=str(error) if error else None,
                  final_accuracy=accuracy(yte, pred), train_seconds=progress.train_seconds,
                  seconds_per_epoch=progress.train_seconds / max(
                      progress.step * args.batch_size, 1) * len(xtr),
                  confusion=confusion_matrix(yte, pred, len(classes)).tolist(),
                  classes=list(classes))
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "progress": progress.state_dict(), "config": json.dumps(_config(args))}
    return result, state, error


def write(result, state, args, figures):
    """The checkpoint, then ``figures`` ({file name: draw(file)}), the confusion plot and
    metrics.json, each atomically, into the run's folder, which then replaces --out; prints
    the confusion table and the result. Exits with 3 after writing if the run diverged."""
    from minigan import plot
    record, error = result
    folder = args.folder
    counts = np.array(record["confusion"])
    figures = dict(figures, **{"confusion.png": lambda f: plot.confusion(
        counts, record["classes"], f)})
    with StopOnInterrupt():         # one Ctrl-C while writing waits for the files; two abort
        save(state, os.path.join(folder, CHECKPOINT))
        for name, draw in figures.items():
            with atomic_file(os.path.join(folder, name)) as f:
                draw(f)
        written = sorted(f for f in os.listdir(folder) if not f.startswith("."))
        save_json(dict(record, config=_config(args), outputs=written + ["metrics.json"]),
                  os.path.join(folder, "metrics.json"))
        replace_folder(folder, args.out)
    names = [c[:8] for c in record["classes"]]
    print("\nconfusion matrix (rows: true class, columns: predicted)")
    print(" " * 9 + " ".join(f"{n:>8}" for n in names))
    for n, row in zip(names, counts):
        print(f"{n:>8} " + " ".join(f"{v:8d}" for v in row))
    last = record["steps"][-1] if record["steps"] else 0
    print(f"\ntest accuracy {record['final_accuracy']:.4f} after {last} steps; "
          f"training {record['train_seconds']:.1f} s ({record['seconds_per_epoch']:.1f} s per "
          f"epoch); outputs in {args.out}/")
    if record["status"] == "interrupted":
        print(f"interrupted; continue with the same flags and --resume {args.out}:\n  python "
              + " ".join([sys.argv[0], *without_flags(sys.argv[1:], ("--out", "--resume")),
                          "--resume", args.out]))
        raise SystemExit(130)
    if error is not None:
        raise error



def parser(doc):
    return argparse.ArgumentParser(description=doc.splitlines()[0],
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
