"""The graph behind a tensor as Graphviz DOT text — to see what backward will walk."""
import shutil
import subprocess

from minigan.core import Tensor


def _label(t):
    name = f"{t.name}\\n" if t.name else ""
    return f"{name}{tuple(t.shape)} {t.dtype}"


def to_dot(tensor, title=None):
    """DOT text of the graph that produced ``tensor``: ellipses are tensors (name, shape,
    dtype), boxes are the Functions that made them. Needs no graphviz."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot needs a Tensor, got {type(tensor).__name__}")
    lines = ["digraph minigan {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    if title:
        lines.append(f'  label="{title}";')
    seen, stack = set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        colour = "lightblue" if t.creator is None and t.requires_grad else "white"
        lines.append(f'  t{id(t)} [label="{_label(t)}", style=filled, fillcolor={colour}];')
        fn = t.creator
        if fn is None or fn.inputs is None:
            continue
        lines.append(f'  f{id(fn)} [label="{fn.name}", shape=box, style=filled, '
                     'fillcolor=lightgrey];')
        lines.append(f"  f{id(fn)} -> t{id(t)};")
        for x in fn.inputs:
            lines.append(f"  t{id(x)} -> f{id(fn)};")
            stack.append(x)
    lines.append("}")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def render(dot_text, png_path):
    """Render DOT text to PNG with the ``dot`` program; returns False if it is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        return False
    subprocess.run([exe, "-Tpng", "-o", str(png_path)], input=dot_text.encode(), check=True)
    return True
