"""Payouts: grouping approved money into Pagos, the delivery outbox, the confirmation
callback (PRODUCT.md §4). Development tools (the payments simulator) live in `desarrollo/`."""
