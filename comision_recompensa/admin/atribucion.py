"""Admin for asociaciones, reglas, comisiones, recompensas and the re-attribution audit."""
