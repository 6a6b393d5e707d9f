"""Settings for m3terpaddle, read from the environment (and an optional `.env` file).

Every variable is documented in `.env.example`. With DEBUG on, development defaults let a fresh
clone start with nothing configured; with DEBUG off (production), the secrets must be given and a
missing one stops the start with a message naming it.
"""

import datetime
import ipaddress
import os
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Only for development: a fresh clone runs without any configuration. Never used when DEBUG is off.
_DEVELOPMENT_DEFAULTS = {
    "SECRET_KEY": "django-insecure-development-only-key",
    "FIELD_ENCRYPTION_KEYS": "kqhE3Tq_zcAsrJqaoNA0GN_Ndf4Ra-Q7u4Sn4dcXzX0=",
    "ALLOWED_HOSTS": "localhost,127.0.0.1,[::1]",
}


def _required(name, *, cast=str):
    """A setting that production must provide; development falls back to a harmless default."""
    if name in env.ENVIRON:
        value = env.get_value(name, cast=cast)
    elif DEBUG:
        value = env.parse_value(_DEVELOPMENT_DEFAULTS[name], cast)
    else:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required when DEBUG is off. "
            f"Set it (see .env.example) or set DEBUG=true for development."
        )
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} is set but empty.")
    return value


SECRET_KEY = _required("SECRET_KEY")
ALLOWED_HOSTS = _required("ALLOWED_HOSTS", cast=list)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Comma-separated Fernet keys; the first encrypts, all of them decrypt (rotation).
FIELD_ENCRYPTION_KEYS = _required("FIELD_ENCRYPTION_KEYS", cast=list)

PADDLE_API_URL = env.str("PADDLE_API_URL", default="https://api.paddle.com")
PADDLE_SANDBOX_API_URL = env.str("PADDLE_SANDBOX_API_URL", default="https://sandbox-api.paddle.com")
PADDLE_DASHBOARD_URL = env.str("PADDLE_DASHBOARD_URL", default="https://vendors.paddle.com")
PADDLE_SANDBOX_DASHBOARD_URL = env.str(
    "PADDLE_SANDBOX_DASHBOARD_URL", default="https://sandbox-vendors.paddle.com"
)
PADDLE_CONNECT_TIMEOUT = env.float("PADDLE_CONNECT_TIMEOUT", default=5.0)
PADDLE_READ_TIMEOUT = env.float("PADDLE_READ_TIMEOUT", default=30.0)
# Paddle allows 240 requests a minute per client IP address: every credential, integration and
# worker of the hub together stays under this, per Paddle API host.
PADDLE_RATE_LIMIT_PER_MINUTE = env.int("PADDLE_RATE_LIMIT_PER_MINUTE", default=240)
# The circuit breaker per Paddle host (paddle_destination.circuit): this many failed requests in
# a row (5xx, timeouts, connection errors, from any worker) open it; while open, runs wait
# without spending attempts and one probe goes out every PADDLE_CIRCUIT_PROBE_SECONDS.
PADDLE_CIRCUIT_FAILURES = env.int("PADDLE_CIRCUIT_FAILURES", default=10)
PADDLE_CIRCUIT_PROBE_SECONDS = env.float("PADDLE_CIRCUIT_PROBE_SECONDS", default=10.0)
# The invoice's life in Paddle back to the hub (paddle_destination.notifications / reconcile): the
# hub's public base URL, which Paddle's webhooks are pointed at (empty: no webhooks, polling only);
# the clock drift allowed on a webhook's signature; how often Paddle is polled as the fallback.
HUB_PUBLIC_URL = env.str("HUB_PUBLIC_URL", default="")
PADDLE_WEBHOOK_TOLERANCE_SECONDS = env.int("PADDLE_WEBHOOK_TOLERANCE_SECONDS", default=5)
PADDLE_RECONCILE_INTERVAL_MINUTES = env.int("PADDLE_RECONCILE_INTERVAL_MINUTES", default=10)

# Stored webhook events (Paddle's and m3ter's) are pruned this many days after they arrived,
# once applied; 0 keeps them all (ops.services.webhook_events_prune, hourly).
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)

M3TER_ORG_ID = env.str("M3TER_ORG_ID", default="00000000-0000-0000-0000-000000000000")

