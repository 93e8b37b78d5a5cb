"""Project-level views: the health check."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods


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
