"""collabd: real-time collaborative Jupyter notebooks with one shared kernel per session."""

__version__ = "0.1.0"
