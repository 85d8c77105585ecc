"""Backpropagation, node by node, on a two-layer net — the chain rule made visible.

A 2 -> 4 -> 1 net (tanh hidden layer, squared error) on four points, written as unfused
stages: matmul, add, tanh, matmul, add, sub, square, mean. The backward pass visits the graph
from the loss back to the inputs (newest generation first); for every node it visits, this
prints the node's local rule and, for one element, the chain rule at work: the gradient
arriving from above (upstream) times the node's local derivative gives the gradient passed
down. Then each stage's gradient, computed by the backward pass, is set beside central finite
differences (they agree to ~1e-9 in float64). The graph is written as Graphviz DOT text, and
drawn to PNG when the `dot` program is installed (Debian's `graphviz`), as indented text
otherwise.

    python examples/backprop_walkthrough.py --out runs/walkthrough
"""
import argparse
import os

import numpy as np

import minigan as mg
from minigan import functional as F
from minigan.core import trace_backward
from minigan.runs import UserError, check_output_folder, cli
from minigan.serialization import atomic_file


def build(rng):
    x = rng.standard_normal((4, 2))
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    params = {"W1": rng.standard_normal((2, 4)) * 0.8, "b1": np.zeros(4),
              "W2": rng.standard_normal((4, 1)) * 0.8, "b2": np.zeros(1)}
    return x, y, params


# each stage maps the previous value (and the parameters and target) to the next
STAGES = [
    ("h = x @ W1", lambda v, p, y: v @ p["W1"]),
    ("z = h + b1", lambda v, p, y: v + p["b1"]),
    ("a = tanh(z)", lambda v, p, y: F.tanh(v)),
    ("o = a @ W2", lambda v, p, y: v @ p["W2"]),
    ("q = o + b2", lambda v, p, y: v + p["b2"]),
    ("e = q - y", lambda v, p, y: v - y),
    ("s = e ** 2", lambda v, p, y: v ** 2),
    ("L = mean(s)", lambda v, p, y: v.mean()),
]

# the local derivative of each kind of node, in words
RULES = {
    "Sum": "mean: dL/ds = upstream / n for every element",
    "PowConst": "square: ds/de = 2 e",
    "Sub": "difference: de/dq = 1, de/dy = -1",
    "Add": "sum: passes upstream to both inputs; a broadcast input gets it summed",
    "MatMul": "product: dL/da = upstream @ W^T, dL/dW = a^T @ upstream (sums over one index)",
    "Tanh": "tanh: da/dz = 1 - tanh(z)^2",
}


def run_stages(x, params, y, upto=None, value=None):
    """The stages' values from x (or from ``value`` after stage ``upto``)."""
    values, v = [], mg.tensor(x) if value is None else value
    v.name = v.name or ("x" if value is None else None)
    for i, (label, f) in enumerate(STAGES):
        if upto is not None and i <= upto:
            continue
        v = f(v, params, y)
        v.name = label.split(" =")[0]
        values.append(v)
    return values


def element(a):
    """The first element of an array and its index, for printing one instance of a rule."""
    a = np.asarray(a)
    idx = (0,) * a.ndim
    return idx, float(a[idx]) if a.ndim else float(a)


def explain(fn, gy, gxs):
    """Lines for each node the backward pass visits: its rule, then one element of it."""
    print(f"  [{fn.name} gen {fn.generation}] {RULES.get(fn.name, '(see its backward)')}")
    up = gy.data
    for k, (x, g) in enumerate(zip(fn.inputs, gxs)):
        if g is None:
            continue
        j = (0,) * g.ndim
        what = f"d{x.name or f'input{k}'}{list(j)}"
        if fn.name == "MatMul":
            a, b = (t.data for t in fn.inputs)
            if k == 0:      # dA[i, m] = sum_j up[i, j] B[m, j]
                terms = [(up[0, n], b[0, n]) for n in range(up.shape[1])]
            else:           # dB[m, j] = sum_i A[i, m] up[i, j]
                terms = [(a[n, 0], up[n, 0]) for n in range(up.shape[0])]
            shown = " + ".join(f"({p:+.4f})({q:+.4f})" for p, q in terms)
            print(f"      {what} = {shown} = {g.data[j]:+.6f}")
        elif fn.name == "Add" and x.shape != gy.shape:
            print(f"      {what} = sum of upstream over the broadcast rows = "
                  f"{up[(slice(None),) + j[-x.ndim:]].sum():+.6f}")
        else:
            local = _local(fn.name, k, x.data, j)
            i = j if up.ndim else ()
            print(f"      {what}: upstream {float(up[i]):+.6f} x local {local:+.6f} "
                  f"= {float(up[i]) * local:+.6f}  (backward gave {float(g.data[j]):+.6f})")


