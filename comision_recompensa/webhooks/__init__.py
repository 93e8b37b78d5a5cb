"""Outbound webhooks and partner postbacks (PRODUCT.md §10): endpoints, the delivery outbox,
signed delivery with SSRF protection, replays and the delivery log.

Subscriptions are receivers of the domain signals (`receivers.py`); adding a webhook type
never edits attribution, lifecycle or payout code.
"""
