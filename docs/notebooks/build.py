"""Build the notebooks of docs/notebooks from their sources, run them, and save them with
their outputs (so they read on a code host without running).

Each source is a Python file in the "percent" format: a line ``# %%`` starts a code cell,
``# %% [markdown]`` a text cell (its lines' leading ``# `` dropped), and ``# %% [script
only]`` a cell the notebook leaves out (the command-line flags of an example). The sources
are files like any other: ruff checks them and the tests run them. A notebook records which
OpenBLAS kernels ran it: a GAN trained for thousands of steps rounds differently, and so
ends elsewhere, under other kernels.

    python docs/notebooks/build.py              # every notebook
    python docs/notebooks/build.py 4            # the notebooks whose name starts with 4
"""
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NOTEBOOKS = {               # notebook -> its source
    "1_tensors_and_the_graph": HERE / "1_tensors_and_the_graph.py",
    "2_write_an_op": HERE / "2_write_an_op.py",
    "3_double_backprop": HERE / "3_double_backprop.py",
    "4_gan_in_50_lines": ROOT / "examples" / "gan_in_50_lines.py",
    "5_convolution_as_im2col": HERE / "5_convolution_as_im2col.py",
}
TIMEOUT = 60                # seconds a notebook may take, all its cells together


def cells(source_text):
    """The source's cells as (kind, text) pairs, kind "code" or "markdown"; script-only
    cells are left out."""
    out, kind, lines = [], None, []
    for line in source_text.splitlines() + ["# %%"]:
        if line.startswith("# %%"):
            if kind is not None and kind != "script" and "".join(lines).strip():
                out.append((kind, "\n".join(lines).strip("\n")))
            tag = line[4:].strip()
            kind = {"": "code", "[markdown]": "markdown", "[script only]": "script"}.get(tag)
            if kind is None:
                raise ValueError(f"unknown cell marker {line!r}")
            lines = []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind is not None:
            lines.append(line)
    return out


def blas_core():
    """The OpenBLAS kernels NumPy runs ("SkylakeX", "Haswell", ...), or "unknown"."""
    import numpy  # noqa: F401  (loads OpenBLAS, so that threadpoolctl sees it)
    from threadpoolctl import threadpool_info
    cores = [i.get("architecture") for i in threadpool_info()
             if i.get("internal_api") == "openblas"]
    return cores[0] if cores and cores[0] else "unknown"


def notebook(name):
    """The notebook ``name`` built from its source, without outputs."""
    import nbformat
    nb = nbformat.v4.new_notebook()
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    nb.cells = [make[kind](text) for kind, text in cells(NOTEBOOKS[name].read_text())]
    for i, cell in enumerate(nb.cells):     # stable ids: a rebuild changes only what changed
        cell.id = f"cell-{i}"
    nb.metadata.update(kernelspec={"name": "python3", "display_name": "Python 3",
                                   "language": "python"},
                       language_info={"name": "python"})
    return nb


def execute(nb):
    """Run every cell of ``nb`` in a fresh kernel (in this folder); returns the seconds."""
    from nbclient import NotebookClient
    start = time.perf_counter()
    NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata["minigan"] = {"openblas": blas_core()}
    return seconds


def tidy(outputs):
    """A cell's outputs as a reader sees them: consecutive pieces of one stream joined, a
    line rewritten by carriage returns (a progress bar) kept in its last state, and streams
    left empty dropped."""
    joined = []
    for o in outputs:
        if (o.get("output_type") == "stream" and joined
                and joined[-1].get("output_type") == "stream" and joined[-1]["name"] == o["name"]):
            joined[-1]["text"] += o["text"]
        else:
            joined.append(o)
    for o in joined:
        if o.get("output_type") == "stream":
            o["text"] = "\n".join(line.rsplit("\r", 1)[-1] for line in o["text"].split("\n"))
    return [o for o in joined if o.get("output_type") != "stream" or o["text"].strip()]


def main(argv):
    import nbformat
    names = [n for n in NOTEBOOKS if not argv or any(n.startswith(a) for a in argv)]
    if not names:
        sys.exit(f"build.py: no notebook starts with {argv}; they are {list(NOTEBOOKS)}")
    for name in names:
        nb = notebook(name)
        seconds = execute(nb)
        for cell in nb.cells:         # the kernel's timestamps would change every build
            cell.get("metadata", {}).pop("execution", None)
            if cell.cell_type == "code":
                cell.outputs = tidy(cell.outputs)
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print(f"{name}.ipynb: {len(nb.cells)} cells, ran in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
