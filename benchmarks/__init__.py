"""Speed of minigan against raw NumPy and PyTorch CPU, measured side by side in one process."""
