"""The generator of ``winograd_kernels.py``: Numba kernels for Winograd's transforms, one set
per F(m, r) (see ``winograd`` for the maths and the NumPy references they must match).

    python -m minigan.backend.winograd_gen      # rewrites winograd_kernels.py
"""
from pathlib import Path

from minigan.backend.winograd import matrices

# --- the Numba kernels, generated ----------------------------------------------------------
# Each transform is two passes over the whole batch, one along rows and one along columns, and
# each pass is one loop whose every iteration loads the n (or m) inputs of one position into
# registers and stores the m (or n) outputs, with the matrices' non-zero entries as the only
# products. Loops over runtime-sized matrices ran 5-8x slower (a load, a multiply-add and a
# store per product), hence one loop per (m, r), written out by ``kernel_source`` into
# ``winograd_kernels.py`` (committed, so that Numba caches it like any module; a test checks
# it is what this generator writes). Ordering matters as much: a pass that writes n^2
# far-apart planes at once ran 4x slower than one that writes n at a time (TLB and cache-set
# conflicts), so each pass keeps one output index outermost; and the output transform's
# first pass runs tile row by tile row (0.68 -> 0.29 ms on the thesis CNN's second layer,
# against one loop over each whole plane), and the input transform's adjoint reads gV's
# planes a row of n at a time, not all n^2 for each tile row (1.33 -> 0.97-1.00 ms).
# Parallel versions (prange over the outer loops) ran 1.1-2.3x slower than these on 2
# cores, and slower still on one thread: Numba vectorised their loop bodies worse.
#
# Layouts: the input split by column phase, xd (N, hp, m, wq, C) with xd[n, y, p, q] = x[n, y,
# q m + p]; V and M (n n, tiles, C), tiles in (n, ty, tx) order; the output split by column
# phase, yd (N, th m, m, tw, C) with yd[n, y, j, tx] = Y[n, y, tx m + j]. Then a tile row's
# tap j reads xd's row runs at ((j % m) wq + j // m) C, one contiguous run of tw C values.

CONFIGS = ((4, 2), (2, 3), (4, 3), (2, 5), (4, 5))     # (m, r) with generated kernels


def _combo(name, mat, out, values, transposed=False):
    """The sum over the non-zero entries of row ``out`` of ``mat`` (of its column when
    transposed) of coefficient * value, the coefficients named as the kernel's locals."""
    pairs = [((i, out) if transposed else (out, i), v) for i, v in enumerate(values)]
    return " + ".join(f"{name}{a}_{b} * {v}" for (a, b), v in pairs if mat[a, b] != 0)


def _locals(mat, name, arg):
    return [f"    {name}{a}_{b} = {arg}[{a}, {b}]" for a in range(mat.shape[0])
            for b in range(mat.shape[1]) if mat[a, b] != 0]


def _head(kind, m, r, args):
    """The decorator and the def line of one kernel."""
    return ["@numba.njit(cache=True, nogil=True, boundscheck=False, error_model='numpy')",
            f"def {kind}_{m}x{r}({args}):"]


def _input_source(m, r):
    _, _, bt = matrices(m, r)
    n = m + r - 1
    xs, ss = [f"x{i}" for i in range(n)], [f"s{j}" for j in range(n)]
    return [
        *_head("input", m, r, "xd, bt, th, tw"),
        f'    """V (n n, tiles, C) of F({m}, {r}) from the phase-split input xd."""',
        *_locals(bt, "K", "bt"),
        "    nb, hp, wq, c = xd.shape[0], xd.shape[1], xd.shape[3], xd.shape[4]",
        f"    rows, row, run = nb * th, {m} * wq * c, tw * c",
        f"    r = np.empty({n} * rows * row, dtype=xd.dtype)",
        "    xf = xd.reshape(-1)",
        "    for q in range(rows):                  # along rows: r[a, q] = sum_i BT[a, i] x[i]",
        f"        base = ((q // th) * hp + (q % th) * {m}) * row",
        "        for k in range(row):",
        *[f"            x{i} = xf[U(base + {i} * row + k)]" for i in range(n)],
        *[f"            r[U(({a} * rows + q) * row + k)] = {_combo('K', bt, a, xs)}"
          for a in range(n)],
        f"    v = np.empty(({n * n}, rows * tw, c), dtype=xd.dtype)",
        "    vf, plane = v.reshape(-1), rows * run",
        *[f"    o{j} = ({j % m} * wq + {j // m}) * c" for j in range(n)],
        f"    for a in range({n}):                  # along columns, one a at a time",
        "        for q in range(rows):",
        "            src, dst = (a * rows + q) * row, q * run",
        "            for k in range(run):",
        *[f"                s{j} = r[U(src + o{j} + k)]" for j in range(n)],
        *[f"                vf[U((a * {n} + {b}) * plane + dst + k)] = {_combo('K', bt, b, ss)}"
          for b in range(n)],
        "    return v"]


