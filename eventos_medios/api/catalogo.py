"""Catalogue API v1: socios, marcas, medios and publicaciones (PRODUCT.md §1, §6).

Thin viewsets: scope the queryset to the caller (selectors), parse with an input serializer,
call one service, answer with an output serializer. Who may write:

- socios, marcas: staff only (plus staff-only `credenciales` rotation);
- medios, publicaciones: staff, or a partner for its own (a partner's medio always belongs to
  itself; its publicaciones must use one of its medios and a marca of its programme).

Objects outside the caller's scope are 404 on detail and 400 (naming the field) when
referenced in a body; lists are simply scoped.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from alpespartners.alcance import Alcance, alcance_de
from alpespartners.api.permissions import EsStaff, StaffEscribeResto_Lee
from alpespartners.errors import ErrorDominio
from eventos_medios import selectors
from eventos_medios.api import catalogo_filtros as filtros
from eventos_medios.api import catalogo_serializers as s
from eventos_medios.models import Marca, MedioMarketing, Publicacion, Socio
from eventos_medios.services import catalogo as servicios

__all__ = ["MarcaViewSet", "MedioViewSet", "PublicacionViewSet", "SocioViewSet"]

_Error = s.ErrorRespuestaSerializer
_ERRORES: dict[int | str, Any] = {
    400: OpenApiResponse(_Error, description="Invalid input; `errors` names the fields."),
    401: OpenApiResponse(_Error, description="Not authenticated."),
    403: OpenApiResponse(_Error, description="Not allowed for this user."),
    404: OpenApiResponse(_Error, description="Not found or not visible to you."),
}
_ERRORES_LECTURA = {k: v for k, v in _ERRORES.items() if k in (401, 404)}


def _con_errores(respuestas: dict[int | str, Any], *codigos: int) -> dict[int | str, Any]:
    return {**respuestas, **{c: _ERRORES[c] for c in codigos}}


class EsPropietarioOStaff(BasePermission):
    """Authenticated users read (the queryset scopes what); staff and partners write, a
    partner only what belongs to its own socio."""

    message = "Only staff or the owning partner may change this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        alcance = alcance_de(request.user)
        return alcance.es_staff or alcance.es_socio

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        alcance = alcance_de(request.user)
        return alcance.es_staff or (
            alcance.socio_id is not None and view.socio_id_de(obj) == alcance.socio_id
        )


class _CatalogoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List/retrieve scoped to the caller, plus create/update through services."""

    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    serializer_entrada_crear: type[BaseSerializer[Any]]
    serializer_entrada_actualizar: type[BaseSerializer[Any]]

    @property
    def alcance(self) -> Alcance:
        return alcance_de(self.request.user)

    def contexto_entrada(self) -> dict[str, Any]:
        """Serializer context for input: the request plus the caller's writable querysets."""
        return {"request": self.request}

    def _entrada(self, clase: type[BaseSerializer[Any]], **kwargs: Any) -> dict[str, Any]:
        entrada = clase(data=self.request.data, context=self.contexto_entrada(), **kwargs)
        entrada.is_valid(raise_exception=True)
        return dict(entrada.validated_data)

    def _salida(self, obj: Any, estado: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(obj).data, status=estado)

    def crear(self, datos: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def actualizar(self, obj: Any, datos: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.crear(self._entrada(self.serializer_entrada_crear))
        return self._salida(obj, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        parcial = bool(kwargs.get("partial", False))
        obj = self.actualizar(
            obj, self._entrada(self.serializer_entrada_actualizar, partial=parcial)
        )
        return self._salida(obj)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


# --- Socios ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List socios (partners) visible to you",
        responses=_con_errores({200: s.SocioSerializer(many=True)}, 400, 401),
    ),
    retrieve=extend_schema(
        summary="One socio", responses=_ERRORES_LECTURA | {200: s.SocioSerializer}
    ),
    create=extend_schema(
        summary="Register a socio (staff)",
        request=s.SocioEntradaSerializer,
        responses=_con_errores({201: s.SocioSerializer}, 400, 401, 403),
    ),
    update=extend_schema(
        summary="Replace a socio's data (staff)",
        request=s.SocioEntradaSerializer,
        responses=_con_errores({200: s.SocioSerializer}, 400, 401, 403, 404),
    ),
    partial_update=extend_schema(
        summary="Change some of a socio's data (staff)",
        request=s.SocioEntradaSerializer,
        responses=_con_errores({200: s.SocioSerializer}, 400, 401, 403, 404),
    ),
)
class SocioViewSet(_CatalogoViewSet):
    serializer_class = s.SocioSerializer
    serializer_entrada_crear = s.SocioEntradaSerializer
    serializer_entrada_actualizar = s.SocioEntradaSerializer
    filterset_class = filtros.SocioFiltro
    permission_classes = [StaffEscribeResto_Lee]

    def get_queryset(self) -> QuerySet[Socio]:
        return selectors.socios_visibles(alcance=self.alcance).select_related("usuario")

    def crear(self, datos: dict[str, Any]) -> Socio:
        return servicios.socio_crear(**datos)

    def actualizar(self, obj: Socio, datos: dict[str, Any]) -> Socio:
        return servicios.socio_actualizar(socio=obj, datos=datos, por=self.request.user)

    @extend_schema(
        summary="Create or rotate the socio's API token (staff)",
        description="Creates the socio's login if missing and issues a new token; the previous "
        "token stops working at once.",
        request=None,
        responses=_con_errores({200: s.CredencialesSerializer}, 401, 403, 404),
    )
    @action(detail=True, methods=["post"], permission_classes=[EsStaff])
    def credenciales(self, request: Request, pk: str | None = None) -> Response:
        credenciales = servicios.socio_credenciales_rotar(socio=self.get_object(), por=request.user)
        return Response(s.CredencialesSerializer(credenciales).data)


# --- Marcas ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List marcas (brands) visible to you",
        responses=_con_errores({200: s.MarcaSerializer(many=True)}, 400, 401),
    ),
    retrieve=extend_schema(
        summary="One marca", responses=_ERRORES_LECTURA | {200: s.MarcaSerializer}
    ),
    create=extend_schema(
        summary="Register a marca (staff)",
        request=s.MarcaEntradaSerializer,
        responses=_con_errores({201: s.MarcaSerializer}, 400, 401, 403),
    ),
    update=extend_schema(
        summary="Replace a marca's data and attribution policy (staff)",
        request=s.MarcaEntradaSerializer,
        responses=_con_errores({200: s.MarcaSerializer}, 400, 401, 403, 404),
    ),
    partial_update=extend_schema(
        summary="Change some of a marca's data or attribution policy (staff)",
        request=s.MarcaEntradaSerializer,
        responses=_con_errores({200: s.MarcaSerializer}, 400, 401, 403, 404),
    ),
)
class MarcaViewSet(_CatalogoViewSet):
    serializer_class = s.MarcaSerializer
    serializer_entrada_crear = s.MarcaEntradaSerializer
    serializer_entrada_actualizar = s.MarcaEntradaSerializer
    filterset_class = filtros.MarcaFiltro
    permission_classes = [StaffEscribeResto_Lee]

    def get_queryset(self) -> QuerySet[Marca]:
        return selectors.marcas_visibles(alcance=self.alcance)

    def crear(self, datos: dict[str, Any]) -> Marca:
        return servicios.marca_crear(**datos)

    def actualizar(self, obj: Marca, datos: dict[str, Any]) -> Marca:
        return servicios.marca_actualizar(marca=obj, datos=datos, por=self.request.user)

    @extend_schema(
        summary="Create or rotate the marca's API token (staff)",
        description="Issues a new token for the marca's dedicated API login (created and "
        "linked if missing); the previous token stops working at once.",
        request=None,
        responses=_con_errores({200: s.CredencialesSerializer}, 401, 403, 404),
    )
    @action(detail=True, methods=["post"], permission_classes=[EsStaff])
    def credenciales(self, request: Request, pk: str | None = None) -> Response:
        credenciales = servicios.marca_credenciales_rotar(marca=self.get_object(), por=request.user)
        return Response(s.CredencialesSerializer(credenciales).data)


