"""Training a classifier on an MNIST-layout dataset: the loop the thesis's chapters 2-3 share
(logistic regression, the feed-forward net, the CNN), with evaluation along the way."""
import argparse
import json
import os
import time

import numpy as np
from tqdm import tqdm

from minigan import functional as F
from minigan import plot
from minigan.core import tensor
from minigan.data import DataLoader, load_fashion_mnist, load_mnist, to_unit
from minigan.metrics import accuracy, confusion_matrix, predict


def add_common_flags(ap, steps, batch_size, lr, eval_every):
    ap.add_argument("--dataset", choices=("fashion", "mnist"), default="fashion",
                    help="fashion: Fashion-MNIST (checked by SHA-256); mnist: any MNIST-layout "
                         "IDX folder given by --data")
    ap.add_argument("--data", default=None, help="folder of the IDX files")
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--eval-every", type=int, default=eval_every)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    return ap


def check_common_flags(ap, args):
    for ok, msg in ((args.steps >= 1, "--steps must be >= 1"),
                    (args.batch_size >= 1, "--batch-size must be >= 1"),
                    (args.lr > 0, "--lr must be > 0"),
                    (args.eval_every >= 1, "--eval-every must be >= 1")):
        if not ok:
            ap.error(msg)
    if args.dataset == "mnist" and not args.data:
        ap.error("--dataset mnist needs --data FOLDER")


def load(args, image_shape):
    """(train x, train y, test x, test y, classes), images as float32 in [0, 1] of
    ``image_shape`` per example (e.g. (784,) or (1, 28, 28))."""
    try:
        d = (load_fashion_mnist(args.data) if args.dataset == "fashion"
             else load_mnist(args.data))
    except FileNotFoundError as exc:
        raise SystemExit(f"error: {exc}") from None

    def prep(images):
        return to_unit(images).reshape((len(images),) + tuple(image_shape))
    return (prep(d.train_images), d.train_labels, prep(d.test_images), d.test_labels,
            d.classes)


def train(model, optimizer, data, args, eval_at=()):
    """Minibatch training for ``args.steps`` steps on cross-entropy; test accuracy every
    ``args.eval_every`` steps and at the steps in ``eval_at``. Returns the record (curves,
    final accuracy, confusion matrix, training time)."""
    eval_at = set(eval_at)
    xtr, ytr, xte, yte, classes = data
    loader = DataLoader(xtr, ytr, batch_size=args.batch_size, drop_last=True,
                        generator=np.random.default_rng(args.seed))
    record = {"steps": [], "examples": [], "test_accuracy": [], "train_loss": []}
    step, train_time, losses = 0, 0.0, []
    bar = tqdm(total=args.steps, disable=args.no_progress, unit="step", mininterval=0.5)
    while step < args.steps:
        for x, y in loader:
            start = time.perf_counter()
            loss = F.cross_entropy(model(tensor(x)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_time += time.perf_counter() - start
            losses.append(loss.item())
            step += 1
            bar.update(1)
            if step % args.eval_every == 0 or step == args.steps or step in eval_at:
                acc = accuracy(yte, predict(model, xte))
                record["steps"].append(step)
                record["examples"].append(step * args.batch_size)
                record["test_accuracy"].append(acc)
                record["train_loss"].append(float(np.mean(losses)))
                losses = []
                bar.set_postfix(acc=f"{acc:.4f}")
            if step == args.steps:
                break
    bar.close()
    pred = predict(model, xte)
    record.update(final_accuracy=accuracy(yte, pred), train_seconds=train_time,
                  seconds_per_epoch=train_time / max(step * args.batch_size, 1) * len(xtr),
                  confusion=confusion_matrix(yte, pred, len(classes)).tolist(),
                  classes=list(classes))
    return record


def write(record, args, out):
    """metrics.json and the confusion plot; prints the confusion table and the result."""
    os.makedirs(out, exist_ok=True)
    counts = np.array(record["confusion"])
    plot.confusion(counts, record["classes"], os.path.join(out, "confusion.png"))
    record["config"] = vars(args)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(record, f, indent=1)
    names = [c[:8] for c in record["classes"]]
    print("\nconfusion matrix (rows: true class, columns: predicted)")
    print(" " * 9 + " ".join(f"{n:>8}" for n in names))
    for n, row in zip(names, counts):
        print(f"{n:>8} " + " ".join(f"{v:8d}" for v in row))
    print(f"\ntest accuracy {record['final_accuracy']:.4f} after {record['steps'][-1]} steps; "
          f"training {record['train_seconds']:.1f} s ({record['seconds_per_epoch']:.1f} s per "
          f"epoch); outputs in {out}/")


def parser(doc):
    return argparse.ArgumentParser(description=doc.splitlines()[0],
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
