from django.apps import AppConfig


class ComisionRecompensaConfig(AppConfig):
    """Money: agreements, attribution, commissions, rewards and payouts."""

    name = "comision_recompensa"
    verbose_name = "Comisiones y recompensas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connect receivers of eventos_medios' domain signals (attribution on commit).
        from comision_recompensa.atribucion import receivers  # noqa: F401

        # Register each subdomain's Celery tasks (their names are explicit and stable).
        from comision_recompensa.atribucion import tasks as _t1  # noqa: F401
        from comision_recompensa.creditos import tasks as _t2  # noqa: F401
        from comision_recompensa.pagos import tasks as _t3  # noqa: F401
        from comision_recompensa.reportes import tasks as _t4  # noqa: F401
