"""Domain events of the tracking app (past tense). Receivers live beside the code that reacts
and are connected in their app's `AppConfig.ready()`.

eventos_registrados
    Sent once per committed ingestion (single event, batch, tracking click, legacy endpoint)
    with `alpespartners.senales.enviar_al_confirmar`: after the transaction commits, robustly
    (a failing receiver is logged; the events are stored and the request still succeeds).
    Arguments:
      - sender: the function that registered them
      - evento_ids: list[uuid.UUID], the ids of the events newly stored (never re-sent ids)

credencial_emitida
    An API key was issued or rotated (`eventos_medios.services.tokens.token_emitir`). Sent
    inside the transaction that stores the key's hash, so a receiver that writes (an audit
    row, PRODUCT.md §9) commits or rolls back with it. Never carries the key itself.
    Arguments:
      - sender: `token_emitir`
      - usuario_id: the pk of the user the key belongs to
      - prefijo: the key's visible prefix (e.g. "ap_Xk3v9Qa"), to tell keys apart
      - rotada: True when it replaced a previous key (which stopped working at once)
      - por: the user who asked for it (staff, through the API or the admin), or None (a
        management command, the demo loader)

socio_activacion_cambiada
    A socio was deactivated or reactivated (`eventos_medios.services.catalogo.socio_actualizar`,
    called by the API and the admin). Sent with `enviar_en_transaccion`, inside the transaction
    that changes `activo`, so a receiver that writes (the money app's review holds and audit
    rows, PRODUCT.md §8–9) commits or rolls back with the change. Sent only when the value
    changes. Arguments:
      - sender: `socio_actualizar`
      - socio_id: uuid.UUID
      - activo: bool, the new value
      - por: the user who changed it (staff through the API or the admin), or None

marca_activacion_cambiada
    The same for a marca (`marca_actualizar`). Arguments:
      - sender: `marca_actualizar`
      - marca_id: uuid.UUID
      - activo: bool, the new value
      - por: the user who changed it, or None
"""

from django.dispatch import Signal

eventos_registrados = Signal()
credencial_emitida = Signal()
socio_activacion_cambiada = Signal()
marca_activacion_cambiada = Signal()