# Bills in from m3ter (m3tersync): how often every enabled connection is pulled (0 = never); how
# long one scheduled pull may run before it leaves the rest to the next (under Q_CLUSTER's
# timeout); how often the m3ter SDK retries a 429 or 5xx, with backoff, before a pull fails.
M3TER_PULL_INTERVAL_MINUTES = env.int("M3TER_PULL_INTERVAL_MINUTES", default=5)
M3TER_PULL_TIME_BUDGET_SECONDS = env.int("M3TER_PULL_TIME_BUDGET_SECONDS", default=90)
M3TER_MAX_RETRIES = env.int("M3TER_MAX_RETRIES", default=4)
# The hub's public base URL as m3ter calls it (e.g. https://hub.example.com) when a proxy sits in
# front: webhook signatures cover the URL. Empty: the URL each request arrived at.
M3TER_WEBHOOK_BASE_URL = env.str("M3TER_WEBHOOK_BASE_URL", default="")
# A connection's base URL is https; plain http to this machine only for stand-ins (tests, demo).
M3TER_HTTP_LOOPBACK_ALLOWED = env.bool("M3TER_HTTP_LOOPBACK_ALLOWED", default=DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "formtools",
    "django_htmx",
    "django_q",
    "axes",
    "m3terdata",
    "credentials",
    "integrations",
    "paddle_destination",
    "runs",
    "m3tersync",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "m3terpaddle.request_limits.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name from
# one address, that pair is locked out for LOGIN_LOCKOUT_MINUTES, the right password included.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "m3terpaddle.client_ip.client_ip"
# Proxies in front of the hub that append to X-Forwarded-For (0: clients connect directly).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Behind a proxy that terminates TLS (HTTPS=true): the proxy's X-Forwarded-Proto says a request
# came over https, plain http is redirected, cookies are sent over https only, and browsers are
# told (HSTS) to use https for a year. Each part can be set on its own as well.
HTTPS = env.bool("HTTPS", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)

# Content-Security-Policy (django-csp): scripts only from the hub's own files (no inline script,
# no eval), nothing framed, forms posted to the hub only. Inline style attributes stay allowed:
# progress bars set their widths in them, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Throttle counters (and anything else cached). Local memory counts per process; give several
# web processes one shared cache (e.g. redis://…) to count across them.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

ROOT_URLCONF = "m3terpaddle.urls"

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
                "integrations.context_processors.open_integration_events",
            ],
        },
    },
]

WSGI_APPLICATION = "m3terpaddle.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and worker share one SQLite file: wait for the other's write lock instead of
    # failing, and let readers run beside a writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # The test database is a file too: Django's default, a shared-cache in-memory database, has
    # table locks that fail at once (no timeout) when a live server thread writes beside the
    # test, as Paddle's webhooks do. One per process (xdist workers, suites side by side).
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"m3terpaddle-test-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

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

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="m3terpaddle@localhost")

Q_CLUSTER_SYNC = env.bool("Q_CLUSTER_SYNC", default=False)
# A task running longer is killed (and its run taken back by the sweep once its lease lapses).
Q_TIMEOUT = env.int("Q_TIMEOUT", default=120)
Q_CLUSTER = {
    # The queue's name in the broker: hubs that share one Redis need a name each.
    "name": env.str("Q_CLUSTER_NAME", default="m3terpaddle"),
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=2),
    "sync": Q_CLUSTER_SYNC,
    # Runs own their retry policy (runs.services); django-q2 must never re-run a task by itself.
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.2,
    "label": "Task queue",
}
# With REDIS_URL (redis://host:6379/0) the task queue lives in Redis, which several qcluster
# hosts share; without it, in the database (django-q2's ORM broker, for a single host).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL

# The run engine's retry policy (runs.services): transient failures are retried with exponential
# backoff and jitter up to RUN_MAX_ATTEMPTS attempts; a run whose worker died is taken back once
# its lease (longer than a task may live) has lapsed. The first retry comes after 0.5–1 s (a lone
# 5xx is usually gone by then), the eighth attempt one to two minutes after the first; a Paddle
# that keeps failing opens the host's circuit (PADDLE_CIRCUIT_*), under which runs wait without
# spending attempts, however long it takes.
RUN_MAX_ATTEMPTS = env.int("RUN_MAX_ATTEMPTS", default=8)
RUN_RETRY_BASE_SECONDS = env.float("RUN_RETRY_BASE_SECONDS", default=1.0)
RUN_RETRY_MAX_SECONDS = env.float("RUN_RETRY_MAX_SECONDS", default=3600.0)
RUN_MAX_RATE_LIMIT_RETRIES = env.int("RUN_MAX_RATE_LIMIT_RETRIES", default=20)
RUN_AUTH_FAILURES_BEFORE_DISABLE = env.int("RUN_AUTH_FAILURES_BEFORE_DISABLE", default=3)
RUN_LEASE_SECONDS = env.int("RUN_LEASE_SECONDS", default=Q_CLUSTER["timeout"] + 30)
# Each qcluster worker looks for runs whose retry has come due this often (seconds).
RUN_DUE_POLL_SECONDS = env.float("RUN_DUE_POLL_SECONDS", default=1.0)

