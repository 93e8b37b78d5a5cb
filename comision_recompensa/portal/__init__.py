"""The partner portal (PRODUCT.md §12): server-rendered pages under /portal/ over the same
selectors and access scope as the API, working without JavaScript, in Spanish by default."""
