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
pago_enviado                                 — pago_id: UUID (the payments component accepted it)
contrato_publicado                           — contrato_id, asociacion_id: UUID, version: int,
                                               por: user id | None (a new contract version)
correo_encolado                              — correo_id: UUID (an e-mail is in the outbox)

`pago_enviado` and `contrato_publicado` are meant to be sent inside the transaction of the
change (PRODUCT.md §9, "Transactions") by their senders (payout delivery, contracts), so the
e-mail receivers
(`correos.receivers`) write their outbox rows atomically with it; those receivers also work
when a signal is sent after commit. `correo_encolado` is sent after commit by
`correos.services.correo_encolar`; its receiver queues the fast-path send.

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
pago_enviado = Signal()
contrato_publicado = Signal()
correo_encolado = Signal()
