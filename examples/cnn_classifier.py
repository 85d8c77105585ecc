"""The thesis's convolutional net on Fashion-MNIST (thesis 3.3.1).

Two convolutions of 16 kernels 5x5, each followed by 2x2 max pooling, a fully connected
layer of 1024 ReLU units, and a linear + softmax output (the thesis reached 95% on notMNIST
after 20k steps). Adam, minibatch 100. Writes accuracy.png and loss.png (test accuracy and
training loss over steps), confusion.png, metrics.json, and model.npz — the trained network,
loadable with ``minigan.models.ThesisCNN.load`` so that the GAN examples can use its
penultimate features to judge generated images.

    python examples/cnn_classifier.py
"""
import os

import minigan as mg
from minigan import classify, plot
from minigan.models import ThesisCNN


def main(argv=None):
    ap = classify.add_common_flags(classify.parser(__doc__), steps=20000, batch_size=100,
                                   lr=1e-3, eval_every=1000)
    ap.add_argument("--out", default="runs/cnn_classifier")
    args = ap.parse_args(argv)
    classify.check_common_flags(ap, args)
    data = classify.load(args, (1, 28, 28))
    mg.manual_seed(args.seed)
    model = ThesisCNN(classes=len(data[4]))
    opt = mg.optim.Adam(model.parameters(), lr=args.lr)
    record = classify.train(model, opt, data, args)
    os.makedirs(args.out, exist_ok=True)
    plot.curves(record["steps"], {"test accuracy": record["test_accuracy"]},
                os.path.join(args.out, "accuracy.png"), "step", "test accuracy", "thesis CNN")
    plot.curves(record["steps"], {"training loss": record["train_loss"]},
                os.path.join(args.out, "loss.png"), "step", "cross-entropy", "thesis CNN")
    model.save(os.path.join(args.out, "model.npz"))
    classify.write(record, args, args.out)
    return record


if __name__ == "__main__":
    main()
