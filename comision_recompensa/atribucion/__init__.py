"""Attribution: who gets credit for an event and what it pays (PRODUCT.md §3, §5).

The live engine, the attribution models, re-attribution, the explanation of a credit, and
the receiver and tasks that run attribution after ingestion."""
