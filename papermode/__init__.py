"""papermode: keep a hospital running safely on paper when its computers are down."""

__version__ = "0.1.0"
