"""digest: a static site generator for a Central Asia reading digest."""

__version__ = "0.1.0"
