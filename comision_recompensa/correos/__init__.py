"""E-mails (PRODUCT.md §12): an outbox row per e-mail, sent through Django's e-mail backend."""
