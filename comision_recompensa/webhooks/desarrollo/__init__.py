"""Development tools of the webhook subdomain (never used in production)."""
