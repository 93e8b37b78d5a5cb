"""Domain events of the tracking app (past tense). Receivers live beside the code that reacts
and are connected in their app's `AppConfig.ready()`.

eventos_registrados
    Sent once per committed ingestion (single event, batch, tracking click, legacy endpoint)
    with `alpespartners.senales.enviar_al_confirmar`: after the transaction commits, robustly
    (a failing receiver is logged; the events are stored and the request still succeeds).
    Arguments:
      - sender: the function that registered them
      - evento_ids: list[uuid.UUID], the ids of the events newly stored (never re-sent ids)
"""

from django.dispatch import Signal

eventos_registrados = Signal()
