"""`manage.py generar_pagos [--socio UUID]`: group approved, unpaid money into Pagos."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import CommandError, CommandParser

from alpespartners.comandos import Cierre, ComandoOperador, formatear_dinero, leer_uuid
from comision_recompensa.models import Ajuste, Comision, EstadoCredito, Pago, Recompensa
from comision_recompensa.pagos.selectors import pago_items
from comision_recompensa.pagos.services import pagos_generar
from eventos_medios.models import Socio


def _socios_con_saldo() -> list[uuid.UUID]:
    """Partners with something to pay or deduct (the same candidates `pagos_generar` groups),
    in its order, so the run can go partner by partner behind a progress bar."""
    socios: set[uuid.UUID] = set()
    for modelo in (Comision, Recompensa):
        socios.update(
            modelo.objects.filter(  # type: ignore[attr-defined]
                estado=EstadoCredito.APROBADA, pago__isnull=True, monto__gt=0
            )
            .exclude(moneda="")
            .values_list("socio_id", flat=True)
            .distinct()
        )
    socios.update(Ajuste.objects.filter(pago__isnull=True).values_list("socio_id", flat=True))
    return sorted(socios, key=str)


class Command(ComandoOperador):
    help = (
        "Group every approved, unpaid Comision/Recompensa (and every pending Ajuste) per\n"
        "(socio, moneda) into one new pendiente Pago and queue its delivery to the payments\n"
        "component.\n"
        "\n"
        "The beat schedule does this periodically; run it by hand to pay out now (e.g. at the\n"
        "end of a period) or for one partner. Safe to run at any time and concurrently: every\n"
        "item lands in exactly one Pago, and a group whose total is not positive is carried\n"
        "over to a later run."
    )
    ejemplos = """
  # pay everything that is due
  python manage.py generar_pagos
  # only one partner, printing just the summary
  python manage.py generar_pagos --socio 3f0c9c1e-2b4a-4f7e-9d1a-6f2e8b7c5a10 --quiet
"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--socio", metavar="ID", help="Only this partner (Socio id); default: all partners."
        )

    def handle(self, *args: Any, **opciones: Any) -> None:
        cierre = Cierre("generar_pagos")
        socio_id: uuid.UUID | None = None
        if opciones.get("socio"):
            socio_id = leer_uuid(opciones["socio"], opcion="--socio")
            if not Socio.objects.filter(pk=socio_id).exists():
                raise CommandError(f"--socio: no socio {socio_id}.")
        socios = [socio_id] if socio_id else _socios_con_saldo()
        pagos: list[Pago] = []
        barra = self.barra(total=len(socios), desc="generar_pagos", unit="socio")
        try:
            for socio in socios:
                pagos.extend(pagos_generar(socio_id=socio))
                barra.update(1)
        finally:
            barra.close()

        items = 0
        for pago in pagos:
            n_items = len(pago_items(pago=pago))
            items += n_items
            cierre.sumar(pago.moneda, pago.monto)
            if self.detallar:
                self.stdout.write(
                    f"Pago {pago.id}  socio {pago.socio_id}  {pago.monto} {pago.moneda}  "
                    f"({n_items} items)"
                )
        texto = formatear_dinero(cierre.dinero) if pagos else "nothing to pay"
        self.stdout.write(self.style.SUCCESS(f"{len(pagos)} Pagos generated: {texto}."))
        cierre.fijar("partners checked", len(socios))
        cierre.fijar("pagos generated", len(pagos))
        cierre.fijar("items paid", items)
        cierre.fijar("partners paid", len({p.socio_id for p in pagos}))
        cierre.imprimir(self)
