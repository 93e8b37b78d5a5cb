"""factory_boy factories for the tracking app."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from eventos_medios import models as m


class UsuarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"usuario{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("clave-segura-123")


class StaffFactory(UsuarioFactory):
    is_staff = True
    is_superuser = True


class SocioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Socio

    nombre = factory.Sequence(lambda n: f"Socio {n}")
    tipo = m.TipoSocio.AFILIADO
    email = factory.LazyAttribute(lambda o: f"{o.nombre.replace(' ', '').lower()}@example.com")


class MarcaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Marca

    nombre = factory.Sequence(lambda n: f"Marca {n}")
    slug = factory.Sequence(lambda n: f"marca-{n}")
    sitio_web = "https://marca.example.com"
    # The factories' url_destino values are on *.example.com (PRODUCT.md §8, destinations).
    dominios = factory.LazyFunction(lambda: ["example.com"])


class MedioMarketingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.MedioMarketing

    socio = factory.SubFactory(SocioFactory)
    plataforma = m.Plataforma.INSTAGRAM
    nombre = factory.Sequence(lambda n: f"@medio{n}")
    url = factory.LazyAttribute(lambda o: f"https://instagram.com/{o.nombre.lstrip('@')}")


class PublicacionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Publicacion

    medio = factory.SubFactory(MedioMarketingFactory)
    marca = factory.SubFactory(MarcaFactory)
    tipo = m.TipoPublicacion.POST
    titulo = factory.Sequence(lambda n: f"Publicación {n}")
    url = "https://instagram.com/p/abc"
    url_destino = "https://tienda.example.com/oferta"
    publicada_en = factory.LazyFunction(timezone.now)


class EventoFactory(factory.django.DjangoModelFactory):
    """An event; by default a click on a publicacion, denormalised socio included."""

    class Meta:
        model = m.Evento

    tipo = m.TipoEvento.CLICK
    ocurrido_en = factory.LazyFunction(timezone.now)
    recibido_en = factory.LazyFunction(timezone.now)
    publicacion = factory.SubFactory(PublicacionFactory)
    marca = factory.LazyAttribute(lambda o: o.publicacion.marca if o.publicacion else None)
    socio = factory.LazyAttribute(
        lambda o: o.publicacion.medio.socio if o.publicacion and o.publicacion.medio else None
    )
    visitante_id = ""
    # As ingestion stores it: a visitante_id given with the event is the brand's word. (A
    # tracking-link click has none: tests of that path go through `/t/`.)
    origen_visitante = factory.LazyAttribute(
        lambda o: m.OrigenVisitante.MARCA if o.visitante_id else ""
    )
