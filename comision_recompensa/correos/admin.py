"""Admin of the e-mail outbox (read-only: what was sent, what failed and why) and of the
partners' e-mail preferences. The one action puts dead letters back in the outbox."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from alpespartners.admin_comun import SoloLectura
from alpespartners.errors import Conflicto
from comision_recompensa.correos.services import correo_reintentar
from comision_recompensa.models import CorreoSaliente, PreferenciasSocio


@admin.register(CorreoSaliente)
class CorreoSalienteAdmin(SoloLectura, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "creado_en",
        "tipo",
        "destinatario",
        "estado",
        "intentos",
        "proximo_intento_en",
        "enviado_en",
        "ultimo_error",
    )
    list_filter = ("estado", "tipo", "idioma")
    search_fields = ("=destinatario", "=clave_idempotencia", "=id")
    date_hierarchy = "creado_en"
    ordering = ("-creado_en",)
    raw_id_fields = ("socio",)
    readonly_fields = (
        "id",
        "tipo",
        "destinatario",
        "asunto",
        "cuerpo_texto",
        "idioma",
        "socio",
        "cabeceras",
        "estado",
        "intentos",
        "proximo_intento_en",
        "enviado_en",
        "ultimo_error",
        "clave_idempotencia",
        "creado_en",
        "actualizado_en",
    )
    exclude = ("cuerpo_html",)
    actions = ("reintentar",)

    @admin.action(description="Retry (dead letter → pendiente, attempts reset)")
    def reintentar(self, request: HttpRequest, queryset: QuerySet[CorreoSaliente]) -> None:
        hechos, omitidos = 0, 0
        for correo in queryset:
            try:
                correo_reintentar(correo=correo)
                hechos += 1
            except Conflicto:
                omitidos += 1
        self.message_user(request, f"{hechos} e-mails back in the outbox.", messages.SUCCESS)
        if omitidos:
            self.message_user(
                request,
                f"{omitidos} skipped: only failed e-mails can be retried.",
                messages.WARNING,
            )


@admin.register(PreferenciasSocio)
class PreferenciasSocioAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("socio", "idioma", "correo_creditos", "correo_pagos", "actualizado_en")
    list_filter = ("idioma", "correo_creditos", "correo_pagos")
    search_fields = ("socio__nombre", "socio__email")
    raw_id_fields = ("socio",)
