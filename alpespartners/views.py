"""Project-level views: the health check and the error handlers."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_http_methods

from alpespartners.middleware import error_json_para


# HEAD too: load balancers and uptime probes often check with HEAD.
@require_http_methods(["GET", "HEAD"])
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database readiness. 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        resp = JsonResponse({"status": "degraded", "database": "unavailable"}, status=503)
        resp["Retry-After"] = "5"
        return resp
    return JsonResponse({"status": "ok", "database": "ok"})


def no_encontrado(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON on API and legacy paths (never an HTML page), the partner portal's own
    page under /portal/, Django's page elsewhere."""
    if request.path_info.startswith("/portal/"):
        return defaults.page_not_found(request, exception, template_name="portal/404.html")
    return error_json_para(request, 404) or defaults.page_not_found(request, exception)


def error_del_servidor(request: HttpRequest) -> HttpResponse:
    """handler500: JSON on API and legacy paths, Django's page elsewhere."""
    return error_json_para(request, 500) or defaults.server_error(request)
