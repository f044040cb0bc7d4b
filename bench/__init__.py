"""``make bench``: digest against Pelican and Hugo on the same synthetic archive (see docs/BENCHMARKS.md)."""
