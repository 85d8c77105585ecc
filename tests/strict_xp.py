"""A strict stand-in for CuPy on the CPU: NumPy's maths behind an array type of its own.

Most machines here have no GPU, yet the GPU code paths must run in the tests. ``StrictArray``
wraps a NumPy array and behaves as a CuPy array does where it matters:

- it is not a NumPy array: ``np.asarray(a)``, ``np.exp(a)``, ``np.concatenate([a])``,
  ``ndarray + a`` and a Numba kernel called on it all raise, so an ``np.`` call that should
  have been ``xp.`` fails here as it would on a GPU;
- its module (``strict``) refuses NumPy arrays as operands: moving data on or off the device is
  explicit (``strict.asarray(host)``, ``a.get()``), nothing else converts;
- reductions and scalar indexing give 0-d arrays, not NumPy scalars (as CuPy).

The tests register it as the device "strict" (``minigan.backend.register_device``), so one
suite runs on "cpu", "strict" and, where there is one, "cuda".
"""
import types

import numpy as np

_ERROR = ("implicit conversion to a NumPy array is not allowed "
          "(a device array: use .get() or minigan.backend.to_host)")


def _unwrap(obj, *, allow_host=False):
    """Arguments for NumPy: StrictArrays unwrapped (inside lists, tuples and dicts too); a
    NumPy array refused unless ``allow_host`` (the explicit transfers)."""
    if isinstance(obj, StrictArray):
        return obj._a
    if isinstance(obj, np.ndarray):
        if allow_host:
            return obj
        raise TypeError(f"a NumPy array (shape {obj.shape}) where a device array is needed: "
                        "move it with strict.asarray first")
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o, allow_host=allow_host) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v, allow_host=allow_host) for k, v in obj.items()}
    return obj


def _wrap(obj):
    """NumPy's results as device values: arrays and NumPy scalars become StrictArrays."""
    if isinstance(obj, np.ndarray):
        return StrictArray(obj)
    if isinstance(obj, np.generic):
        return StrictArray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


def _wrapped(fn, allow_host=False):
    def call(*args, **kwargs):
        return _wrap(fn(*_unwrap(args, allow_host=allow_host),
                        **_unwrap(kwargs, allow_host=allow_host)))
    call.__name__ = getattr(fn, "__name__", "call")
    return call


def _binary(name):
    def op(self, other):
        return _wrap(getattr(self._a, name)(_unwrap(other)))
    return op


def _unary(name):
    def op(self):
        return StrictArray(getattr(self._a, name)())
    return op


def _python(name):
    def op(self):
        return getattr(self._a, name)()
    return op


def _inplace(name):
    def op(self, other):
        getattr(self._a, name)(_unwrap(other))
        return self
    return op


class StrictArray:
    """A device array (see the module's docstring); ``.get()`` copies it to the host."""

    __slots__ = ("_a",)
    __array_ufunc__ = None          # ndarray (op) StrictArray -> our reflected op, which refuses

    def __init__(self, a):
        self._a = a

    def __array__(self, *args, **kwargs):
        raise TypeError(_ERROR)

    def __array_function__(self, func, types_, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} called on a device array: use the array "
                        "module (xp) that owns it")

    def get(self):
        return self._a.copy()

    # the attributes of an ndarray: data facts pass through, methods wrap their results
    def __getattr__(self, name):
        if name.startswith("__"):        # __array_interface__ and the like: not for NumPy
            raise AttributeError(name)
        value = getattr(self._a, name)
        return _wrapped(value) if callable(value) else _wrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key)] = _unwrap(value)

    def __repr__(self):
        return "strict." + repr(self._a)


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor", "lt", "le", "gt", "ge", "eq", "ne", "radd", "rsub", "rmul", "rtruediv",
              "rfloordiv", "rmod", "rpow", "rmatmul", "rand", "ror", "rxor"):
    setattr(StrictArray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("iadd", "isub", "imul", "itruediv", "ipow", "iand", "ior"):
    setattr(StrictArray, f"__{_name}__", _inplace(f"__{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):          # device results, as CuPy's
    setattr(StrictArray, f"__{_name}__", _unary(f"__{_name}__"))
for _name in ("bool", "float", "int", "index"):        # Python values (CuPy syncs for them)
    setattr(StrictArray, f"__{_name}__", _python(f"__{_name}__"))
for _name in ("shape", "dtype", "ndim", "size"):     # the hot data facts, without __getattr__
    setattr(StrictArray, _name, property(lambda self, _n=_name: getattr(self._a, _n)))
StrictArray.T = property(lambda self: StrictArray(self._a.T))
StrictArray.__hash__ = None


class _Ufunc:
    """A NumPy ufunc over device arrays, with its methods (``add.at``, ``maximum.reduce``)."""

    def __init__(self, ufunc):
        self._u = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _wrapped(self._u)(*args, **kwargs)

    def __getattr__(self, name):
        value = getattr(self._u, name)
        return _wrapped(value) if callable(value) else value


# NumPy names that CuPy does not have (AttributeError there, so here too)
NOT_IN_CUPY = {"errstate", "seterr", "geterr", "seterrcall", "geterrcall", "longdouble",
               "clongdouble", "float128", "complex256", "nditer", "ndindex", "ndenumerate",
               "array2string", "set_printoptions", "printoptions"}


class _Namespace(types.ModuleType):
    """``strict``, ``strict.random``, ``strict.linalg``: NumPy's functions, wrapped."""

    def __init__(self, name, source):
        super().__init__(name)
        self._source = source

    def __getattr__(self, name):
        if name.startswith("__") or name in NOT_IN_CUPY:
            raise AttributeError(f"module 'strict' has no attribute {name!r} (nor has CuPy)")
        value = getattr(self._source, name)
        if isinstance(value, np.ufunc):
            value = _Ufunc(value)
        elif isinstance(value, types.ModuleType):
            value = _Namespace(f"{self.__name__}.{name}", value)
        elif callable(value) and not isinstance(value, type):
            value = _wrapped(value)
        setattr(self, name, value)         # cached: the next lookup is a plain attribute
        return value


strict = _Namespace("strict", np)
strict.ndarray = StrictArray
# the transfers: the only functions that take host arrays
strict.asarray = _wrapped(np.asarray, allow_host=True)
strict.array = _wrapped(np.array, allow_host=True)
strict.asnumpy = lambda a: a.get() if isinstance(a, StrictArray) else np.asarray(a)


def _no_host(fn):
    def refuse(*args, **kwargs):
        raise TypeError(f"strict.{fn}: not available on the device")
    return refuse


strict.asfortranarray = _no_host("asfortranarray")
