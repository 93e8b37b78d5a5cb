"""Development tools of the payouts subdomain. Nothing here runs in the product's code paths:
the payments simulator (`simulador.py`, `manage.py pagos_simulado`) stands in for the payments
component in the demo, manual tests and the fault-injection tests. It pays nobody."""
