"""Forms of the portal: the public application, the list filters, language and e-mail
preferences, and the password-reset form that writes to the e-mail outbox."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core import signing
from django.utils.translation import gettext_lazy as _

from comision_recompensa.correos.contenido import url_portal
from comision_recompensa.correos.services import correo_encolar, preferencias_de
from comision_recompensa.models import EstadoCredito, Idioma, TipoCorreo
from comision_recompensa.portal.etiquetas import opciones
from eventos_medios.models import Socio

_SAL_TIEMPO = "comision_recompensa.portal.solicitud.tiempo"
_VALIDEZ_FORMULARIO_SEGUNDOS = 24 * 3600


def marca_tiempo_firmar(*, marca_id: uuid.UUID, ahora: float | None = None) -> str:
    """The signed moment the application form was served (its hidden field)."""
    return signing.dumps(
        {"m": str(marca_id), "t": ahora if ahora is not None else time.time()}, salt=_SAL_TIEMPO
    )


class FormularioPortal(forms.Form):
    """The portal's forms: labels without Django's trailing colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SolicitudForm(FormularioPortal):
    """The public application form. Against bots: a honeypot field people never see (`web`),
    the minimum time between serving and sending the form, signed into `inicio`, and CSRF."""

    nombre = forms.CharField(label=_("Your name or brand name"), max_length=200)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    tipo_socio = forms.ChoiceField(
        label=_("What kind of partner are you?"), choices=opciones("socio")
    )
    medio_plataforma = forms.ChoiceField(label=_("Main platform"), choices=opciones("plataforma"))
    medio_url = forms.URLField(
        label=_("Address of your main channel"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("For example https://instagram.com/your_account"),
    )
    mensaje = forms.CharField(
        label=_("Tell the brand about your audience (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    acepta_terminos = forms.BooleanField(label=_("I have read and accept the programme's terms"))
    # The honeypot: hidden from people (CSS, aria-hidden, out of the tab order), filled by bots.
    web = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    inicio = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, marca_id: uuid.UUID, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marca_id = marca_id
        if not self.is_bound:
            self.fields["inicio"].initial = marca_tiempo_firmar(marca_id=marca_id)

    def es_trampa(self) -> bool:
        """The honeypot was filled: a bot. The view answers as if all went well."""
        return bool(self.data.get("web", "").strip())

    def clean_medio_url(self) -> str:
        url: str = self.cleaned_data.get("medio_url", "")
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Use an address starting with http:// or https://."))
        return url

    def clean_inicio(self) -> str:
        valor: str = self.cleaned_data["inicio"]
        try:
            datos = signing.loads(valor, salt=_SAL_TIEMPO)
            servido, marca = float(datos["t"]), str(datos["m"])
        except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
            raise forms.ValidationError(
                _("The form expired: please send it again."), code="caducado"
            ) from exc
        transcurrido = time.time() - servido
        if marca != str(self.marca_id) or not 0 <= transcurrido <= _VALIDEZ_FORMULARIO_SEGUNDOS:
            raise forms.ValidationError(
                _("The form expired: please send it again."), code="caducado"
            )
        if transcurrido < settings.SOLICITUD_TIEMPO_MINIMO_SEGUNDOS:
            raise forms.ValidationError(
                _("That was very fast: please check your answers and send the form again."),
                code="rapido",
            )
        return valor


class FiltroCreditosForm(FormularioPortal):
    """The filters of the commissions and rewards list (GET)."""

    clase = forms.ChoiceField(label=_("Kind"), choices=opciones("clase"), required=False)
    estado = forms.ChoiceField(
        label=_("State"), choices=[("", _("All")), *opciones("credito")], required=False
    )
    mes = forms.CharField(
        label=_("Month of the event"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
    )

    def clean_estado(self) -> str:
        estado: str = self.cleaned_data.get("estado", "")
        return estado if estado in EstadoCredito.values else ""

    def clean_mes(self) -> dt.date | None:
        texto: str = (self.cleaned_data.get("mes") or "").strip()
        if not texto:
            return None
        try:
            return dt.datetime.strptime(texto, "%Y-%m").date()
        except ValueError as exc:
            raise forms.ValidationError(_("Write the month as YYYY-MM.")) from exc


class IdiomaForm(FormularioPortal):
    idioma = forms.ChoiceField(label=_("Language"), choices=Idioma.choices)
    siguiente = forms.CharField(required=False, widget=forms.HiddenInput)


class PreferenciasForm(FormularioPortal):
    idioma = forms.ChoiceField(
        label=_("Language of the portal and your e-mails"), choices=Idioma.choices
    )
    correo_creditos = forms.BooleanField(
        label=_("When a commission or reward is approved (at most one a day)"), required=False
    )
    correo_pagos = forms.BooleanField(label=_("When a payout is sent"), required=False)


class RestablecerClaveForm(PasswordResetForm):
    """Django's password-reset form for partner logins, sending through the e-mail outbox (a
    failure is retried, never lost). A partner invited but without a password yet may use it
    too (its invitation may have expired)."""

    def get_users(self, email: str) -> Any:
        modelo = get_user_model()
        socios = Socio.objects.filter(usuario__isnull=False).values("usuario_id")
        return modelo.objects.filter(email__iexact=email, is_active=True, pk__in=socios)

    def send_mail(  # type: ignore[override]
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        usuario = context["user"]
        socio = Socio.objects.filter(usuario=usuario).values_list("id", flat=True).first()
        idioma = (
            preferencias_de(socio_id=socio).idioma if socio else settings.IDIOMA_PORTAL_POR_DEFECTO
        )
        correo_encolar(
            tipo=TipoCorreo.CLAVE_RESTABLECER,
            destinatario=to_email,
            idioma=idioma,
            contexto={
                "usuario": usuario.get_username(),
                "url": url_portal(
                    "portal:restablecer_confirmar", uidb64=context["uid"], token=context["token"]
                ),
            },
            clave_idempotencia=f"clave_restablecer:{usuario.pk}:{uuid.uuid4()}",
            socio_id=socio,
        )
