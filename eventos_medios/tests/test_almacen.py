"""The events table's owner (`eventos_medios.almacen`): its column lists follow the model, and
each write path accounts for every column (written, or left to its default on purpose).

A column added to `Evento` without deciding what the click INSERT, ingestion, the API and the
exports do with it fails here, not in production."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from eventos_medios import almacen
from eventos_medios.api.eventos_serializers import EventoSerializer
from eventos_medios.models import EstadoAtribucion, Evento, TipoEvento
from eventos_medios.services.ingesta import evento_representar
from eventos_medios.tests.factories import EventoFactory, MarcaFactory, PublicacionFactory


def test_las_columnas_son_las_del_modelo_en_su_orden():
    assert tuple(f.column for f in Evento._meta.concrete_fields) == almacen.COLUMNAS
    # The ORM name of each column is its SQL name: `.values()` and raw SQL read alike.
    assert tuple(f.attname for f in Evento._meta.concrete_fields) == almacen.COLUMNAS


def test_el_insert_del_click_nombra_cada_columna_o_la_deja_nula_a_proposito():
    escritas = set(almacen._VALORES_CLICK)
    assert escritas.isdisjoint(almacen.CLICK_SIN_VALOR)
    assert escritas | almacen.CLICK_SIN_VALOR == set(almacen.COLUMNAS)
    for columna in almacen.CLICK_SIN_VALOR:
        assert Evento._meta.get_field(columna).null, f"{columna} must accept NULL"


def _item() -> dict:
    return {
        "id": uuid.uuid4(),
        "tipo": TipoEvento.VENTA,
        "ocurrido_en": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "marca_id": uuid.uuid4(),
        "publicacion_id": None,
        "socio_id": None,
        "click_id": None,
        "visitante_id": "v-1",
        "codigo_referido": "",
        "valor": Decimal("10.00"),
        "moneda": "EUR",
        "referencia_externa": "R-1",
        "_metadata_json": b"{}",
        "huella": "h",
    }


def test_la_fila_de_ingesta_nombra_cada_columna_o_la_deja_nula_a_proposito():
    fila = almacen.fila_ingesta(_item(), "2026-01-01T00:00:00Z", True)
    assert set(fila).isdisjoint(almacen.INGESTA_SIN_VALOR)
    assert set(fila) | almacen.INGESTA_SIN_VALOR == set(almacen.COLUMNAS)
    assert tuple(c for c in almacen.COLUMNAS if c in fila) == almacen.COLUMNAS_INGESTA
    for columna in almacen.INGESTA_SIN_VALOR:
        assert Evento._meta.get_field(columna).null, f"{columna} must accept NULL"


def test_la_api_muestra_las_columnas_publicas_y_nunca_las_privadas():
    assert set(almacen.COLUMNAS) >= almacen.CAMPOS_PRIVADOS
    assert tuple(EventoSerializer.Meta.fields) == almacen.CAMPOS_API
    assert not almacen.CAMPOS_PRIVADOS & set(almacen.CAMPOS_API)


@pytest.mark.django_db
def test_la_representacion_rapida_y_el_serializer_coinciden():
    evento = EventoFactory(valor=Decimal("5.00"), moneda="EUR", ip_hash="x" * 64, huella="y")
    fila = Evento.objects.values(*almacen.CAMPOS_PUBLICOS).get(pk=evento.pk)
    rapida = evento_representar(fila)
    assert tuple(rapida) == almacen.CAMPOS_API
    lenta = EventoSerializer(Evento.objects.get(pk=evento.pk)).data
    assert {k: str(v) if v is not None else None for k, v in rapida.items() if k != "metadata"} == {
        k: str(v) if v is not None else None for k, v in lenta.items() if k != "metadata"
    }


def test_una_proyeccion_que_nombra_una_columna_inexistente_falla():
    with pytest.raises(LookupError, match="no_existe"):
        almacen.columnas_validar(["id", "no_existe"])


@pytest.mark.django_db
def test_el_insert_del_click_guarda_una_fila_completa():
    marca = MarcaFactory()
    pub = PublicacionFactory(marca=marca)
    evento_id = uuid.uuid4()
    almacen.evento_click_insertar(
        evento_id=evento_id,
        momento=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        marca_id=marca.pk,
        publicacion_id=pub.pk,
        socio_id=None,
        ip_hash="a" * 64,
        user_agent="Mozilla/5.0",
        estado=EstadoAtribucion.PENDIENTE,
        motivo_descarte="",
    )
    evento = Evento.objects.get(pk=evento_id)
    assert evento.tipo == TipoEvento.CLICK and evento.metadata == {}
    assert (evento.visitante_id, evento.origen_visitante, evento.motivo_atribucion) == ("", "", "")
    assert evento.valor is None and evento.click_id is None and evento.atribuido_en is None


@pytest.mark.django_db
def test_los_touchpoints_son_solo_visitantes_que_la_marca_avala():
    """PRODUCT.md §8: a visitante_id a tracking link supplied (`enlace`) never makes a
    touchpoint; one the brand sent or bound (`marca`) does. Both query paths agree."""
    pub = PublicacionFactory()
    ahora = dt.datetime.now(dt.UTC)
    avalado = EventoFactory(publicacion=pub, visitante_id="v", ocurrido_en=ahora)
    EventoFactory(publicacion=pub, visitante_id="v", origen_visitante="enlace", ocurrido_en=ahora)
    ventanas = {(pub.marca_id, "v"): (ahora - dt.timedelta(days=1), ahora)}
    assert [f[0] for f in almacen.touchpoints_leer(ventanas=ventanas)] == [avalado.pk]
    assert [f[0] for f in almacen._touchpoints_orm(ventanas)] == [avalado.pk]


@pytest.mark.django_db
def test_enlazar_solo_clicks_de_la_marca_y_la_primera_vez():
    pub = PublicacionFactory()
    click = EventoFactory(publicacion=pub)
    otra_marca = EventoFactory(publicacion=PublicacionFactory())
    interaccion = EventoFactory(publicacion=pub, tipo=TipoEvento.INTERACCION)
    almacen.clicks_enlazar(
        [
            (click.pk, "v-1", pub.marca_id),
            (otra_marca.pk, "v-1", pub.marca_id),
            (interaccion.pk, "v-1", pub.marca_id),
        ]
    )
    almacen.clicks_enlazar([(click.pk, "v-2", pub.marca_id)])
    filas = dict(Evento.objects.values_list("pk", "visitante_id"))
    assert filas == {click.pk: "v-1", otra_marca.pk: "", interaccion.pk: ""}
    click.refresh_from_db()
    assert click.origen_visitante == "marca"


@pytest.mark.django_db
def test_marcar_atribucion_escribe_el_motivo_y_lo_limpia():
    evento = EventoFactory(tipo=TipoEvento.VENTA, publicacion=None)
    ahora = dt.datetime.now(dt.UTC)
    almacen.eventos_marcar_atribucion(
        [(evento.pk, EstadoAtribucion.SIN_ATRIBUCION, None, "marca_inactiva")],
        ahora=ahora,
        solo_pendientes=True,
    )
    evento.refresh_from_db()
    assert (evento.estado_atribucion, evento.motivo_atribucion) == (
        "sin_atribucion",
        "marca_inactiva",
    )
    almacen.eventos_marcar_atribucion(
        [(evento.pk, EstadoAtribucion.ATRIBUIDO, None)], ahora=ahora, solo_pendientes=False
    )
    evento.refresh_from_db()
    assert (evento.estado_atribucion, evento.motivo_atribucion) == ("atribuido", "")
