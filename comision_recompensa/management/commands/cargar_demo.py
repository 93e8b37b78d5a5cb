"""`manage.py cargar_demo`: demo data to explore the product, safe to run any number of times.

Loads (or finds, on later runs) a brand "Alpes Outdoor" (last-click attribution, 30-day
window), one partner of each tipo with a medio and a publicacion each, an agreement per
partner with its payment rules, three logins and a few hundred events spread over the last 30
days (clicks, interactions, leads and sales of 150 visitors), attributed on the spot; then
contracts (accepted, and a new version pending), payout profiles (complete and incomplete) and
a first payout run with held Pagos (`pagos/desarrollo/demo.py`).

Everything has a fixed id or natural key, so a second run creates nothing: rows that exist are
left as they are. Credentials: the staff user `admin` gets a random password printed on the run
that creates it (later runs say it exists; `--restablecer-admin` sets and prints a new one);
the brand and partner logins authenticate by token, and the partner also signs in to the partner
portal (/portal/) with a password set and printed on every run. API keys are stored only as
hashes, so each run issues fresh keys for the three logins and prints them; the keys of the
previous run stop working. The brand's default terms open its public application form.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from alpespartners.comandos import Cierre, ComandoOperador
from comision_recompensa.models import (
    AsociacionEstrategica,
    Comision,
    Modalidad,
    Recompensa,
    ReglaPago,
    ReglaTerminos,
    TerminosPorDefecto,
    TipoAsociacion,
)
from comision_recompensa.pagos.desarrollo.demo import programa_demo_cargar
from eventos_medios.models import (
    Evento,
    Marca,
    MedioMarketing,
    ModeloAtribucion,
    Plataforma,
    Publicacion,
    Socio,
    TipoEvento,
    TipoPublicacion,
    TipoSocio,
)
from eventos_medios.services.ingesta import ALCANCE_INTERNO, eventos_registrar_lote
from eventos_medios.services.tokens import token_emitir

# Every demo id derives from this namespace (uuid5), so runs agree on them.
ESPACIO_DEMO = uuid.UUID("6f1d2a2e-6a0b-4d8e-9a51-a1e5d3f0c0de")
MONEDA = "EUR"
SITIO = "https://alpes-outdoor.example.com"
# Where the demo's tracking links may redirect (PRODUCT.md §8): the shop and its subdomains.
DOMINIOS = ["alpes-outdoor.example.com"]
VISITANTES = 150
SEMILLA = 20250907
USUARIO_ADMIN = "admin"
USUARIO_MARCA = "alpes-outdoor"
USUARIO_SOCIO = "demo-afiliado"
SLUG_MARCA = "alpes-outdoor"
CONTRATO_DEMO = (
    "1. The partner promotes Alpes Outdoor honestly and marks its posts as advertising.\n"
    "2. Earnings are approved after the hold period and paid monthly.\n"
    "3. Self-referrals and paid search on the brand's name earn nothing."
)
LOTE_DEMO = 100  # events per ingestion / attribution call (one progress step)


def id_demo(nombre: str) -> uuid.UUID:
    """The fixed id of demo object `nombre`."""
    return uuid.uuid5(ESPACIO_DEMO, nombre)


@dataclass(frozen=True)
class SocioDemo:
    tipo: str
    nombre: str
    plataforma: str
    tipo_publicacion: str
    asociacion: str
    reglas: tuple[dict[str, Any], ...]


def _regla(tipo_evento: str, modalidad: str, valor: str, tope: str | None = None) -> dict[str, Any]:
    return {
        "tipo_evento": tipo_evento,
        "modalidad": modalidad,
        "valor": Decimal(valor),
        "moneda": MONEDA,
        "tope": Decimal(tope) if tope else None,
    }


_VENTA_10 = _regla(TipoEvento.VENTA, Modalidad.PORCENTAJE, "10.00", tope="50.00")
_LEAD_FIJO = _regla(TipoEvento.LEAD, Modalidad.FIJO, "2.00")

SOCIOS_DEMO: tuple[SocioDemo, ...] = (
    SocioDemo(
        TipoSocio.AFILIADO,
        "Cumbres Blog (afiliado)",
        Plataforma.BLOG,
        TipoPublicacion.ARTICULO,
        TipoAsociacion.PROGRAMA_AFILIADOS,
        (_VENTA_10, _LEAD_FIJO, _regla(TipoEvento.CLICK, Modalidad.FIJO, "0.05")),
    ),
    SocioDemo(
        TipoSocio.INFLUENCER,
        "Laura Trail (influencer)",
        Plataforma.INSTAGRAM,
        TipoPublicacion.REEL,
        TipoAsociacion.CAMPANIA,
        (_regla(TipoEvento.VENTA, Modalidad.PORCENTAJE, "8.00", tope="40.00"), _LEAD_FIJO),
    ),
    SocioDemo(
        TipoSocio.CREADOR_CONTENIDO,
        "Ruta Andina (creador de contenido)",
        Plataforma.YOUTUBE,
        TipoPublicacion.VIDEO,
        TipoAsociacion.COLABORACION_DIRECTA,
        (_regla(TipoEvento.VENTA, Modalidad.PORCENTAJE, "7.50", tope="30.00"), _LEAD_FIJO),
    ),
    SocioDemo(
        TipoSocio.EMBAJADOR,
        "Mateo Cumbre (embajador)",
        Plataforma.TIKTOK,
        TipoPublicacion.HISTORIA,
        TipoAsociacion.PROGRAMA_LEALTAD,
        (_regla(TipoEvento.VENTA, Modalidad.FIJO, "5.00"),),
    ),
    SocioDemo(
        TipoSocio.SOCIO_B2B,
        "Refugios del Norte (socio B2B)",
        Plataforma.SITIO_WEB,
        TipoPublicacion.BANNER,
        TipoAsociacion.ALIANZA_B2B,
        (_regla(TipoEvento.VENTA, Modalidad.PORCENTAJE, "12.00", tope="80.00"), _LEAD_FIJO),
    ),
    SocioDemo(
        TipoSocio.INTEGRADOR_SAAS,
        "ReservaFácil (integrador SaaS)",
        Plataforma.SITIO_WEB,
        TipoPublicacion.OTRO,
        TipoAsociacion.ALIANZA_B2B,
        (_VENTA_10, _regla(TipoEvento.REGISTRO, Modalidad.FIJO, "3.00")),
    ),
)


class Command(ComandoOperador):
    help = (
        'Load demo data to explore the product: the brand "Alpes Outdoor" (last-click,\n'
        "30-day window), one partner of each tipo with a medio, a publicacion, an agreement and\n"
        "its payment rules, three logins (staff `admin`, brand `alpes-outdoor`, partner\n"
        "`demo-afiliado`) and a few hundred events over the last 30 days, attributed at once.\n"
        "\n"
        "Use it on a fresh install or a development database. It is idempotent: rows that\n"
        "exist are left as they are, so a second run adds nothing. It prints the logins: the\n"
        "`admin` password only on the run that creates it (or with --restablecer-admin), a\n"
        "fresh partner-portal password for `demo-afiliado` and fresh API keys every time (only\n"
        "their hashes are stored: the previous run's keys stop working)."
    )
    ejemplos = """
  # load everything (run it again at any time: nothing is duplicated)
  python manage.py cargar_demo
  # catalogue and logins only, no events
  python manage.py cargar_demo --sin-eventos
  # forgot the admin password? print a new one
  python manage.py cargar_demo --restablecer-admin --quiet
