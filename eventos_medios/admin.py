"""Admin of the tracking app: manage socios, marcas, medios and publicaciones; browse eventos.

Writes go through the services (`save_model`, `save_formset`), like the API. The Evento admin
is read-only and built for a table of millions: raw-id widgets, `list_select_related`, exact
(indexable) search, no full-table COUNT(*) per page view (see `PaginadorEstimado`).
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property
from django.utils.html import format_html

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance
from eventos_medios import destinos
from eventos_medios.enlaces import enlace_tracking
from eventos_medios.models import Evento, Marca, MedioMarketing, Publicacion, Socio, TokenApi
from eventos_medios.services import catalogo as servicios

# The request being rendered, so that display methods (which only get the object) can build
# absolute links from it when PUBLIC_BASE_URL is not set.
_peticion: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "eventos_medios_admin_peticion", default=None
)


@contextmanager
def _con_peticion(request: HttpRequest) -> Iterator[None]:
    marca = _peticion.set(request)
    try:
        yield
    finally:
        _peticion.reset(marca)


def _enlace_html(publicacion: Publicacion) -> str:
    if not publicacion.pk or not publicacion.codigo:
        return "—"
    enlace = enlace_tracking(publicacion.codigo, _peticion.get())
    return format_html('<a href="{0}" target="_blank" rel="noopener">{0}</a>', enlace)


def _tras_crear(obj: Model, creado: Model) -> None:
    """Make the admin's unsaved `obj` the row the service just created. (The service keeps
    `obj`'s id when it has one; an inline formset on an add page blanks it, so copy it back.)"""
    obj.pk = creado.pk
    obj.refresh_from_db()
    obj._state.adding = False
    obj._state.db = creado._state.db


def _datos(form: forms.ModelForm[Any], campos: frozenset[str]) -> dict[str, Any]:
    return {c: form.cleaned_data[c] for c in sorted(campos) if c in form.cleaned_data}


