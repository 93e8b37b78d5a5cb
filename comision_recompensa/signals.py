"""Domain events of the money app (past tense). Contract: PRODUCT.md §9 "Transactions".

Two ways of sending (`alpespartners.senales`), named per signal below:
- [T] `enviar_en_transaccion`: inside the transaction of the change, so receivers that write
  audit rows, outbox rows (webhook deliveries, e-mails) or review holds are atomic with it; a
  receiver that raises rolls the change back. Receivers that only queue Celery tasks or touch
  caches wrap themselves with `receptor_al_confirmar` (run after commit, failures isolated).
- [C] `enviar_al_confirmar`: after the change commits, robustly.

Every signal carries ids (never model instances) plus the small facts a receiver needs; `por`
is the acting user's id (None for the system) and `origen` says where the change came from
("api", "admin", "sistema:<task>", "comando:<name>").

Credits (sender: Comision or Recompensa)
  comision_aprobada / recompensa_aprobada      [C] credito_id: UUID
  comision_revertida / recompensa_revertida    [C] credito_id: UUID, motivo: str
  comision_pagada / recompensa_pagada          [T] credito_id: UUID, pago_id: UUID
Attribution (sender: the attributing service)
  eventos_atribuidos                           [C] evento_ids: list[UUID]
Payouts (sender: Pago)
  pago_generado                                [T] pago_id, socio_id, marca_id (None: no brand),
                                                   monto: Decimal, moneda: str, origen
  pago_retenido                                [T] pago_id, controles_fallidos: list[str],
                                                   estado_anterior: str, origen
  pago_reanudado                               [T] pago_id, origen — a held Pago passed all its
                                                   controls and is back in the outbox
  pago_liberado                                [T] pago_id, por, motivo: str,
                                                   controles_fallidos: list[str], origen
  pago_enviado                                 [T] pago_id, intentos: int
  pago_fallido                                 [T] pago_id, error: str, origen ("entrega": the
                                                   outbox gave up; "componente": rejected)
  pago_reintentado                             [T] pago_id, por, origen — a dead letter is back
                                                   in the outbox
  pago_confirmado                              [T] pago_id, monto: Decimal, moneda: str
Contracts (sender: Contrato / AceptacionContrato)
  contrato_publicado                           [T] contrato_id, asociacion_id, version: int,
                                                   vigente_desde: date, por, origen
  contrato_aceptado                            [T] contrato_id, aceptacion_id, socio_id,
                                                   asociacion_id, version: int, por
Payout profile (sender: PerfilPago). The reference is always masked in these arguments.
  perfil_pago_cambiado                         [T] socio_id, por, antes: dict, despues: dict,
                                                   origen
  perfil_pago_revelado                         [T] socio_id, por, motivo: str, origen
Review, refunds (sender: Comision or Recompensa; senders land with the review work)
  creditos_creados                             [T] clase ("comision"/"recompensa"),
                                                   credito_ids: list[UUID] (one send per class
                                                   per attribution batch)
  credito_en_revision                          [T] clase, credito_id, regla: str,
                                                   evidencia: dict, por, origen
  credito_revision_descartada                  [T] clase, credito_id, por, motivo
  credito_revision_confirmada                  [T] clase, credito_id, por, motivo
  credito_reembolsado                          [T] clase, credito_id, reembolso_id,
                                                   monto_anterior, monto_nuevo, parcial: bool
Outboxes (internal; sent after commit so their receivers queue the fast path)
  entregas_webhook_creadas                     [C] entrega_ids: list[UUID] (webhook deliveries
                                                   due now)
  correo_encolado                              [C] correo_id: UUID (an e-mail is in the outbox)

`comision_aprobada`, `comision_revertida` (and the recompensa ones) and `eventos_atribuidos`
are still sent after commit by their owners; the others listed [T] are sent inside the
transaction.
"""

from django.dispatch import Signal

comision_aprobada = Signal()
recompensa_aprobada = Signal()
comision_revertida = Signal()
recompensa_revertida = Signal()
comision_pagada = Signal()
recompensa_pagada = Signal()
eventos_atribuidos = Signal()
pago_generado = Signal()
pago_retenido = Signal()
pago_reanudado = Signal()
pago_liberado = Signal()
pago_enviado = Signal()
pago_fallido = Signal()
pago_reintentado = Signal()
pago_confirmado = Signal()
creditos_creados = Signal()
credito_en_revision = Signal()
credito_revision_descartada = Signal()
credito_revision_confirmada = Signal()
credito_reembolsado = Signal()
contrato_publicado = Signal()
contrato_aceptado = Signal()
entregas_webhook_creadas = Signal()
correo_encolado = Signal()
perfil_pago_cambiado = Signal()
perfil_pago_revelado = Signal()
