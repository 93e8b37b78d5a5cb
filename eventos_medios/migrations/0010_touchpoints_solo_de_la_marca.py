from django.db import migrations, models


class Migration(migrations.Migration):
    """The touchpoint index covers only visitors the brand vouches for (the touchpoint query
    filters on `origen_visitante = 'marca'`), and the new columns get their constraints."""

    dependencies = [
        ("eventos_medios", "0009_origen_visitante_de_eventos_guardados"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="evento",
            name="evento_touchpoint_idx",
        ),
        migrations.AddIndex(
            model_name="evento",
            index=models.Index(
                condition=models.Q(("origen_visitante", "marca")),
                fields=["marca", "visitante_id", "ocurrido_en"],
                name="evento_touchpoint_marca_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="evento",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("origen_visitante__in", ["marca", "enlace", ""]),
                    models.Q(
                        ("origen_visitante", ""),
                        models.Q(("visitante_id", ""), _negated=True),
                        _connector="OR",
                    ),
                ),
                name="evento_origen_visitante_valido",
            ),
        ),
        migrations.AddConstraint(
            model_name="evento",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("motivo_atribucion", ""),
                    models.Q(
                        ("estado_atribucion", "sin_atribucion"),
                        ("motivo_atribucion__in", ["marca_inactiva", "socio_inactivo", ""]),
                    ),
                    _connector="OR",
                ),
                name="evento_motivo_atribucion_valido",
            ),
        ),
    ]