# LOG_FORMAT=json: one JSON object a line (python-json-logger), for a log shipper; "plain" for
# people. Inside a delivery every line carries the run's id (ops.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"run_id": {"()": "ops.logs.RunIdFilter"}},
    "formatters": {
        "plain": {
            "()": "ops.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["run_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # The Paddle SDK and urllib3 log whole request and response bodies at DEBUG, which can hold
        # customer data; they never log below WARNING here.
        "paddle_billing": {"level": "WARNING"},
        "null_logger": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # The m3ter SDK logs request options, credentials included, at DEBUG.
        "m3ter": {"level": "WARNING"},
        "django_q": {"level": env.str("Q_LOG_LEVEL", default="INFO")},
    },
}

# Request bodies: large enough for m3ter's largest bills (a 50,000-line bill is about 30 MB of
# m3ter's JSON), refused with a JSON 413 above it; JSON nested deeper than any record is refused
# before a parser recurses into it.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_MAX_BODY_BYTES", default=64 * 1024 * 1024)
REQUEST_MAX_JSON_DEPTH = env.int("REQUEST_MAX_JSON_DEPTH", default=32)

# Probes and metrics (ops): /readyz wants a worker heartbeat and a sweep younger than these.
READY_WORKER_MAX_AGE_SECONDS = env.float("READY_WORKER_MAX_AGE_SECONDS", default=60.0)
READY_SWEEP_MAX_AGE_SECONDS = env.float("READY_SWEEP_MAX_AGE_SECONDS", default=180.0)
# How often each qcluster worker process records its heartbeat.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=10.0)
# Who may read /metrics: "open" (anyone), "token" (Authorization: Bearer METRICS_TOKEN) or
# "network" (clients whose address is in METRICS_ALLOWED_NETWORKS; the address the request came
# from, so scrape each web process directly rather than through the proxy).
METRICS_ACCESS = env.str("METRICS_ACCESS", default="network")
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(network, strict=False)
    for network in env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
]
if METRICS_ACCESS not in ("open", "token", "network"):
    raise ImproperlyConfigured(
        f"METRICS_ACCESS must be open, token or network, not {METRICS_ACCESS!r}."
    )
if METRICS_ACCESS == "token" and not METRICS_TOKEN:
    raise ImproperlyConfigured("METRICS_ACCESS is token: set METRICS_TOKEN as well.")
# prometheus-client's own variable: a directory per host where every process of the host keeps
# its counters, so /metrics and `manage.py metrics_serve` add them up.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# The REST API (api/): m3ter's shapes, bearer tokens from POST /oauth/token (m3ter's last 5 hours).
API_TOKEN_LIFETIME_SECONDS = env.int("API_TOKEN_LIFETIME_SECONDS", default=18000)
# Live tokens one API key may hold; a new token beyond them revokes the oldest.
API_MAX_TOKENS_PER_KEY = env.int("API_MAX_TOKENS_PER_KEY", default=20)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.M3terCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.M3terAutoSchema",
    "DEFAULT_METADATA_CLASS": "api.metadata.DescriptionMetadata",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRequestThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env.str("API_TOKEN_REQUEST_RATE", default="30/min")},
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "m3terpaddle API",
    "DESCRIPTION": "m3ter-compatible API of the m3ter → Paddle hub (see docs/api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LineItemTypeEnum": "m3terdata.models.LineItemType",
        "RunStatusEnum": "runs.models.RunStatus",
        "BillStatusEnum": "m3terdata.models.BillStatus",
        "DestinationEnum": "credentials.models.Destination",
        "InvoiceStatusEnum": "runs.models.InvoiceStatus",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {"BasicAuth": {"type": "http", "scheme": "basic"}},
    },
}
