"""Reporting: totals, time series, per-publication performance, CSV exports, the admin
dashboard and the daily rollup (`resumen_diario`) they read."""
