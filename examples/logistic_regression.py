"""Softmax regression on Fashion-MNIST by minibatch SGD (thesis 2.2.2).

p(y = k | x) = softmax(W x + b)_k over the 784 pixels, trained on the negative log-likelihood
(cross-entropy). The thesis plotted test accuracy against the number of training examples
seen, from 50 to 100k (notMNIST: ~90%); here Fashion-MNIST stands in. Writes accuracy.png
(accuracy vs examples seen, log axis), confusion.png and metrics.json; prints the confusion
matrix.

    python examples/logistic_regression.py
"""
import numpy as np

import minigan as mg
from minigan import classify, plot
from minigan.runs import cli


@cli
def main(argv=None):
    ap = classify.add_common_flags(classify.parser(__doc__), steps=30000, batch_size=100,
                                   lr=0.02, eval_every=5000, out="runs/logistic_regression")
    args = ap.parse_args(argv)
    classify.check_common_flags(ap, args)
    data = classify.load_data(args, (784,))
    mg.manual_seed(args.seed)
    model = mg.nn.Linear(784, len(data[4]))
    opt = mg.optim.SGD(model.parameters(), lr=args.lr)
    # accuracy against examples seen on a log scale, as the thesis plots it (50 ... 3M)
    log_steps = np.unique(np.geomspace(1, args.steps, 30).astype(int))
    record, state, error = classify.train(model, opt, data, args, eval_at=log_steps)
    figures = {"accuracy.png": lambda f: plot.curves(
        record["examples"], {"test accuracy": record["test_accuracy"]}, f,
        "training examples seen", "test accuracy", "softmax regression", logx=True)}
    classify.write((record, error), state, args, figures)
    return record


if __name__ == "__main__":
    main()
