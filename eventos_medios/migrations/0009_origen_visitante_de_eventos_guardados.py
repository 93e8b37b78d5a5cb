from django.db import migrations


def marcar_origen(apps, schema_editor):
    """Where the visitante_id of each stored event came from (PRODUCT.md §8).

    Tracking-link clicks are the clicks stored without a body hash (`huella`): ingestion — the
    API, batches, the seed's endpoints, the demo loader — always stores one, the link never
    does. Their visitante_id came from `apc_vid` on the link: `enlace`, kept for the record
    and never used for attribution (re-attribution included). Every other event with a
    visitante_id was sent by a brand's back-end or staff: `marca`.
    """
    Evento = apps.get_model("eventos_medios", "Evento")
    con_visitante = Evento.objects.exclude(visitante_id="")
    con_visitante.filter(tipo="click", huella="").update(origen_visitante="enlace")
    con_visitante.filter(origen_visitante="").update(origen_visitante="marca")


def deshacer(apps, schema_editor):
    Evento = apps.get_model("eventos_medios", "Evento")
    Evento.objects.exclude(origen_visitante="").update(origen_visitante="")


class Migration(migrations.Migration):
    dependencies = [
        ("eventos_medios", "0008_dominios_origen_visitante_inactivo"),
    ]

    operations = [migrations.RunPython(marcar_origen, deshacer)]
