import eventos_medios.models
from django.db import migrations, models


class Migration(migrations.Migration):
    """PRODUCT.md §8: a marca's domains, where an event's visitante_id came from, why
    attribution credited nobody, and clicks discarded because their socio or marca is
    deactivated. The data and the new index follow in the next two migrations."""

    dependencies = [
        ("eventos_medios", "0007_marca_slug"),
    ]

    operations = [
        migrations.AddField(
            model_name="marca",
            name="dominios",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Host names the tracking links of this marca may redirect to (a "
                "subdomain of a listed name counts). Empty: the host of sitio_web.",
                validators=[eventos_medios.models.validar_dominios],
            ),
        ),
        migrations.AddField(
            model_name="evento",
            name="origen_visitante",
            field=models.CharField(
                blank=True,
                choices=[("marca", "Marca"), ("enlace", "Enlace"), ("", "ninguno")],
                help_text="Where visitante_id came from: 'marca' (the brand vouches for it: "
                "the only touchpoints of a visitor), 'enlace' (a tracking link, before the "
                "rule), or empty.",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="evento",
            name="motivo_atribucion",
            field=models.CharField(
                blank=True,
                choices=[
                    ("marca_inactiva", "Marca Inactiva"),
                    ("socio_inactivo", "Socio Inactivo"),
                    ("", "ninguno"),
                ],
                help_text="Why attribution credited nobody, when a rule decided it.",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="evento",
            name="motivo_descarte",
            field=models.CharField(
                blank=True,
                choices=[
                    ("bot", "Bot"),
                    ("duplicado", "Duplicado"),
                    ("head", "Head"),
                    ("inactivo", "Inactivo"),
                ],
                max_length=16,
            ),
        ),
    ]
