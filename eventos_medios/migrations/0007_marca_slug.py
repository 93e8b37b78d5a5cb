from django.db import migrations, models
from django.utils.text import slugify

LARGO = 80


def poblar_slugs(apps, schema_editor):
    """Each existing marca gets a unique slug from its nombre (`-2`, `-3`… on clashes)."""
    Marca = apps.get_model("eventos_medios", "Marca")
    tomados: set[str] = set()
    for marca in Marca.objects.order_by("creado_en", "id").only("id", "nombre"):
        base = slugify(marca.nombre)[: LARGO - 6].strip("-") or "marca"
        candidato, n = base, 1
        while candidato in tomados:
            n += 1
            candidato = f"{base}-{n}"
        tomados.add(candidato)
        Marca.objects.filter(pk=marca.pk).update(slug=candidato)


class Migration(migrations.Migration):
    dependencies = [("eventos_medios", "0006_tokens_authtoken_a_hash")]

    operations = [
        migrations.AddField(
            model_name="marca",
            name="slug",
            field=models.SlugField(
                blank=True,
                help_text="Public address of the programme's application form; generated from nombre.",
                max_length=80,
                null=True,
                unique=True,
            ),
        ),
        migrations.RunPython(poblar_slugs, migrations.RunPython.noop),
    ]