# --- Medios ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List medios visible to you",
        responses=_con_errores({200: s.MedioSerializer(many=True)}, 400, 401),
    ),
    retrieve=extend_schema(
        summary="One medio", responses=_ERRORES_LECTURA | {200: s.MedioSerializer}
    ),
    create=extend_schema(
        summary="Register a medio (staff, or a partner for itself)",
        request=s.MedioCrearSerializer,
        responses=_con_errores({201: s.MedioSerializer}, 400, 401, 403),
    ),
    update=extend_schema(
        summary="Replace a medio's data (staff or its partner)",
        request=s.MedioActualizarSerializer,
        responses=_con_errores({200: s.MedioSerializer}, 400, 401, 403, 404),
    ),
    partial_update=extend_schema(
        summary="Change some of a medio's data (staff or its partner)",
        request=s.MedioActualizarSerializer,
        responses=_con_errores({200: s.MedioSerializer}, 400, 401, 403, 404),
    ),
)
class MedioViewSet(_CatalogoViewSet):
    serializer_class = s.MedioSerializer
    serializer_entrada_crear = s.MedioCrearSerializer
    serializer_entrada_actualizar = s.MedioActualizarSerializer
    filterset_class = filtros.MedioFiltro
    permission_classes = [EsPropietarioOStaff]

    def get_queryset(self) -> QuerySet[MedioMarketing]:
        return selectors.medios_visibles(alcance=self.alcance)

    @staticmethod
    def socio_id_de(obj: MedioMarketing) -> Any:
        return obj.socio_id

    def contexto_entrada(self) -> dict[str, Any]:
        alcance = self.alcance
        socios = (
            Socio.objects.all()
            if alcance.es_staff
            else Socio.objects.filter(pk=alcance.socio_id)
            if alcance.socio_id
            else Socio.objects.none()
        )
        return {**super().contexto_entrada(), "socios": socios}

    def crear(self, datos: dict[str, Any]) -> MedioMarketing:
        socio = datos.pop("socio", None)
        if socio is None:
            # A partner's medio is its own; staff must say whose it is.
            if self.alcance.socio_id is None:
                raise ErrorDominio("This field is required.", campo="socio", codigo="required")
            socio = Socio.objects.get(pk=self.alcance.socio_id)
        return servicios.medio_crear(socio=socio, **datos)

    def actualizar(self, obj: MedioMarketing, datos: dict[str, Any]) -> MedioMarketing:
        return servicios.medio_actualizar(medio=obj, datos=datos)


