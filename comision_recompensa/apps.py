from django.apps import AppConfig


class ComisionRecompensaConfig(AppConfig):
    """Money: agreements, attribution, commissions, rewards and payouts, one package per
    subdomain (see docs/ARCHITECTURE.md)."""

    name = "comision_recompensa"
    verbose_name = "Comisiones y recompensas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from comision_recompensa.asociaciones import programa
        from comision_recompensa.atribucion import receivers as atribucion
        from comision_recompensa.correos import receivers as correos
        from comision_recompensa.pagos import receivers as pagos
        from comision_recompensa.reportes import receivers as reportes
        from comision_recompensa.webhooks import receivers as webhooks

        # Each subdomain's receivers (their modules also import, and so register, the Celery
        # tasks they queue).
        atribucion.conectar()
        correos.conectar()
        pagos.conectar()
        reportes.conectar()
        webhooks.conectar()
        # A marca's programme, as tracking's access rules see it, includes its agreements.
        programa.registrar()

        # Register the remaining Celery tasks (beat only); task names are explicit and stable.
        from comision_recompensa.creditos import tasks as _creditos  # noqa: F401
        from comision_recompensa.reportes import tasks as _reportes  # noqa: F401
