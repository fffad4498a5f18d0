"""rthdr: real-time handwritten digit recognition."""

__version__ = "1.0.0"
