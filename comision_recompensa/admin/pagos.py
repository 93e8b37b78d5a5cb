"""Admin for Pagos (outbox state, attempts, dead letters) and adjustments."""
