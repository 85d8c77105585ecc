"""The graph behind a tensor — to see what backward will walk: Graphviz DOT text, indented
text, and ``draw``, which shows itself in Jupyter (an SVG where Graphviz is installed, the
text otherwise)."""
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


def _dot(dot_text, *args):
    """Run Graphviz's ``dot`` on DOT text with ``args``; its output (bytes), or None where
    it is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    return subprocess.run([exe, *args], input=dot_text.encode(), check=True,
                          capture_output=True).stdout


def render(dot_text, png_path):
    """Render DOT text to PNG with the ``dot`` program; returns False if it is not installed."""
    return _dot(dot_text, "-Tpng", "-o", str(png_path)) is not None


def _text_label(t):
    label = f"{t.name or 'tensor'} {tuple(t.shape)}"
    return f"{label} <- {t.creator.name}" if t.creator is not None else label


def to_text(tensor):
    """The graph below ``tensor`` as indented text, one tensor a line with the Function that
    made it; a tensor reached a second time is marked ``(above)`` and not expanded again."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_text needs a Tensor, got {type(tensor).__name__}")
    lines, seen, stack = [], set(), [(tensor, 0)]
    while stack:
        t, depth = stack.pop()
        made = t.creator is not None and t.creator.inputs is not None
        if made and id(t) in seen:
            lines.append("  " * depth + _text_label(t) + " (above)")
            continue
        seen.add(id(t))
        lines.append("  " * depth + _text_label(t))
        if made:
            stack.extend((x, depth + 1) for x in reversed(t.creator.inputs))
    return "\n".join(lines)


class Graph:
    """What ``draw`` returns: the graph behind a tensor, which Jupyter shows as an SVG drawn
    by Graphviz's ``dot`` where it is installed, and as ``to_text`` otherwise."""

    def __init__(self, tensor, title=None):
        self.dot = to_dot(tensor, title)
        self.text = to_text(tensor)

    def _repr_svg_(self):
        svg = _dot(self.dot, "-Tsvg")
        return None if svg is None else svg.decode()    # None: Jupyter shows the text

    def __repr__(self):
        return self.text


def draw(tensor, title=None):
    """The graph behind ``tensor``, to display: the last line of a Jupyter cell draws it."""
    return Graph(tensor, title)
