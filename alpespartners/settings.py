"""Alpes Partners settings, read top to bottom.

Everything that differs between machines comes from the environment (django-environ).
With no environment at all the project runs embedded: SQLite, Celery tasks executed eagerly,
an in-process cache. With DATABASE_URL / REDIS_URL set it uses PostgreSQL, Redis and a real
Celery worker. DEBUG is off unless the environment turns it on (`make run` does, for the
embedded mode); with DEBUG off, insecure values make the process refuse to start.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
import pycountry
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# --- Core -----------------------------------------------------------------------------------
# Off unless set: a forgotten variable must never expose debug pages or the dev-only secrets.
DEBUG: bool = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
SECRET_KEY: str = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    len(SECRET_KEY) < 50
    or SECRET_KEY == _DEV_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off."
    )

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Absolute base for links we hand out (tracking links); empty means "build from the request".
PUBLIC_BASE_URL: str = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
# How many reverse proxies (load balancers) sit in front of gunicorn and append to
# X-Forwarded-For: the tracking link takes the client IP that many hops from the right.
NUM_PROXIES: int = env.int("NUM_PROXIES", default=0)
# Salt for hashing visitor IPs: only the salted hash is ever stored.
IP_HASH_SALT: str = env.str("IP_HASH_SALT", default="dev-ip-salt" if DEBUG else "")
if not DEBUG and not IP_HASH_SALT:
    raise ImproperlyConfigured("IP_HASH_SALT must be set when DEBUG is off.")

# Payments component (outbox delivery). No PAGOS_URL: Pagos wait as `pendiente`.
PAGOS_URL: str = env.str("PAGOS_URL", default="")
PAGOS_SECRETO: str = env.str("PAGOS_SECRETO", default="dev-pagos-secret" if DEBUG else "")
if not DEBUG and PAGOS_URL and not PAGOS_SECRETO:
    raise ImproperlyConfigured("PAGOS_SECRETO must be set when PAGOS_URL is set and DEBUG is off.")
PAGOS_TIMEOUT_SEGUNDOS: float = env.float("PAGOS_TIMEOUT_SEGUNDOS", default=5.0)
PAGOS_MAX_INTENTOS: int = env.int("PAGOS_MAX_INTENTOS", default=8)
PAGOS_BACKOFF_BASE_SEGUNDOS: float = env.float("PAGOS_BACKOFF_BASE_SEGUNDOS", default=30.0)
PAGOS_BACKOFF_MAX_SEGUNDOS: float = env.float("PAGOS_BACKOFF_MAX_SEGUNDOS", default=3600.0)
# Secrets being rotated out: callbacks signed with any of them are still accepted (deliveries
# are always signed with PAGOS_SECRETO). Comma-separated; empty by default.
PAGOS_SECRETOS_ANTERIORES: list[str] = [
    s for s in env.list("PAGOS_SECRETOS_ANTERIORES", default=[]) if s.strip()
]


def _leer_minimo(nombre: str, texto: str) -> Decimal:
    """A payout minimum: plain digits with at most two decimals, more than zero."""
    valor = texto.strip()
    if not re.fullmatch(r"[0-9]{1,10}(\.[0-9]{1,2})?", valor, re.ASCII) or Decimal(valor) <= 0:
        raise ImproperlyConfigured(
            f"{nombre}={texto!r} is not a valid amount: expected a positive number with at most "
            "two decimals (e.g. 50.00)."
        )
    return Decimal(valor).quantize(Decimal("0.01"))


def _leer_minimos_por_moneda(texto: str) -> dict[str, Decimal]:
    """ "JPY:5000,COP:200000" → {"JPY": Decimal("5000.00"), …}; ISO 4217 codes only."""
    minimos: dict[str, Decimal] = {}
    for parte in (p for p in texto.split(",") if p.strip()):
        codigo, _, monto = parte.partition(":")
        codigo = codigo.strip().upper()
        if (
            not re.fullmatch(r"[A-Z]{3}", codigo)
            or pycountry.currencies.get(alpha_3=codigo) is None
        ):
            raise ImproperlyConfigured(
                f"PAGO_MINIMO_POR_MONEDA: {parte.strip()!r} must be <ISO 4217 code>:<amount>, "
                'e.g. "JPY:5000,COP:200000".'
            )
        if codigo in minimos:
            raise ImproperlyConfigured(f"PAGO_MINIMO_POR_MONEDA: {codigo} is given twice.")
        minimos[codigo] = _leer_minimo(f"PAGO_MINIMO_POR_MONEDA[{codigo}]", monto)
    return minimos


# No Pago is generated for a (socio, marca, moneda) balance under its minimum: the balance
# waits for a later run (PRODUCT.md §9). PAGO_MINIMO applies to every currency not listed in
# PAGO_MINIMO_POR_MONEDA ("JPY:5000,COP:200000").
PAGO_MINIMO: Decimal = _leer_minimo("PAGO_MINIMO", env.str("PAGO_MINIMO", default="50.00"))
PAGO_MINIMO_POR_MONEDA: dict[str, Decimal] = _leer_minimos_por_moneda(
    env.str("PAGO_MINIMO_POR_MONEDA", default="")
)
# How often the periodic task re-checks the compliance controls of held (retenido) Pagos.
PAGOS_REVISION_RETENIDOS_SEGUNDOS: int = env.int("PAGOS_REVISION_RETENIDOS_SEGUNDOS", default=300)

# Outbound webhooks and partner postbacks (PRODUCT.md §10; docs/OPERATIONS.md, "Webhooks").
# WEBHOOKS_PERMITIR_PRIVADAS lets endpoints use http:// and loopback/private addresses: for
# development and tests with a local receiver only (never in production: SSRF).
WEBHOOKS_PERMITIR_PRIVADAS: bool = env.bool("WEBHOOKS_PERMITIR_PRIVADAS", default=False)
WEBHOOKS_TIMEOUT_CONEXION_SEGUNDOS: float = env.float(
    "WEBHOOKS_TIMEOUT_CONEXION_SEGUNDOS", default=3.0
)
WEBHOOKS_TIMEOUT_LECTURA_SEGUNDOS: float = env.float(
    "WEBHOOKS_TIMEOUT_LECTURA_SEGUNDOS", default=10.0
)
WEBHOOKS_BACKOFF_BASE_SEGUNDOS: float = env.float("WEBHOOKS_BACKOFF_BASE_SEGUNDOS", default=10.0)
WEBHOOKS_BACKOFF_MAX_SEGUNDOS: float = env.float("WEBHOOKS_BACKOFF_MAX_SEGUNDOS", default=3600.0)
# Retries stop (dead letter) this long after a delivery was written or last replayed.
WEBHOOKS_VENTANA_REINTENTOS_SEGUNDOS: float = env.float(
    "WEBHOOKS_VENTANA_REINTENTOS_SEGUNDOS", default=24 * 3600.0
)
# How long the previous secret keeps signing after a rotation.
WEBHOOKS_ROTACION_SEGUNDOS: float = env.float("WEBHOOKS_ROTACION_SEGUNDOS", default=24 * 3600.0)
# A retry due within this many seconds is re-queued by the task itself; later ones by the sweep.
WEBHOOKS_REINTENTO_EN_TAREA_MAX_SEGUNDOS: float = env.float(
    "WEBHOOKS_REINTENTO_EN_TAREA_MAX_SEGUNDOS", default=60.0
)
WEBHOOKS_BARRIDO_SEGUNDOS: int = env.int("WEBHOOKS_BARRIDO_SEGUNDOS", default=15)
# More deliveries than this in one commit queue one sweep instead of one task each.
WEBHOOKS_ENCOLAR_MAX: int = env.int("WEBHOOKS_ENCOLAR_MAX", default=200)
WEBHOOKS_MAX_ENDPOINTS_POR_DUENO: int = env.int("WEBHOOKS_MAX_ENDPOINTS_POR_DUENO", default=20)
WEBHOOKS_REENVIO_MAX: int = env.int("WEBHOOKS_REENVIO_MAX", default=10_000)
for _nombre, _numero in (
    ("WEBHOOKS_TIMEOUT_CONEXION_SEGUNDOS", WEBHOOKS_TIMEOUT_CONEXION_SEGUNDOS),
    ("WEBHOOKS_TIMEOUT_LECTURA_SEGUNDOS", WEBHOOKS_TIMEOUT_LECTURA_SEGUNDOS),
    ("WEBHOOKS_BACKOFF_BASE_SEGUNDOS", WEBHOOKS_BACKOFF_BASE_SEGUNDOS),
    ("WEBHOOKS_VENTANA_REINTENTOS_SEGUNDOS", WEBHOOKS_VENTANA_REINTENTOS_SEGUNDOS),
    ("WEBHOOKS_BARRIDO_SEGUNDOS", WEBHOOKS_BARRIDO_SEGUNDOS),
):
    if _numero <= 0:
        raise ImproperlyConfigured(f"{_nombre} must be a positive number.")

# Rate limits, "<count>/<s|m|h>"; "0" turns one off. Enforced through the cache (Redis).
RATE_LIMIT_TRACKING: str = env.str("RATE_LIMIT_TRACKING", default="600/m")
RATE_LIMIT_INGESTA: str = env.str("RATE_LIMIT_INGESTA", default="6000/m")
# Public forms of the partner portal that send e-mail (applications, password reset), per
# client IP hash.
RATE_LIMIT_SOLICITUDES: str = env.str("RATE_LIMIT_SOLICITUDES", default="5/h")
# Same rule as alpespartners.api.ratelimit.parse_limite (kept here so a typo stops start-up
# instead of turning into 500s at request time; settings cannot import Django-bound modules).
_LIMITE_VALIDO = re.compile(r"(|0|off|none|\d+\s*/\s*(s|m|h|sec|second|min|minute|hour))", re.ASCII)
for _nombre, _valor in (
    ("RATE_LIMIT_TRACKING", RATE_LIMIT_TRACKING),
    ("RATE_LIMIT_INGESTA", RATE_LIMIT_INGESTA),
    ("RATE_LIMIT_SOLICITUDES", RATE_LIMIT_SOLICITUDES),
):
    if not _LIMITE_VALIDO.fullmatch(_valor.strip().lower()):
        raise ImproperlyConfigured(
            f'{_nombre}={_valor!r} is not a valid rate limit: expected "<n>/<s|m|h>" '
            f'(e.g. 600/m) or "0" to turn it off.'
        )

# Request body cap (PRODUCT.md §2: a body over 1 MB is a 413).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
MAX_EVENTOS_POR_LOTE = 1000
MAX_METADATA_BYTES = 8 * 1024
# Events older than this are refused by the API (400 naming `ocurrido_en`): an event dated
# 0001-01-01 would otherwise make every report and rollup walk two thousand years. The seed's
# legacy endpoints are exempt (PRODUCT.md §8).
EVENTOS_ANTIGUEDAD_MAXIMA_DIAS: int = env.int("EVENTOS_ANTIGUEDAD_MAXIMA_DIAS", default=400)
if EVENTOS_ANTIGUEDAD_MAXIMA_DIAS < 1:
    raise ImproperlyConfigured("EVENTOS_ANTIGUEDAD_MAXIMA_DIAS must be a positive number of days.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc assets served from our static files (no CDN: PRODUCT.md §8).
    "drf_spectacular_sidecar",
    # Admin login throttling (per username and per IP).
    "axes",
    "eventos_medios",
    "comision_recompensa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files from gunicorn (compressed, cache-busted) in production.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The partner portal's language (Spanish by default, English on request); only under
    # /portal/: the API and the admin keep English.
    "comision_recompensa.portal.idioma.IdiomaPortalMiddleware",
    "alpespartners.middleware.PoliticaContenidoMiddleware",
    "alpespartners.middleware.ErroresJsonApiMiddleware",
    "alpespartners.middleware.ServicioNoDisponibleMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks (and counts) every username/password login before Django does.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "alpespartners.urls"
WSGI_APPLICATION = "alpespartners.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Embedded mode: WAL lets readers run beside the writer, IMMEDIATE transactions take the
    # write lock up front (no deadlock-upgrade "database is locked"), and the busy timeout makes
    # concurrent writers wait instead of failing.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    _db.setdefault("OPTIONS", {})
    # Fail fast when the database is unreachable so the API can answer 503 instead of hanging.
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3))
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A `SELECT 1` before the first query of every request that reuses a connection. It
    # spares the one 503 per worker that a database restart between requests otherwise costs,
    # for a round trip per request on the hot paths: measured, see bench/README.md.
    _db["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
USANDO_POSTGRES: bool = _db["ENGINE"].startswith("django.db.backends.postg")
# The embedded mode: no DATABASE_URL, so the local SQLite file. With DEBUG on as well, the
# seed's legacy endpoints are open (PRODUCT.md §7, §8); anywhere else they need a token.
EMBEBIDO: bool = not env.str("DATABASE_URL", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The partner portal and its e-mails speak these (Spanish first: the portal's default); the API
# and the admin stay in LANGUAGE_CODE. Catalogues: comision_recompensa/locale (compiled .mo
# files are committed, so a clean clone needs no gettext tools).
LANGUAGES = [("es", "Español"), ("en", "English")]
# First in the lookup order, so the portal's words win over Django's own catalogues in Spanish
# (the admin, always in English, is not affected).
LOCALE_PATHS = [BASE_DIR / "comision_recompensa" / "locale"]
IDIOMA_PORTAL_POR_DEFECTO = "es"
LANGUAGE_COOKIE_NAME = "alpes_idioma"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# --- Partner portal -------------------------------------------------------------------------
LOGIN_URL = "/portal/entrar/"
# Absolute base of the links in e-mails (invitations, password resets, unsubscribe): they are
# written outside any request. Defaults to PUBLIC_BASE_URL; required when e-mail is configured
# with DEBUG off (checked below).
PORTAL_URL: str = (
    env.str("PORTAL_URL", default="")
    or PUBLIC_BASE_URL
    or ("http://127.0.0.1:8000" if DEBUG else "")
).rstrip("/")
# A password-reset link is valid for a day; an invitation (set your first password) for
# INVITACION_VALIDEZ_DIAS. Both stop working once the password is set.
PASSWORD_RESET_TIMEOUT = 24 * 3600
INVITACION_VALIDEZ_DIAS: int = env.int("INVITACION_VALIDEZ_DIAS", default=7)
# The application form refuses a submission sent faster than this after the form was served
# (bots fill forms at once).
SOLICITUD_TIEMPO_MINIMO_SEGUNDOS: int = env.int("SOLICITUD_TIEMPO_MINIMO_SEGUNDOS", default=3)

# --- E-mail (outbox: comision_recompensa.correos) ---------------------------------------------
# EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587) or EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL. Without either, DEBUG
# prints e-mails on the console and production keeps them in the outbox (`pendiente`) until
# e-mail is configured, as Pagos wait without PAGOS_URL.
EMAIL_TIMEOUT: int = env.int("EMAIL_TIMEOUT", default=10)
if env.str("EMAIL_URL", default=""):
    try:
        vars().update(env.email_url("EMAIL_URL"))
    except Exception as exc:
        raise ImproperlyConfigured(f"EMAIL_URL is not a valid e-mail URL: {exc}") from exc
    CORREO_CONFIGURADO = True
elif env.str("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST: str = env.str("EMAIL_HOST")
    EMAIL_PORT: int = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER: str = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD: str = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS: bool = env.bool("EMAIL_USE_TLS", default=True)
    EMAIL_USE_SSL: bool = env.bool("EMAIL_USE_SSL", default=False)
    CORREO_CONFIGURADO = True
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    CORREO_CONFIGURADO = False
if globals().get("EMAIL_USE_TLS") and globals().get("EMAIL_USE_SSL"):
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one.")
DEFAULT_FROM_EMAIL: str = env.str(
    "DEFAULT_FROM_EMAIL", default="Alpes Partners <no-reply@localhost>" if DEBUG else ""
)
# Whether the outbox sends at all: with e-mail configured, or on the console in development.
CORREO_ACTIVO: bool = CORREO_CONFIGURADO or DEBUG
if CORREO_CONFIGURADO and not DEBUG:
    if not DEFAULT_FROM_EMAIL or "@" not in DEFAULT_FROM_EMAIL:
        raise ImproperlyConfigured("DEFAULT_FROM_EMAIL must be set when e-mail is configured.")
    if not PORTAL_URL.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            "PORTAL_URL (or PUBLIC_BASE_URL) must be an absolute http(s) URL when e-mail is "
            "configured: the links in e-mails need it."
        )
SERVER_EMAIL = DEFAULT_FROM_EMAIL or "root@localhost"
CORREO_MAX_INTENTOS: int = env.int("CORREO_MAX_INTENTOS", default=8)
CORREO_BACKOFF_BASE_SEGUNDOS: float = env.float("CORREO_BACKOFF_BASE_SEGUNDOS", default=60.0)
CORREO_BACKOFF_MAX_SEGUNDOS: float = env.float("CORREO_BACKOFF_MAX_SEGUNDOS", default=6 * 3600.0)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Redis: cache (rate limits, hot lookups) and Celery broker ----------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")
# Optional namespace for every Redis key (cache and broker), so that several sets of processes
# (e.g. concurrent test runs) can share one Redis without stealing each other's tasks.
REDIS_PREFIJO: str = env.str("REDIS_PREFIJO", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIJO,
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                # Never unpickle what Redis holds (alpespartners.cache_sin_pickle).
                "serializer": "alpespartners.cache_sin_pickle.SerializadorSinPickle",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Glob routes are tried in order: payouts first, so `barrer_pagos_pendientes` goes to `pagos`.
CELERY_TASK_ROUTES = {
    "comision_recompensa.tasks.webhooks_*": {"queue": "webhooks"},
    # E-mails on the default queue (before the `barrer_*` glob below).
    "comision_recompensa.tasks.*correo*": {"queue": "celery"},
    "comision_recompensa.tasks.*pago*": {"queue": "pagos"},
    "comision_recompensa.tasks.atribuir_*": {"queue": "atribucion"},
    "comision_recompensa.tasks.barrer_*": {"queue": "atribucion"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a request when Redis is down: the database row is the source of
# truth and the periodic sweep picks up whatever was not queued.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
    # …and retry the connection at once, not after kombu's default 2 s pause.
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "visibility_timeout": 3600,
    "global_keyprefix": REDIS_PREFIJO,
}
CELERY_TASK_PUBLISH_RETRY = False
# A worker reuses its database connection for this many tasks before reconnecting (read by
# Celery's Django fixup as `CELERY_DB_REUSE_MAX` from the app config; unset = one per task).
CELERY_DB_REUSE_MAX: int = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "barrer-eventos-pendientes": {
        "task": "comision_recompensa.tasks.barrer_eventos_pendientes",
        "schedule": timedelta(seconds=env.int("BARRIDO_ATRIBUCION_SEGUNDOS", default=30)),
    },
    "aprobar-creditos-retenidos": {
        "task": "comision_recompensa.tasks.aprobar_creditos_vencidos",
        "schedule": timedelta(minutes=15),
    },
    "generar-pagos": {
        "task": "comision_recompensa.tasks.generar_pagos_periodico",
        "schedule": timedelta(hours=1),
    },
    "revisar-pagos-retenidos": {
        "task": "comision_recompensa.tasks.revisar_pagos_retenidos",
        "schedule": timedelta(seconds=PAGOS_REVISION_RETENIDOS_SEGUNDOS),
    },
    "enviar-pagos-pendientes": {
        "task": "comision_recompensa.tasks.barrer_pagos_pendientes",
        "schedule": timedelta(seconds=60),
    },
    "enviar-webhooks-pendientes": {
        "task": "comision_recompensa.tasks.webhooks_barrer",
        "schedule": timedelta(seconds=WEBHOOKS_BARRIDO_SEGUNDOS),
    },
    # E-mail outbox safety net: whatever the on-commit fast path did not send.
    "enviar-correos-pendientes": {
        "task": "comision_recompensa.tasks.barrer_correos_pendientes",
        "schedule": timedelta(seconds=60),
    },
    # Report rollup: past days not summarised (or invalidated) and the last few days.
    "refrescar-resumen-diario": {
        "task": "comision_recompensa.tasks.refrescar_resumen_diario",
        "schedule": timedelta(seconds=env.int("RESUMEN_REFRESCO_SEGUNDOS", default=120)),
    },
}
# Days before today that every rollup refresh rebuilds (late events, changes without signals).
RESUMEN_VENTANA_DIAS: int = env.int("RESUMEN_VENTANA_DIAS", default=2)
# Bounded work per refresh: at most this many days rebuilt per run (newest first; a long
# history is backfilled over several runs), none older than the horizon (read live instead).
RESUMEN_MAX_DIAS_POR_EJECUCION: int = env.int("RESUMEN_MAX_DIAS_POR_EJECUCION", default=60)
RESUMEN_HORIZONTE_DIAS: int = env.int("RESUMEN_HORIZONTE_DIAS", default=3660)
# Attribution sweep: events still `pendiente` this long after reception are re-queued.
BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS: int = env.int(
    "BARRIDO_ATRIBUCION_RETRASO_SEGUNDOS", default=10
)
ATRIBUCION_LOTE: int = env.int("ATRIBUCION_LOTE", default=500)

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "alpespartners.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON through a parser that refuses deep nesting and keeps the text of odd numbers (so
    # money fields can refuse `1e3`); forms for the browsable API.
    "DEFAULT_PARSER_CLASSES": [
        "alpespartners.api.json_seguro.ParserJSONSeguro",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "alpespartners.api.pagination.PaginacionEstandar",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "alpespartners.api.exceptions.manejar_excepcion",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Alpes Partners API",
    "DESCRIPTION": "Partner marketing: tracking, attribution, commissions, rewards and payouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The schema and Swagger UI are public (PRODUCT.md §6), even with a stale token header.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `tipo`/`estado`: name each choice set so generated clients get
    # stable, readable enum names (and the schema validates without warnings).
    "ENUM_NAME_OVERRIDES": {
        "TipoSocioEnum": "eventos_medios.models.TipoSocio",
        "TipoPublicacionEnum": "eventos_medios.models.TipoPublicacion",
        "TipoEventoEnum": "eventos_medios.models.TipoEvento",
        "PlataformaEnum": "eventos_medios.models.Plataforma",
        "ModeloAtribucionEnum": "eventos_medios.models.ModeloAtribucion",
        "EstadoAtribucionEnum": "eventos_medios.models.EstadoAtribucion",
        "MotivoDescarteEnum": "eventos_medios.models.MotivoDescarte",
        "TipoAsociacionEnum": "comision_recompensa.models.TipoAsociacion",
        "ModalidadEnum": "comision_recompensa.models.Modalidad",
        "EstadoCreditoEnum": "comision_recompensa.models.EstadoCredito",
        "EstadoPagoEnum": "comision_recompensa.models.EstadoPago",
        "ClaseEndpointEnum": "comision_recompensa.models.ClaseEndpoint",
        "EstadoEntregaEnum": "comision_recompensa.models.EstadoEntrega",
    },
}

# --- Security (production mode) -------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Admin login throttling (django-axes, database handler: `manage.py axes_reset` unlocks).
# After AXES_FAILURE_LIMIT wrong passwords for one username, or from one IP, that username or
# IP gets a 429 for AXES_COOLOFF_MINUTOS; a successful login resets the count.
AXES_FAILURE_LIMIT: int = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTOS", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The client IP as the tracking link finds it (NUM_PROXIES hops from the right of
# X-Forwarded-For; REMOTE_ADDR when no proxy is declared): a client cannot spoof its way out.
AXES_CLIENT_IP_CALLABLE = "eventos_medios.tracking.ip_cliente"
# The partner portal answers a lockout with its own page (the admin keeps axes' message).
AXES_LOCKOUT_CALLABLE = "comision_recompensa.portal.vistas.cuenta.respuesta_bloqueo"

# Content-Security-Policy of every HTML page (admin, dashboard, browsable API, API docs):
# everything from this origin, no inline or foreign script, never framed. Inline *styles* are
# allowed: Django's admin templates, drf-spectacular's page and the dashboard's server-drawn
# SVG charts carry <style> blocks, and a style cannot run code.
POLITICA_CONTENIDO: str = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
