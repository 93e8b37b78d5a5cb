"""Names: a credit's 0–1 share is `participacion` (the API and CSV keep calling it `credito`),
and a re-attribution run's summary is its `balance`.

Only columns are renamed. The share's CHECK constraint keeps its database name and follows the
renamed column by itself (PostgreSQL and SQLite rewrite the expression), so it is re-declared in
Django's state only: no constraint is dropped, re-created or re-validated on a large table.
"""

from django.db import migrations, models


def _restriccion(prefijo: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(("participacion__gte", 0), ("participacion__lte", 1)),
        name=f"{prefijo}_credito_0_1",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("comision_recompensa", "0002_resumen_diario"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="comision", name="comision_credito_0_1"),
                migrations.RemoveConstraint(
                    model_name="recompensa", name="recompensa_credito_0_1"
                ),
            ],
        ),
        migrations.RenameField(
            model_name="comision", old_name="credito", new_name="participacion"
        ),
        migrations.RenameField(
            model_name="recompensa", old_name="credito", new_name="participacion"
        ),
        migrations.RenameField(
            model_name="ejecucionreatribucion", old_name="resumen", new_name="balance"
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="comision", constraint=_restriccion("comision")),
                migrations.AddConstraint(
                    model_name="recompensa", constraint=_restriccion("recompensa")
                ),
            ],
        ),
    ]
