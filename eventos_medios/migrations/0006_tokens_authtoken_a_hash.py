"""Move the API keys of DRF's authtoken (stored in plain text) to TokenApi (stored as SHA-256),
then drop the old table, so no usable key stays in the database (PRODUCT.md §8).

Existing keys keep working: they are looked up by hash like new ones. Fresh installs have no
`authtoken_token` table and nothing to move.
"""

import hashlib
from datetime import UTC

from django.db import migrations
from django.utils import timezone

TABLA_VIEJA = "authtoken_token"


def _hashear_claves(apps, schema_editor):
    conexion = schema_editor.connection
    if TABLA_VIEJA not in conexion.introspection.table_names():
        return
    TokenApi = apps.get_model("eventos_medios", "TokenApi")
    with conexion.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {TABLA_VIEJA}")
        filas = cursor.fetchall()
    TokenApi.objects.using(conexion.alias).bulk_create(
        [
            TokenApi(
                usuario_id=usuario_id,
                prefijo=clave[:8],
                hash=hashlib.sha256(clave.encode()).hexdigest(),
                creado_en=timezone.make_aware(creada, UTC) if timezone.is_naive(creada) else creada,
            )
            for clave, usuario_id, creada in filas
        ]
    )
    schema_editor.execute(f"DROP TABLE {TABLA_VIEJA}")


class Migration(migrations.Migration):
    dependencies = [
        ("eventos_medios", "0005_token_api"),
    ]

    operations = [
        migrations.RunPython(_hashear_claves, migrations.RunPython.noop, elidable=False),
    ]
