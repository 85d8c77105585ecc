"""Speed of minigan against raw NumPy and PyTorch CPU, measured side by side in one process.

minigan is imported here, before anything imports NumPy, so that its process settings
(minigan/_runtime.py) are in force for every benchmark: with NumPy loaded first, OpenBLAS's
idle threads spin after each GEMM and took the cores from PyTorch's threads (its CNN step
measured 25.8 ms instead of 11.7 ms in the same process), which flattered every ratio.
"""
import minigan  # noqa: F401  (first: see above)