def _output_source(m, r):
    at, _, _ = matrices(m, r)
    n = m + r - 1
    ms, us = [f"m{a}" for a in range(n)], [f"u{b}" for b in range(n)]
    return [
        *_head("output", m, r, "mm, at, nb, th, tw"),
        f'    """yd (N, th m, m, tw, C) of F({m}, {r}) from M (n n, tiles, C)."""',
        *_locals(at, "AT", "at"),
        "    c = mm.shape[2]",
        "    rows, run, plane = nb * th, tw * c, mm.shape[1] * c",
        f"    t = np.empty({m * n} * plane, dtype=mm.dtype)",
        "    mf = mm.reshape(-1)",
        f"    for bq in range({n} * rows):         # t[i, b] = sum_a AT[i, a] M[a, b]",
        "        b, q = bq // rows, bq % rows",
        "        for k in range(q * run, (q + 1) * run):",
        *[f"            m{a} = mf[U(({a * n} + b) * plane + k)]" for a in range(n)],
        *[f"            t[U(({i * n} + b) * plane + k)] = {_combo('AT', at, i, ms)}"
          for i in range(m)],
        f"    yd = np.empty((nb, th * {m}, {m}, tw, c), dtype=mm.dtype)",
        "    yf = yd.reshape(-1)",
        f"    for i in range({m}):                  # Y[i, j] = sum_b t[i, b] AT[j, b]",
        "        for q in range(rows):",
        f"            src, dst = q * run, (q * {m} + i) * {m} * run",
        "            for k in range(run):",
        *[f"                u{b} = t[U((i * {n} + {b}) * plane + src + k)]" for b in range(n)],
        *[f"                yf[U(dst + {j} * run + k)] = {_combo('AT', at, j, us)}"
          for j in range(m)],
        "    return yd"]


def _adjoint_source(m, r):
    at, _, _ = matrices(m, r)
    n = m + r - 1
    gs, us = [f"g{j}" for j in range(m)], [f"u{i}" for i in range(m)]
    return [
        *_head("adjoint", m, r, "gyd, at, th, tw"),
        f'    """gM (n n, tiles, C) = A gY AT per tile of F({m}, {r}), from the phase-split',
        '    output gradient gyd (the output transform\'s adjoint)."""',
        *_locals(at, "AT", "at"),
        "    nb, c = gyd.shape[0], gyd.shape[4]",
        "    rows, run = nb * th, tw * c",
        "    plane = rows * run",
        f"    t = np.empty({m * n} * plane, dtype=gyd.dtype)",
        "    gf = gyd.reshape(-1)",
        f"    for i in range({m}):                  # t[i, b] = sum_j gY[i, j] AT[j, b]",
        "        for q in range(rows):",
        f"            src, dst = (q * {m} + i) * {m} * run, q * run",
        "            for k in range(run):",
        *[f"                g{j} = gf[U(src + {j} * run + k)]" for j in range(m)],
        *[f"                t[U((i * {n} + {b}) * plane + dst + k)] = "
          f"{_combo('AT', at, b, gs, transposed=True)}" for b in range(n)],
        f"    gm = np.empty(({n * n}, rows * tw, c), dtype=gyd.dtype)",
        "    gmf = gm.reshape(-1)",
        f"    for b in range({n}):                  # gM[a, b] = sum_i AT[i, a] t[i, b]",
        "        for k in range(plane):",
        *[f"            u{i} = t[U(({i * n} + b) * plane + k)]" for i in range(m)],
        *[f"            gmf[U(({a * n} + b) * plane + k)] = "
          f"{_combo('AT', at, a, us, transposed=True)}" for a in range(n)],
        "    return gm"]


