"""Credit lifecycle: comisiones and recompensas from pendiente to pagada or revertida
(PRODUCT.md §4), refunds, and their API and admin."""
