"""Shared world of the webhook tests: two brands with a partner each, and their endpoints."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comision_recompensa.tests.factories import ComisionFactory, RecompensaFactory
from comision_recompensa.webhooks import services
from eventos_medios.models import TipoEvento
from eventos_medios.tests.factories import (
    EventoFactory,
    MarcaFactory,
    MedioMarketingFactory,
    PublicacionFactory,
    SocioFactory,
    UsuarioFactory,
)

URL_LOCAL = "http://127.0.0.1:9/hook"  # nothing listens on the discard port: refused at once


@pytest.fixture(autouse=True)
def _privadas(settings):
    settings.WEBHOOKS_PERMITIR_PRIVADAS = True


class Mundo:
    def __init__(self):
        self.marca_x, self.marca_y = MarcaFactory(), MarcaFactory()
        self.socio_a = SocioFactory(usuario=UsuarioFactory())
        self.socio_b = SocioFactory(usuario=UsuarioFactory())
        self.pub_a = PublicacionFactory(
            marca=self.marca_x, medio=MedioMarketingFactory(socio=self.socio_a)
        )
        self.pub_b = PublicacionFactory(
            marca=self.marca_y, medio=MedioMarketingFactory(socio=self.socio_b)
        )
        self.ep_x = services.endpoint_crear(marca=self.marca_x, url=URL_LOCAL, eventos=["*"])
        self.ep_y = services.endpoint_crear(marca=self.marca_y, url=URL_LOCAL, eventos=["*"])
        self.ep_a = services.endpoint_crear(socio=self.socio_a, url=URL_LOCAL, eventos=["*"])
        self.ep_b = services.endpoint_crear(socio=self.socio_b, url=URL_LOCAL, eventos=["*"])

    def venta(self, pub, **kw):
        return EventoFactory(
            publicacion=pub,
            tipo=TipoEvento.VENTA,
            valor=Decimal("120.00"),
            moneda="EUR",
            **kw,
        )

    def comision(self, pub=None, **kw):
        pub = pub or self.pub_a
        evento = kw.pop("evento", None) or self.venta(pub)
        kw.setdefault("socio", pub.medio.socio)
        return ComisionFactory(evento=evento, monto=Decimal("12.00"), moneda="EUR", **kw)

    def recompensa(self, pub=None, **kw):
        pub = pub or self.pub_a
        evento = kw.pop("evento", None) or self.venta(pub)
        kw.setdefault("socio", pub.medio.socio)
        return RecompensaFactory(evento=evento, monto=Decimal("3.00"), moneda="EUR", **kw)


@pytest.fixture
def mundo(db):
    return Mundo()
