"""`manage.py generar_pagos [--socio UUID]`: group approved, unpaid money into Pagos per
(socio, marca, moneda), then re-check the compliance controls of held Pagos."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import CommandError, CommandParser

from alpespartners.comandos import Cierre, ComandoOperador, formatear_dinero, leer_uuid
from comision_recompensa.models import EstadoPago, Pago
from comision_recompensa.pagos.cumplimiento import pagos_revisar_retenidos
from comision_recompensa.pagos.selectors import pago_items
from comision_recompensa.pagos.services import grupos_candidatos, pagos_generar
from eventos_medios.models import Socio

ORIGEN = "comando:generar_pagos"


def _socios_con_saldo() -> list[uuid.UUID]:
    """Partners with something to pay or deduct (the groups `pagos_generar` forms), in its
    order, so the run can go partner by partner behind a progress bar."""
    return list(dict.fromkeys(socio for socio, _, _ in grupos_candidatos()))


class Command(ComandoOperador):
    help = (
        "Group every approved, unpaid Comision/Recompensa (and every pending Ajuste) per\n"
        "(socio, marca, moneda) into one new Pago, run its compliance controls (contract\n"
        "accepted, payout profile complete, no credit under review, partner active: a failure\n"
        "holds it as retenido) and queue the delivery of the others to the payments component.\n"
        "Then re-check the held Pagos: those whose controls now pass are delivered.\n"
        "\n"
        "The beat schedule does both periodically; run it by hand to pay out now (e.g. at the\n"
        "end of a period) or for one partner. Safe to run at any time and concurrently: every\n"
        "item lands in exactly one Pago, and a group under PAGO_MINIMO (per currency) is\n"
        "carried over to a later run, nothing claimed."
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
                pagos.extend(pagos_generar(socio_id=socio, origen=ORIGEN))
                barra.update(1)
        finally:
            barra.close()
        revision = pagos_revisar_retenidos(origen=ORIGEN)
        self._informar(cierre, socios, pagos)
        self.stdout.write(str(revision) + ".")
        cierre.fijar("held pagos released by their controls", revision.reanudados)
        cierre.imprimir(self)

    def _informar(self, cierre: Cierre, socios: list[uuid.UUID], pagos: list[Pago]) -> None:
        items = 0
        retenidos = [p for p in pagos if p.estado == EstadoPago.RETENIDO]
        for pago in pagos:
            n_items = len(pago_items(pago=pago))
            items += n_items
            cierre.sumar(pago.moneda, pago.monto)
            if self.detallar:
                self.stdout.write(
                    f"Pago {pago.id}  socio {pago.socio_id}  marca {pago.marca_id or '-'}  "
                    f"{pago.monto} {pago.moneda}  ({n_items} items, {pago.estado})"
                )
        texto = formatear_dinero(cierre.dinero) if pagos else "nothing to pay"
        self.stdout.write(self.style.SUCCESS(f"{len(pagos)} Pagos generated: {texto}."))
        if retenidos:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(retenidos)} of them held (retenido): a compliance control failed; "
                    "see why in the admin or with GET /api/v1/pagos/{id}/."
                )
            )
        cierre.fijar("partners checked", len(socios))
        cierre.fijar("pagos generated", len(pagos))
        cierre.fijar("pagos held", len(retenidos))
        cierre.fijar("items paid", items)
        cierre.fijar("partners paid", len({p.socio_id for p in pagos}))
