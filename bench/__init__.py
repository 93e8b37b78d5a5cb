"""The flash-sale benchmark: `python -m bench [--quick] [--solo B1,B3]` (see bench/README.md)."""
