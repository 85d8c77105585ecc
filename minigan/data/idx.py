"""The IDX format of MNIST and Fashion-MNIST (LeCun et al.): read and write, checked.

Layout: two zero bytes, a type code, the number of dimensions d, then d big-endian uint32
sizes, then the data in C order, big-endian. Files may be gzip-compressed. A file whose magic,
type, dimensions or length do not add up raises IDXError before any array is returned.
"""
import gzip
import os
import zlib

import numpy as np

_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {v.newbyteorder("=") if v.byteorder == ">" else v: k for k, v in _TYPES.items()}


class IDXError(ValueError):
    """A file that is not a well-formed IDX file."""


def read_bytes(path):
    """The file's content, gunzipped if it is gzip (by magic bytes, not by name)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:    # cut short, bad CRC, bad stream
            raise IDXError(f"{path}: corrupt gzip data, the file is damaged ({exc})") from None
    return raw


def parse_idx(raw, name="<bytes>"):
    """An IDX byte string as a native-endian array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"{name}: not an IDX file (magic {raw[:4].hex() or 'empty'}, "
                       "expected 0000 then type and rank)")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise IDXError(f"{name}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{name}: truncated header ({len(raw)} bytes for {ndim} dimensions)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = _TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise IDXError(f"{name}: {len(raw)} bytes, but shape {shape} of {dtype.name} needs "
                       f"{expected} (truncated or padded file)")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path):
    """Read an IDX file (raw or .gz) into a NumPy array."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no IDX file at {path}")
    return parse_idx(read_bytes(path), str(path))


def write_idx(array, path, compress=None):
    """Write ``array`` as IDX (gzip if ``compress`` or the name ends in .gz)."""
    a = np.asarray(array)
    code = _CODES.get(a.dtype)
    if code is None:
        raise TypeError(f"IDX cannot store dtype {a.dtype}")
    body = bytes([0, 0, code, a.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in a.shape)
    body += a.astype(_TYPES[code], copy=False).tobytes()
    if compress if compress is not None else str(path).endswith(".gz"):
        body = gzip.compress(body, mtime=0)
    with open(path, "wb") as f:
        f.write(body)