class _ConPeticionMixin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Expose the request to display methods while the changelist/change form renders."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        with _con_peticion(request):
            respuesta = super().changelist_view(request, extra_context)
            if hasattr(respuesta, "render"):
                respuesta.render()
            return respuesta

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        with _con_peticion(request):
            respuesta = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(respuesta, "render"):
                respuesta.render()
            return respuesta

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Writes go through the services; the forms validate the same rules (model
        # validation includes the CheckConstraints and `Publicacion.clean`'s destination
        # rule) before we get here. `por`: who made the change (activation signals).
        self.guardar(obj, form, change, por=request.user)

    def guardar(self, obj: Any, form: Any, change: bool, *, por: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def _mostrar_credenciales(
        self, request: HttpRequest, obj: Any, credenciales: servicios.Credenciales
    ) -> None:
        self.message_user(
            request,
            f"{obj}: API user “{credenciales.usuario}”, new token {credenciales.token} "
            "(shown once; the previous token no longer works).",
            messages.WARNING,
        )


_MAX_ROTACIONES = 20


# --- Socio ----------------------------------------------------------------------------------


@admin.register(Socio)
class SocioAdmin(FiltradoPorAlcance, _ConPeticionMixin):
    filtro_alcance = staticmethod(acceso.q_socios)
    distinto = True
    list_display = ("nombre", "tipo", "email", "codigo_referido", "activo", "usuario")
    list_filter = ("tipo", "activo")
    search_fields = ("nombre", "email", "=codigo_referido")
    list_select_related = ("usuario",)
    raw_id_fields = ("usuario",)
    readonly_fields = ("id", "codigo_referido", "creado_en", "actualizado_en")
    fields = (
        "id",
        "nombre",
        "tipo",
        "email",
        "activo",
        "usuario",
        "codigo_referido",
        "creado_en",
        "actualizado_en",
    )

    actions = ("rotar_credenciales",)

    @admin.action(description="Create or rotate the API token of the selected socios")
    def rotar_credenciales(self, request: HttpRequest, queryset: QuerySet[Socio]) -> None:
        for socio in queryset[:_MAX_ROTACIONES]:
            credenciales = servicios.socio_credenciales_rotar(socio=socio, por=request.user)
            self._mostrar_credenciales(request, socio, credenciales)

    def guardar(self, obj: Socio, form: Any, change: bool, *, por: Any) -> None:
        datos = _datos(form, servicios.CAMPOS_SOCIO_EDITABLES)
        if change:
            servicios.socio_actualizar(socio=obj, datos=datos, por=por)
        else:
            _tras_crear(obj, servicios.socio_crear(id=obj.id, **datos))


# --- Marca ----------------------------------------------------------------------------------


class MarcaAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """`dominios` as one host name per line (stored as a list, normalised)."""

    dominios = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One host name per line (e.g. shop.example.com); a subdomain of a listed "
        "name counts. Empty: the host of sitio_web. Tracking links never redirect elsewhere.",
    )

    class Meta:
        model = Marca
        fields = (
            "nombre",
            "sitio_web",
            "dominios",
            "activo",
            "modelo_atribucion",
            "ventana_atribucion_dias",
            "usuarios",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["dominios"] = "\n".join(self.instance.dominios or [])

    def clean_dominios(self) -> list[str]:
        texto = self.cleaned_data.get("dominios") or ""
        nombres = [n.strip() for n in texto.replace(",", "\n").splitlines() if n.strip()]
        try:
            return destinos.dominios_normalizar(nombres)
        except destinos.DestinoInvalido as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Marca)
class MarcaAdmin(FiltradoPorAlcance, _ConPeticionMixin):
    form = MarcaAdminForm
    filtro_alcance = staticmethod(acceso.q_marcas)
    distinto = True
    list_display = (
        "nombre",
        "slug",
        "sitio_web",
        "modelo_atribucion",
        "ventana_atribucion_dias",
        "activo",
    )
    list_filter = ("activo", "modelo_atribucion")
    search_fields = ("nombre", "sitio_web", "=slug")
    # Left empty, the service generates it from the nombre (and keeps it unique).
    prepopulated_fields = {"slug": ("nombre",)}
    raw_id_fields = ("usuarios",)
    readonly_fields = ("id", "creado_en", "actualizado_en")
    fields = (
        "id",
        "nombre",
        "slug",
        "sitio_web",
        "dominios",
        "activo",
        "modelo_atribucion",
        "ventana_atribucion_dias",
        "usuarios",
        "creado_en",
        "actualizado_en",
    )

    actions = ("rotar_credenciales",)

    @admin.action(description="Create or rotate the API token of the selected marcas")
    def rotar_credenciales(self, request: HttpRequest, queryset: QuerySet[Marca]) -> None:
        for marca in queryset[:_MAX_ROTACIONES]:
            credenciales = servicios.marca_credenciales_rotar(marca=marca, por=request.user)
            self._mostrar_credenciales(request, marca, credenciales)

    def guardar(self, obj: Marca, form: Any, change: bool, *, por: Any) -> None:
        datos = _datos(form, servicios.CAMPOS_MARCA_EDITABLES)
        usuarios = form.cleaned_data.get("usuarios")
        if change:
            servicios.marca_actualizar(marca=obj, datos=datos, usuarios=usuarios, por=por)
        else:
            _tras_crear(obj, servicios.marca_crear(id=obj.id, usuarios=usuarios, **datos))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service already set `usuarios`; only inline formsets (none today) remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- MedioMarketing with its publicaciones ----------------------------------------------------


class _PublicacionInlineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        nuevas = [f for f in self.extra_forms if f.has_changed()]
        if nuevas and getattr(self.instance, "socio_id", None) is None:
            raise forms.ValidationError("Assign a socio to this medio before adding publicaciones.")
        for form in self.forms:
            if (
                form.instance.pk
                and not form.instance._state.adding
                and "marca" in form.changed_data
            ):
                form.add_error("marca", "The marca of an existing publicacion cannot change.")


class PublicacionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Publicacion
    formset = _PublicacionInlineFormSet
    extra = 0
    can_delete = False
    show_change_link = True
    autocomplete_fields = ("marca",)
    fields = ("tipo", "marca", "titulo", "url", "url_destino", "publicada_en", "enlace")
    readonly_fields = ("enlace",)

    @admin.display(description="enlace de tracking")
    def enlace(self, obj: Publicacion) -> str:
        return _enlace_html(obj)


@admin.register(MedioMarketing)
class MedioMarketingAdmin(FiltradoPorAlcance, _ConPeticionMixin):
    filtro_alcance = staticmethod(acceso.q_medios)
    distinto = True
    list_display = ("__str__", "socio", "plataforma", "url", "activo", "creado_en")
    list_filter = ("plataforma", "activo")
    search_fields = ("nombre", "url", "socio__nombre")
    list_select_related = ("socio",)
    autocomplete_fields = ("socio",)
    readonly_fields = ("id", "plataforma_original", "creado_en", "actualizado_en")
    inlines = (PublicacionInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        base = tuple(super().get_readonly_fields(request, obj))
        # The socio of a medio is fixed once set: its events are credited to it. A legacy
        # medio without one may be given one.
        return (*base, "socio") if obj is not None and obj.socio_id else base

    def guardar(self, obj: MedioMarketing, form: Any, change: bool, *, por: Any) -> None:
        datos = _datos(form, servicios.CAMPOS_MEDIO_EDITABLES | {"socio"})
        if change:
            servicios.medio_actualizar(medio=obj, datos=datos)
        else:
            creado = servicios.medio_crear(id=obj.id, **datos)
            _tras_crear(obj, creado)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Publicacion:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # fills new_objects / changed_objects, writes nothing
        for pub in formset.new_objects:
            _guardar_publicacion(pub, formset.forms[formset.initial_form_count() :], nuevo=True)
        for pub, _campos in formset.changed_objects:
            _guardar_publicacion(pub, formset.initial_forms, nuevo=False)


def _guardar_publicacion(pub: Publicacion, forms_: Any, *, nuevo: bool) -> None:
    form = next(f for f in forms_ if f.instance is pub)
    datos = _datos(form, servicios.CAMPOS_PUBLICACION_EDITABLES)
    if nuevo:
        creada = servicios.publicacion_crear(
            id=pub.id, medio=pub.medio, marca=form.cleaned_data.get("marca"), **datos
        )
        _tras_crear(pub, creada)
    else:
        servicios.publicacion_actualizar(publicacion=pub, datos=datos)


# --- Publicacion ----------------------------------------------------------------------------


class PublicacionAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Publicacion
        fields = ("medio", "marca", "tipo", "titulo", "url", "url_destino", "publicada_en")

    def clean_medio(self) -> MedioMarketing | None:
        medio: MedioMarketing | None = self.cleaned_data.get("medio")
        if medio is not None and medio.socio_id is None and self.instance._state.adding:
            raise forms.ValidationError("This medio has no socio; assign one first.")
        return medio


@admin.register(Publicacion)
class PublicacionAdmin(FiltradoPorAlcance, _ConPeticionMixin):
    filtro_alcance = staticmethod(acceso.q_publicaciones)
    form = PublicacionAdminForm
    list_display = ("__str__", "codigo", "medio", "marca", "tipo", "publicada_en", "enlace")
    list_filter = ("tipo", "marca")
    search_fields = ("=codigo", "titulo", "medio__nombre", "medio__socio__nombre")
    list_select_related = ("medio", "medio__socio", "marca")
    autocomplete_fields = ("medio", "marca")
    readonly_fields = ("id", "codigo", "enlace", "tipo_original", "creado_en", "actualizado_en")
    fields = (
        "id",
        "medio",
        "marca",
        "tipo",
        "titulo",
        "url",
        "url_destino",
        "publicada_en",
        "codigo",
        "enlace",
        "tipo_original",
        "creado_en",
        "actualizado_en",
    )

    @admin.display(description="enlace de tracking")
    def enlace(self, obj: Publicacion) -> str:
        return _enlace_html(obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        base = tuple(super().get_readonly_fields(request, obj))
        # Clicks already recorded point at this medio and marca: they are fixed once created.
        return (*base, "medio", "marca") if obj is not None else base

    def guardar(self, obj: Publicacion, form: Any, change: bool, *, por: Any) -> None:
        datos = _datos(form, servicios.CAMPOS_PUBLICACION_EDITABLES)
        if change:
            servicios.publicacion_actualizar(publicacion=obj, datos=datos)
        else:
            creada = servicios.publicacion_crear(
                id=obj.id,
                medio=form.cleaned_data["medio"],
                marca=form.cleaned_data.get("marca"),
                **datos,
            )
            _tras_crear(obj, creada)


# --- Evento (read-only) -----------------------------------------------------------------------


class PaginadorEstimado(Paginator):
    """A paginator that never COUNT(*)s a whole table of millions.

    Unfiltered on PostgreSQL: the planner's row estimate (`pg_class.reltuples`, kept fresh by
    autovacuum) once it is above `limite`. Otherwise — filtered, SQLite, or a small/never
    analysed table — a count bounded by `limite` (`SELECT COUNT(*) FROM (… LIMIT n)`), which
    stops after `limite` rows. Pages past the true end simply come out empty.
    """

    limite = 10_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return len(qs)
        if not qs.query.where and connections[qs.db].vendor == "postgresql":
            estimado = _filas_estimadas(qs)
            if estimado >= self.limite:
                return estimado
        return qs[: self.limite].count()


def _filas_estimadas(qs: QuerySet[Any]) -> int:
    with connections[qs.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [qs.model._meta.db_table],
        )
        fila = cursor.fetchone()
    return int(fila[0]) if fila and fila[0] is not None else -1


@admin.register(Evento)
class EventoAdmin(FiltradoPorAlcance, admin.ModelAdmin):  # type: ignore[type-arg]
    filtro_alcance = staticmethod(acceso.q_eventos)
    list_display = (
        "id",
        "tipo",
        "ocurrido_en",
        "marca",
        "socio",
        "publicacion",
        "estado_atribucion",
        "motivo_descarte",
        "valor",
        "moneda",
    )
    list_filter = (
        "tipo",
        "estado_atribucion",
        "motivo_descarte",
        "origen_visitante",
        "marca",
        ("ocurrido_en", admin.DateFieldListFilter),
    )
    # Exact matches only (see get_search_results): LIKE '%…%' over millions is not an option.
    search_fields = ("=visitante_id", "=referencia_externa", "=id")
    search_help_text = "Exact visitante_id, referencia_externa or event id."
    list_select_related = ("marca", "socio", "publicacion")
    raw_id_fields = ("marca", "publicacion", "socio", "click")
    paginator = PaginadorEstimado
    show_full_result_count = False
    list_per_page = 50
    # Only the site-wide actions (CSV export); events are never deleted from the admin.
    ordering = ("-ocurrido_en", "-id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Evento], search_term: str
    ) -> tuple[QuerySet[Evento], bool]:
        termino = search_term.strip()
        if not termino:
            return queryset, False
        filtro = Q(visitante_id=termino) | Q(referencia_externa=termino)
        with suppress(ValueError):
            filtro |= Q(id=uuid.UUID(termino))
        return queryset.filter(filtro), False


# --- API keys -------------------------------------------------------------------------------


@admin.register(TokenApi)
class TokenApiAdmin(admin.ModelAdmin):
    """API keys: who has one and since when. Only a hash is stored, so a key can be neither
    shown nor edited here; delete one to revoke it (it stops working at once), and issue a new
    one with the socio's or marca's "rotate credentials" action or `drf_create_token`."""

    list_display = ("prefijo", "usuario", "creado_en")
    search_fields = ("=prefijo", "usuario__username")
    list_select_related = ("usuario",)
    readonly_fields = ("prefijo", "usuario", "creado_en")
    exclude = ("hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
