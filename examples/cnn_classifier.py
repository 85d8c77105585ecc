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
from minigan.runs import cli


@cli
def main(argv=None):
    ap = classify.add_common_flags(classify.parser(__doc__), steps=20000, batch_size=100,
                                   lr=1e-3, eval_every=1000, out="runs/cnn_classifier")
    args = ap.parse_args(argv)
    classify.check_common_flags(ap, args)
    data = classify.load_data(args, (1, 28, 28))
    mg.manual_seed(args.seed)
    model = ThesisCNN(classes=len(data[4]))
    opt = mg.optim.Adam(model.parameters(), lr=args.lr)
    record, state, error = classify.train(model, opt, data, args)
    model.save(os.path.join(args.folder, "model.npz"))      # the judge of generated images
    figures = {
        "accuracy.png": lambda f: plot.curves(
            record["steps"], {"test accuracy": record["test_accuracy"]}, f, "step",
            "test accuracy", "thesis CNN"),
        "loss.png": lambda f: plot.curves(
            record["steps"], {"training loss": record["train_loss"]}, f, "step",
            "cross-entropy", "thesis CNN")}
    classify.write((record, error), state, args, figures)
    return record


if __name__ == "__main__":
    main()
