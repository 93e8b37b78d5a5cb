from django.apps import AppConfig


class EventosMediosConfig(AppConfig):
    """Tracking: socios, marcas, medios, publicaciones and the events they cause."""

    name = "eventos_medios"
    verbose_name = "Eventos y medios"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The token cache forgets a user when its flags, its marcas or its socio change, and a
        # key when it is deleted (alpespartners.api.authentication's module docstring).
        from alpespartners.api.authentication import conectar_receptores

        conectar_receptores()
