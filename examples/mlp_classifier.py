"""A feed-forward net on Fashion-MNIST: one hidden layer of 2048 ReLU units (thesis 3.2.1).

784 -> 2048 (ReLU) -> 10, softmax cross-entropy, SGD, minibatch 100 (the thesis ran 20k steps
and reached 92% on notMNIST). Writes accuracy.png (test accuracy over steps), confusion.png and
metrics.json.

    python examples/mlp_classifier.py
"""
import minigan as mg
from minigan import classify, nn, plot
from minigan.runs import cli


@cli
def main(argv=None):
    ap = classify.add_common_flags(classify.parser(__doc__), steps=20000, batch_size=100,
                                   lr=0.1, eval_every=1000, out="runs/mlp_classifier")
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--momentum", type=float, default=0.9)
    args = ap.parse_args(argv)
    if args.hidden < 1:
        ap.error("--hidden must be >= 1")
    if not 0 <= args.momentum < 1:
        ap.error(f"--momentum must be in [0, 1), got {args.momentum}")
    classify.check_common_flags(ap, args)
    data = classify.load_data(args, (784,))
    mg.manual_seed(args.seed)
    model = nn.fuse(nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(),    # one node
                                  nn.Linear(args.hidden, len(data[4]))))
    opt = mg.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    record, state, error = classify.train(model, opt, data, args)
    figures = {"accuracy.png": lambda f: plot.curves(
        record["steps"], {"test accuracy": record["test_accuracy"]}, f, "step",
        "test accuracy", f"MLP 784-{args.hidden}-10")}
    classify.write((record, error), state, args, figures)
    return record


if __name__ == "__main__":
    main()