def _input_adjoint_source(m, r):
    _, _, bt = matrices(m, r)
    n = m + r - 1
    gs, rs = [f"g{b}" for b in range(n)], [f"r{a}" for a in range(n)]
    return [
        *_head("input_adjoint", m, r, "gv, bt, nb, th, tw"),
        f'    """gxp (N, (th - 1) {m} + {n}, (tw - 1) {m} + {n}, C) of F({m}, {r}): BT^T gV BT of',
        "    every tile of gV (n n, tiles, C) added into its n x n input tile (the input",
        '    transform\'s adjoint), zero-padded and channels-last."""',
        *_locals(bt, "K", "bt"),
        "    c = gv.shape[2]",
        f"    hp, wp = (th - 1) * {m} + {n}, (tw - 1) * {m} + {n}",
        "    rows, run, row = nb * th, tw * c, wp * c",
        "    plane = rows * run",
        "    gf = gv.reshape(-1)",
        f"    rr = np.zeros({n} * rows * row, dtype=gv.dtype)   # R[a, q]: tile row q's columns",
        f"    s = np.empty({n} * run, dtype=gv.dtype)           # S[j] of one (a, q)",
        f"    for a in range({n}):                  # S[j] = sum_b gV[a, b] BT[b, j], by a",
        "        for q in range(rows):",
        "            for k in range(run):",
        *[f"                g{b} = gf[U((a * {n} + {b}) * plane + q * run + k)]"
          for b in range(n)],
        *[f"                s[U({j} * run + k)] = {_combo('K', bt, j, gs, transposed=True)}"
          for j in range(n)],
        f"            for j in range({n}):          # input column tx {m} + j gets S[j][tx]",
        "                for tx in range(tw):",
        f"                    dst = (a * rows + q) * row + (tx * {m} + j) * c",
        "                    src = j * run + tx * c",
        "                    for k in range(c):",
        "                        rr[U(dst + k)] += s[U(src + k)]",
        "    gx = np.zeros((nb, hp, wp, c), dtype=gv.dtype)",
        "    gxf = gx.reshape(-1)",
        f"    t = np.empty({n} * row, dtype=gv.dtype)           # T[i] of one tile row",
        "    for q in range(rows):",
        "        for k in range(row):              # T[i] = sum_a BT[a, i] R[a]",
        *[f"            r{a} = rr[U(({a} * rows + q) * row + k)]" for a in range(n)],
        *[f"            t[U({i} * row + k)] = {_combo('K', bt, i, rs, transposed=True)}"
          for i in range(n)],
        f"        base = ((q // th) * hp + (q % th) * {m}) * row",
        f"        for i in range({n}):              # input row ty {m} + i gets T[i]",
        "            for k in range(row):",
        "                gxf[U(base + i * row + k)] += t[U(i * row + k)]",
        "    return gx"]


HEADER = '''"""Winograd transform kernels, one per F(m, r): generated by
``minigan.backend.winograd_gen`` — do not edit; regenerate with
``python -m minigan.backend.winograd_gen``. Indices are unsigned (``U``): a signed index is
checked for wraparound at every access, which keeps LLVM from vectorizing the loops."""
import numba
import numpy as np

U = np.uintp
'''


def kernel_source():
    """The text of ``winograd_kernels.py``."""
    parts = [HEADER]
    for m, r in CONFIGS:
        for make in (_input_source, _output_source, _adjoint_source,
                     _input_adjoint_source):
            parts.append("\n".join(make(m, r)) + "\n")
    return "\n\n".join(parts)


def write():
    Path(__file__).with_name("winograd_kernels.py").write_text(kernel_source())


if __name__ == "__main__":
    write()
