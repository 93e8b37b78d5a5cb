"""Domain events of the tracking app (past tense). Receivers live beside the code that reacts.

eventos_registrados
    Sent once per committed ingestion (single event, batch, tracking click, legacy endpoint),
    after the transaction commits. Arguments:
      - sender: the function that registered them
      - evento_ids: list[uuid.UUID], the ids of the events newly stored (never re-sent ids)
"""

from django.dispatch import Signal

eventos_registrados = Signal()
