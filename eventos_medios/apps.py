from django.apps import AppConfig


class EventosMediosConfig(AppConfig):
    """Tracking: socios, marcas, medios, publicaciones and the events they cause."""

    name = "eventos_medios"
    verbose_name = "Eventos y medios"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Cached API tokens hold the caller's scope (its marcas, its socio): drop them when
        # these models (or the user) change.
        from alpespartners.api.authentication import conectar_receptores

        conectar_receptores()
