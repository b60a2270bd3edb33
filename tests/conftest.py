"""Shared pytest configuration: headless plotting, no progress bars."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
