"""Domain events of the money app (past tense).

Every one is sent with `alpespartners.senales.enviar_al_confirmar`: after the change commits,
robustly (a failing receiver is logged and never undoes the change). Their receivers today
queue Celery tasks or invalidate the report rollup. Receivers that must write atomically with
the change (audit rows, outbox rows, review holds) need a signal sent with
`enviar_en_transaccion` instead (PRODUCT.md §9, "Transactions").

comision_aprobada / recompensa_aprobada      — credito_id: UUID
comision_revertida / recompensa_revertida    — credito_id: UUID, motivo: str
comision_pagada / recompensa_pagada          — credito_id: UUID, pago_id: UUID
eventos_atribuidos                           — evento_ids: list[UUID]
pago_generado                                — pago_id: UUID (a new Pago is in the outbox)
pago_reintentado                             — pago_id: UUID (a dead letter is back in it)
pago_confirmado                              — pago_id: UUID
correo_encolado                              — correo_id: UUID (an e-mail is in the outbox)

`pago_enviado` and `contrato_publicado` are meant to be sent inside the transaction of the
change (PRODUCT.md §9, "Transactions") by their senders (payout delivery, contracts), so the
e-mail receivers
(`correos.receivers`) write their outbox rows atomically with it; those receivers also work
when a signal is sent after commit. `correo_encolado` is sent after commit by
`correos.services.correo_encolar`; its receiver queues the fast-path send.

Declared for the programme-control contract (their senders land with contracts, review, refunds
and payout controls; they are sent INSIDE the transaction with `enviar_en_transaccion`, so
receivers that write outbox or audit rows are atomic with the change):

creditos_creados                             — clase ("comision"/"recompensa"), credito_ids:
                                               list[UUID] (one send per class per batch)
credito_en_revision                          — clase, credito_id, regla: str, evidencia: dict,
                                               por, origen
credito_revision_descartada                  — clase, credito_id, por, motivo
credito_revision_confirmada                  — clase, credito_id, por, motivo
credito_reembolsado                          — clase, credito_id, reembolso_id, monto_anterior,
                                               monto_nuevo, parcial: bool
pago_retenido                                — pago_id, controles_fallidos: list[str]
pago_liberado                                — pago_id, por, motivo
pago_enviado                                 — pago_id
pago_fallido                                 — pago_id, error
contrato_publicado                           — contrato_id, asociacion_id, version, por
contrato_aceptado                            — contrato_id, aceptacion_id, socio_id

Internal to the webhook subdomain (sent after commit, `enviar_al_confirmar`):

entregas_webhook_creadas                     — entrega_ids: list[UUID] (deliveries in the
                                               outbox, due now: queue them)

`por` is the acting user id (or None) and `origen` where the change came from ("api", "admin",
"sistema:<task>", "comando:<name>"). The credit lifecycle signals above also carry `por` and
`origen` once their senders move inside the transaction; receivers take `**kwargs`.

The sender of the credit signals is the credit's model class (Comision or Recompensa); that of
the Pago signals is Pago; that of `eventos_atribuidos` the service that attributed.
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
pago_reintentado = Signal()
pago_confirmado = Signal()
creditos_creados = Signal()
credito_en_revision = Signal()
credito_revision_descartada = Signal()
credito_revision_confirmada = Signal()
credito_reembolsado = Signal()
pago_retenido = Signal()
pago_liberado = Signal()
pago_enviado = Signal()
pago_fallido = Signal()
contrato_publicado = Signal()
contrato_aceptado = Signal()
entregas_webhook_creadas = Signal()
correo_encolado = Signal()