"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="",
            help="Base URL the server answers on, for the printed portal links "
            "(default: PUBLIC_BASE_URL, else http://127.0.0.1:8000).",
        )
        parser.add_argument(
            "--restablecer-admin",
            action="store_true",
            help="Set a new random password for the staff user `admin` and print it.",
        )
        parser.add_argument(
            "--sin-eventos",
            action="store_true",
            help="Skip the generated events (catalogue, agreements and logins only).",
        )

    def handle(self, *args: Any, **opciones: Any) -> None:
        cierre = Cierre("cargar_demo")
        with transaction.atomic():
            marca = self._marca()
            socios = [self._socio(marca, datos) for datos in SOCIOS_DEMO]
            credenciales = self._usuarios(marca, socios[0], opciones["restablecer_admin"])
            self._terminos(marca)
        credenciales += self._portal(marca, socios[0], opciones["url"])
        nuevos = 0 if opciones["sin_eventos"] else self._eventos(marca, socios)
        with transaction.atomic():
            credenciales += programa_demo_cargar(
                marca_id=marca.pk,
                asociaciones={d.tipo: id_demo(f"asociacion-{d.tipo}") for d in SOCIOS_DEMO},
                socios={s.tipo: s for s in socios},
            )

        comisiones = Comision.objects.filter(evento__marca=marca)
        recompensas = Recompensa.objects.filter(evento__marca=marca)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for linea in credenciales:
            self.stdout.write(f"  {linea}")
        cierre.fijar("marca", 1)
        cierre.fijar("socios", len(socios))
        cierre.fijar("publicaciones", Publicacion.objects.filter(marca=marca).count())
        cierre.fijar("eventos added", nuevos)
        cierre.fijar("eventos", Evento.objects.filter(marca=marca).count())
        cierre.fijar("comisiones", comisiones.count())
        cierre.fijar("recompensas", recompensas.count())
        cierre.etiqueta_dinero = "money credited"
        for qs in (comisiones, recompensas):
            cierre.sumar_todo(
                qs.exclude(moneda="")
                .values("moneda")
                .annotate(total=Sum("monto"))
                .values_list("moneda", "total")
            )
        cierre.notas.append(f"marca id: {marca.pk}")
        cierre.imprimir(self)

    # --- Catalogue ---------------------------------------------------------------------
    def _marca(self) -> Marca:
        marca, _ = Marca.objects.get_or_create(
            pk=id_demo("marca"),
            defaults={
                "nombre": "Alpes Outdoor",
                "slug": SLUG_MARCA,
                "sitio_web": SITIO,
                "dominios": DOMINIOS,
                "modelo_atribucion": ModeloAtribucion.ULTIMO_CLIC,
                "ventana_atribucion_dias": 30,
            },
        )
        cambiados = []
        if not marca.slug:
            marca.slug = SLUG_MARCA
            cambiados.append("slug")
        if not marca.dominios:  # a demo loaded before brands declared their domains
            marca.dominios = DOMINIOS
            cambiados.append("dominios")
        if cambiados:
            marca.save(update_fields=[*cambiados, "actualizado_en"])
        return marca

    @staticmethod
    def _terminos(marca: Marca) -> None:
        """The programme's default terms, so its public application form is open."""
        terminos, creados = TerminosPorDefecto.objects.get_or_create(
            marca=marca,
            defaults={
                "tipo": TipoAsociacion.PROGRAMA_AFILIADOS,
                "dias_retencion": 14,
                "texto_contrato": CONTRATO_DEMO,
            },
        )
        if creados:
            for regla in (_VENTA_10, _LEAD_FIJO):
                ReglaTerminos.objects.create(terminos=terminos, **regla)

    def _portal(self, marca: Marca, afiliado: Socio, url: str) -> list[str]:
        """A fresh portal password for the demo partner (printed, like its API key)."""
        base = (url or settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000").rstrip("/")
        usuario = afiliado.usuario
        if usuario is None:
            return []
        clave = secrets.token_urlsafe(12)
        usuario.set_password(clave)
        usuario.save(update_fields=["password"])
        return [
            f"partner portal: {base}/portal/  (user {usuario.get_username()} / {clave})",
            f"application form: {base}/portal/programas/{marca.slug}/solicitar/",
        ]

    def _socio(self, marca: Marca, datos: SocioDemo) -> Socio:
        socio, _ = Socio.objects.get_or_create(
            pk=id_demo(f"socio-{datos.tipo}"),
            defaults={
                "nombre": datos.nombre,
                "tipo": datos.tipo,
                "email": f"{datos.tipo.replace('_', '-')}@partners.example.com",
            },
        )
        medio, _ = MedioMarketing.objects.get_or_create(
            pk=id_demo(f"medio-{datos.tipo}"),
            defaults={
                "socio": socio,
                "plataforma": datos.plataforma,
                "nombre": f"{datos.nombre.split(' (')[0]} · {datos.plataforma}",
            },
        )
        Publicacion.objects.get_or_create(
            pk=id_demo(f"publicacion-{datos.tipo}"),
            defaults={
                "medio": medio,
                "marca": marca,
                "tipo": datos.tipo_publicacion,
                "titulo": f"Temporada de montaña con {datos.nombre.split(' (')[0]}",
                "url_destino": f"{SITIO}/temporada?socio={datos.tipo}",
                "publicada_en": timezone.now() - timedelta(days=45),
            },
        )
        asociacion, creada = AsociacionEstrategica.objects.get_or_create(
            pk=id_demo(f"asociacion-{datos.tipo}"),
            defaults={
                "marca": marca,
                "socio": socio,
                "tipo": datos.asociacion,
                "dias_retencion": 14,
                "vigencia_inicio": date(2020, 1, 1),
            },
        )
        if creada:
            for regla in datos.reglas:
                ReglaPago.objects.create(
                    pk=id_demo(f"regla-{datos.tipo}-{regla['tipo_evento']}"),
                    asociacion=asociacion,
                    **regla,
                )
        return socio

    def _usuarios(self, marca: Marca, afiliado: Socio, restablecer_admin: bool) -> list[str]:
        modelo = get_user_model()
        lineas: list[str] = []
        admin, creado = modelo.objects.get_or_create(
            username=USUARIO_ADMIN,
            defaults={"email": "admin@example.com", "is_staff": True, "is_superuser": True},
        )
        if creado or restablecer_admin:
            clave = secrets.token_urlsafe(12)
            admin.set_password(clave)
            admin.is_staff = admin.is_superuser = True
            admin.save()
            lineas.append(f"staff user: {USUARIO_ADMIN} / {clave}  (admin at /admin/)")
        else:
            lineas.append(
                f"staff user: {USUARIO_ADMIN} exists, password unchanged "
                "(`manage.py cargar_demo --restablecer-admin` prints a new one)"
            )
        lineas.append(f"staff token: {self._token(admin)}")

        usuario_marca = self._usuario_token(USUARIO_MARCA)
        marca.usuarios.add(usuario_marca)
        lineas.append(f"brand user {USUARIO_MARCA} token: {self._token(usuario_marca)}")

        usuario_socio = self._usuario_token(USUARIO_SOCIO)
        if afiliado.usuario_id is None:
            afiliado.usuario = usuario_socio
            afiliado.save(update_fields=["usuario", "actualizado_en"])
        lineas.append(f"partner user {USUARIO_SOCIO} token: {self._token(usuario_socio)}")
        return lineas

    @staticmethod
    def _usuario_token(username: str) -> Any:
        usuario, creado = get_user_model().objects.get_or_create(username=username)
        if creado:
            usuario.set_unusable_password()
            usuario.save(update_fields=["password"])
        return usuario

    @staticmethod
    def _token(usuario: Any) -> str:
        return token_emitir(usuario=usuario)

    # --- Events --------------------------------------------------------------------------
    def _eventos(self, marca: Marca, socios: list[Socio]) -> int:
        """Ingest and attribute the demo events that are not stored yet; return how many."""
        cuerpos = self._faltantes(generar_eventos(marca=marca, socios=socios, ahora=timezone.now()))
        if not cuerpos:
            if self.detallar:
                self.stdout.write("Demo events already loaded: none added.")
            return 0
        ids: list[str] = []
        barra = self.barra(total=2 * len(cuerpos), desc="cargar_demo", unit="ev")
        try:
            for inicio in range(0, len(cuerpos), LOTE_DEMO):
                lote = cuerpos[inicio : inicio + LOTE_DEMO]
                resultado = eventos_registrar_lote(eventos=lote, alcance=ALCANCE_INTERNO)
                ids += [r["id"] for r in resultado if r["estado"] == "creado"]
                barra.update(len(lote))
            for inicio in range(0, len(cuerpos), LOTE_DEMO):
                _atribuir(ids[inicio : inicio + LOTE_DEMO])
                barra.update(len(cuerpos[inicio : inicio + LOTE_DEMO]))
        finally:
            barra.close()
        estados = Counter(
            Evento.objects.filter(pk__in=ids).values_list("estado_atribucion", flat=True)
        )
        por_estado = ", ".join(f"{n} {estado}" for estado, n in sorted(estados.items()))
        if self.detallar:
            self.stdout.write(f"Loaded {len(ids)} demo events ({por_estado}).")
        return len(ids)

    @staticmethod
    def _faltantes(cuerpos: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The bodies whose event is not stored yet (a run interrupted between batches is
        completed by the next one)."""
        existentes = {
            str(pk)
            for pk in Evento.objects.filter(pk__in=[c["id"] for c in cuerpos]).values_list(
                "pk", flat=True
            )
        }
        return [c for c in cuerpos if c["id"] not in existentes]


def _atribuir(ids: list[str]) -> None:
    """Attribute the events now, when the attribution service exists. They were announced on
    commit too, so eager Celery or a running worker may have done it already (a no-op then);
    without attribution they stay pendiente until a worker picks them up."""
    try:
        from comision_recompensa.atribucion.services import eventos_atribuir
    except ImportError:  # pragma: no cover - attribution not installed
        return
    eventos_atribuir(evento_ids=ids)


def generar_eventos(*, marca: Marca, socios: list[Socio], ahora: datetime) -> list[dict[str, Any]]:
    """A deterministic few hundred event bodies for the ingestion service: each visitor
    clicks one or two partners' publicaciones; some interact, leave a lead, register or buy
    (a venta carries valor and a unique order reference; it names no partner, so attribution
    finds it by visitante_id)."""
    azar = random.Random(SEMILLA)
    publicaciones = {s.pk: id_demo(f"publicacion-{s.tipo}") for s in socios}
    cuerpos: list[dict[str, Any]] = []

    def agregar(tipo: str, momento: datetime, visitante: str, **extra: Any) -> None:
        cuerpos.append(
            {
                "id": str(id_demo(f"evento-{len(cuerpos)}")),
                "tipo": tipo,
                "marca": str(marca.pk),
                "ocurrido_en": momento.isoformat(),
                "visitante_id": visitante,
                **extra,
            }
        )

    for n in range(VISITANTES):
        visitante = f"demo-visitante-{n:04d}"
        momento = ahora - timedelta(days=azar.uniform(1, 30))
        tocados = azar.sample(socios, k=azar.choice((1, 1, 2)))
        for socio in tocados:
            momento += timedelta(minutes=azar.randint(1, 600))
            agregar(TipoEvento.CLICK, momento, visitante, publicacion=str(publicaciones[socio.pk]))
            if azar.random() < 0.25:
                momento += timedelta(minutes=azar.randint(1, 30))
                agregar(
                    TipoEvento.INTERACCION,
                    momento,
                    visitante,
                    publicacion=str(publicaciones[socio.pk]),
                )
        destino = azar.random()
        momento += timedelta(minutes=azar.randint(5, 240))
        if destino < 0.30:
            agregar(TipoEvento.LEAD, momento, visitante)
        elif destino < 0.40:
            agregar(TipoEvento.REGISTRO, momento, visitante)
        elif destino < 0.65:
            valor = Decimal(azar.randint(3000, 60000)) / 100
            agregar(
                TipoEvento.VENTA,
                momento,
                visitante,
                valor=str(valor),
                moneda=MONEDA,
                referencia_externa=f"DEMO-PEDIDO-{n:04d}",
            )
    # Nothing in the future: the ingestion service refuses events ahead of now.
    for cuerpo in cuerpos:
        if datetime.fromisoformat(cuerpo["ocurrido_en"]) > ahora:
            cuerpo["ocurrido_en"] = ahora.isoformat()
    return cuerpos
