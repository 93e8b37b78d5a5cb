from django.apps import AppConfig


class ComisionRecompensaConfig(AppConfig):
    """Money: agreements, attribution, commissions, rewards and payouts."""

    name = "comision_recompensa"
    verbose_name = "Comisiones y recompensas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connect receivers of eventos_medios' domain signals (attribution on commit).
        from . import receivers  # noqa: F401
