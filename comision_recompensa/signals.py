"""Domain events of the money app (past tense). Each is sent after the change commits.

comision_aprobada / recompensa_aprobada      — credito_id: UUID
comision_revertida / recompensa_revertida    — credito_id: UUID, motivo: str
comision_pagada / recompensa_pagada          — credito_id: UUID, pago_id: UUID
eventos_atribuidos                           — evento_ids: list[UUID]
pago_generado                                — pago_id: UUID
pago_confirmado                              — pago_id: UUID
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
pago_confirmado = Signal()
