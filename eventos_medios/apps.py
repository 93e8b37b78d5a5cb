from django.apps import AppConfig


class EventosMediosConfig(AppConfig):
    """Tracking: socios, marcas, medios, publicaciones and the events they cause."""

    name = "eventos_medios"
    verbose_name = "Eventos y medios"
    default_auto_field = "django.db.models.BigAutoField"
