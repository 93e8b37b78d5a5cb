"""Admin of webhook endpoints (staff manage them; the secret is shown once, masked after) and
of the delivery log (read-only; replay from a selection)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from alpespartners import alcance as acceso
from alpespartners.admin_comun import FiltradoPorAlcance, SoloLectura
from alpespartners.errors import ErrorDominio
from comision_recompensa.models import EndpointWebhook, EntregaWebhook, EstadoEntrega
from comision_recompensa.webhooks import services
from comision_recompensa.webhooks.serializers import LARGO_PREFIJO_SECRETO


class EndpointForm(forms.ModelForm):
    class Meta:
        model = EndpointWebhook
        fields = ["clase", "marca", "socio", "url", "eventos", "activo", "descripcion"]

    def clean(self) -> dict[str, Any]:
        datos = super().clean() or {}
        instancia = self.instance
        nuevo = instancia.pk is None or instancia._state.adding
        try:
            url, eventos = services.endpoint_validar(
                marca=datos.get("marca") if nuevo else instancia.marca,
                socio=datos.get("socio") if nuevo else instancia.socio,
                clase=(datos.get("clase") if nuevo else instancia.clase) or "webhook",
                url=datos.get("url"),
                eventos=datos.get("eventos"),
            )
        except ErrorDominio as exc:
            raise forms.ValidationError({exc.campo or "url": exc.mensaje}) from None
        datos["url"], datos["eventos"] = url, eventos
        return datos


@admin.register(EndpointWebhook)
class EndpointWebhookAdmin(FiltradoPorAlcance, admin.ModelAdmin):
    filtro_alcance = staticmethod(acceso.q_endpoints_webhook)
    form = EndpointForm
    list_display = ["id", "clase", "marca", "socio", "url", "activo", "secuencia_actual"]
    list_filter = ["clase", "activo"]
    search_fields = ["id", "url", "marca__nombre", "socio__nombre"]
    list_select_related = ["marca", "socio"]
    readonly_fields = ["secreto_enmascarado", "secreto_anterior_expira_en", "secuencia_actual"]
    actions = ["rotar_secreto", "probar", "reenviar_fallidas"]

    def get_actions(self, request: HttpRequest) -> Any:
        # No site-wide CSV export here: it would write every column, the secrets included.
        acciones = super().get_actions(request)
        acciones.pop("exportar_csv", None)
        return acciones

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fijos = list(self.readonly_fields)
        return [*fijos, "clase", "marca", "socio"] if obj is not None else fijos

    @admin.display(description="secreto")
    def secreto_enmascarado(self, obj: EndpointWebhook) -> str:
        return obj.secreto[:LARGO_PREFIJO_SECRETO] + "…" if obj.secreto else "—"

    def save_model(
        self, request: HttpRequest, obj: EndpointWebhook, form: Any, change: bool
    ) -> None:
        if change:
            services.endpoint_actualizar(
                endpoint=obj,
                url=obj.url,
                eventos=obj.eventos,
                activo=obj.activo,
                descripcion=obj.descripcion,
            )
            return
        creado = services.endpoint_crear(
            marca=obj.marca,
            socio=obj.socio,
            clase=obj.clase,
            url=obj.url,
            eventos=obj.eventos,
            activo=obj.activo,
            descripcion=obj.descripcion,
        )
        obj.pk = creado.pk
        obj.secreto = creado.secreto
        self.message_user(
            request,
            f"Secret of the new endpoint (shown only now): {creado.secreto}",
            messages.WARNING,
        )

    def delete_model(self, request: HttpRequest, obj: EndpointWebhook) -> None:
        services.endpoint_eliminar(endpoint=obj)

    @admin.action(description="Rotate the secret (the old one stays valid 24 h)")
    def rotar_secreto(self, request: HttpRequest, queryset: QuerySet[EndpointWebhook]) -> None:
        for endpoint in queryset:
            nuevo = services.endpoint_rotar_secreto(endpoint=endpoint)
            self.message_user(
                request,
                f"New secret of {endpoint.pk} (shown only now): {nuevo.secreto}",
                messages.WARNING,
            )

    @admin.action(description="Send a test delivery (ping)")
    def probar(self, request: HttpRequest, queryset: QuerySet[EndpointWebhook]) -> None:
        hechas = 0
        for endpoint in queryset.filter(activo=True):
            services.endpoint_probar(endpoint=endpoint)
            hechas += 1
        self.message_user(request, f"{hechas} pings queued (inactive endpoints skipped).")

    @admin.action(description="Replay every dead-lettered delivery")
    def reenviar_fallidas(self, request: HttpRequest, queryset: QuerySet[EndpointWebhook]) -> None:
        total = 0
        for endpoint in queryset:
            ids = EntregaWebhook.objects.filter(endpoint=endpoint, estado=EstadoEntrega.FALLIDA)
            for entrega in ids:
                services.entrega_reenviar(entrega=entrega)
                total += 1
        self.message_user(request, f"{total} deliveries back in the outbox.", messages.SUCCESS)


def _q_entregas(alcance: acceso.Alcance) -> Any:
    filtro = acceso.q_endpoints_webhook(alcance)
    if filtro is None:
        return None
    return EntregaWebhook.objects.filter(endpoint__in=EndpointWebhook.objects.filter(filtro))


@admin.register(EntregaWebhook)
class EntregaWebhookAdmin(SoloLectura, admin.ModelAdmin):
    list_display = [
        "secuencia",
        "endpoint",
        "tipo",
        "estado",
        "intentos",
        "ultimo_estado_http",
        "latencia_ms",
        "ultimo_error",
        "proximo_intento_en",
        "creado_en",
    ]
    list_filter = ["estado", "tipo"]
    search_fields = ["id", "endpoint__id", "endpoint__url", "credito_id"]
    list_select_related = ["endpoint"]
    ordering = ["-creado_en"]
    date_hierarchy = "creado_en"
    show_full_result_count = False
    readonly_fields = [f.name for f in EntregaWebhook._meta.fields]
    actions = ["reenviar"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EntregaWebhook]:
        qs = super().get_queryset(request)
        visibles = _q_entregas(acceso.alcance_de(request.user))
        return qs if visibles is None else qs.filter(pk__in=visibles.values("pk"))

    @admin.action(description="Replay (same Idempotency-Key and secuencia)")
    def reenviar(self, request: HttpRequest, queryset: QuerySet[EntregaWebhook]) -> None:
        hechas, omitidas = 0, 0
        for entrega in queryset:
            try:
                services.entrega_reenviar(entrega=entrega)
                hechas += 1
            except ErrorDominio:
                omitidas += 1
        self.message_user(request, f"{hechas} deliveries back in the outbox.", messages.SUCCESS)
        if omitidas:
            self.message_user(
                request, f"{omitidas} skipped (held or cancelled postbacks).", messages.WARNING
            )