# --- Publicaciones --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List publicaciones visible to you",
        responses=_con_errores({200: s.PublicacionSerializer(many=True)}, 400, 401),
    ),
    retrieve=extend_schema(
        summary="One publicacion, with its tracking link",
        responses=_ERRORES_LECTURA | {200: s.PublicacionSerializer},
    ),
    create=extend_schema(
        summary="Register a publicacion and get its tracking link",
        request=s.PublicacionCrearSerializer,
        responses=_con_errores({201: s.PublicacionSerializer}, 400, 401, 403),
    ),
    update=extend_schema(
        summary="Replace a publicacion's data (staff or its partner)",
        request=s.PublicacionActualizarSerializer,
        responses=_con_errores({200: s.PublicacionSerializer}, 400, 401, 403, 404),
    ),
    partial_update=extend_schema(
        summary="Change some of a publicacion's data (staff or its partner)",
        request=s.PublicacionActualizarSerializer,
        responses=_con_errores({200: s.PublicacionSerializer}, 400, 401, 403, 404),
    ),
)
class PublicacionViewSet(_CatalogoViewSet):
    serializer_class = s.PublicacionSerializer
    serializer_entrada_crear = s.PublicacionCrearSerializer
    serializer_entrada_actualizar = s.PublicacionActualizarSerializer
    filterset_class = filtros.PublicacionFiltro
    permission_classes = [EsPropietarioOStaff]

    def get_queryset(self) -> QuerySet[Publicacion]:
        return selectors.publicaciones_visibles(alcance=self.alcance)

    @staticmethod
    def socio_id_de(obj: Publicacion) -> Any:
        return obj.medio.socio_id

    def contexto_entrada(self) -> dict[str, Any]:
        alcance = self.alcance
        if alcance.es_staff:
            medios: QuerySet[MedioMarketing] = MedioMarketing.objects.all()
        elif alcance.socio_id is not None:
            medios = MedioMarketing.objects.filter(socio_id=alcance.socio_id)
        else:
            medios = MedioMarketing.objects.none()
        # A partner publishes in its own medios, for the active marcas of its programmes.
        marcas = selectors.marcas_publicables(alcance=alcance)
        return {**super().contexto_entrada(), "medios": medios, "marcas": marcas}

    def crear(self, datos: dict[str, Any]) -> Publicacion:
        return servicios.publicacion_crear(**datos)

    def actualizar(self, obj: Publicacion, datos: dict[str, Any]) -> Publicacion:
        return servicios.publicacion_actualizar(publicacion=obj, datos=datos)