def _local(name, k, x, j):
    """The local derivative of an elementwise node at element j of its input k (value x)."""
    if name == "Tanh":
        return float(1 - np.tanh(x[j]) ** 2)
    if name == "PowConst":
        return float(2 * x[j])
    if name == "Sum":
        return 1 / x.size
    if name == "Sub":
        return 1.0 if k == 0 else -1.0
    return 1.0                       # Add


def numeric_grad(stage, value, params, y, eps=1e-6):
    """dL/d(value of ``stage``) by central differences, everything after it recomputed."""
    g = np.zeros_like(value)
    for idx in np.ndindex(*value.shape):
        up, down = value.copy(), value.copy()
        up[idx] += eps
        down[idx] -= eps
        hi = run_stages(None, params, y, upto=stage, value=mg.tensor(up))[-1].item()
        lo = run_stages(None, params, y, upto=stage, value=mg.tensor(down))[-1].item()
        g[idx] = (hi - lo) / (2 * eps)
    return g


@cli
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/walkthrough")
    args = ap.parse_args(argv)
    if args.seed < 0:
        ap.error(f"--seed must be >= 0, got {args.seed}")
    try:
        check_output_folder(args.out)
    except UserError as exc:
        ap.error(str(exc))
    x, y, raw = build(np.random.default_rng(args.seed))
    params = {k: mg.tensor(v, requires_grad=True) for k, v in raw.items()}
    for k, t in params.items():
        t.name = k

    values = run_stages(x, params, y)
    loss = values[-1]
    print(f"forward: {' -> '.join(label for label, _ in STAGES)}\n  loss = {loss.item():.6f}\n")
    print("backward, in the order the pass visits the nodes (newest generation first):")
    with trace_backward(explain):
        grads = mg.grad(loss, values[:-1] + list(params.values()), retain_graph=True)

    print("\nthe gradient of the loss with respect to each stage, against finite differences:")
    for stage in reversed(range(len(STAGES) - 1)):
        value, ana = values[stage], grads[stage].data
        num = numeric_grad(stage, value.data, params, y)
        print(f"  dL/d{value.name:<2} {str(value.shape):7} <- {STAGES[stage][0]:<12} "
              f"max |backward - numeric| {np.abs(ana - num).max():.2e}")
    print("\nparameters (what an optimizer would use):")
    for (name, p), g in zip(params.items(), grads[len(values) - 1:]):
        print(f"  dL/d{name:<3} shape {str(p.shape):7} |g| = {np.linalg.norm(g.data):.6f}")
    ok = mg.gradcheck(lambda *ps: run_stages(x, dict(zip(params, ps)), y)[-1],
                      [p.data for p in params.values()])
    print(f"\ngradcheck of every parameter against finite differences: {ok}")

    dot = mg.viz.to_dot(loss, title="two-layer net")
    dot_path = os.path.join(args.out, "graph.dot")
    with atomic_file(dot_path, "w") as f:
        f.write(dot)
    png = os.path.join(args.out, "graph.png")
    if mg.viz.render(dot, png):
        print(f"graph: {dot_path} and {png}")
    else:
        print("graph (install graphviz for a PNG):\n" + mg.viz.to_text(loss))
        print(f"graph: {dot_path}")


if __name__ == "__main__":
    main()
