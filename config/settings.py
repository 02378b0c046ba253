"""Settings for the S&OP planner, driven by environment variables.

With no variables set the app runs *embedded*: SQLite (WAL mode) under ``var/`` and Celery
on kombu's ``filesystem://`` transport (a broker that needs no server). Setting
``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL and Redis: the *full stack*.
Every variable is listed in README.md and ``.env.example``.
"""

import datetime as dt
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("SOP_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not DATABASE_URL

# --- security -------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if EMBEDDED and not env.str("DJANGO_SECRET_KEY", default=""):
    # Embedded mode is a single-user local install: a fixed local key is acceptable there and
    # only there. Any deployment with a real database must provide its own key.
    SECRET_KEY = "embedded-local-only-not-for-production-" + "x" * 24
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # raises ImproperlyConfigured when missing

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# Behind a reverse proxy that sets X-Forwarded-Proto / X-Forwarded-For (and strips what the
# client sent) set DJANGO_TRUST_PROXY=1; otherwise those headers are the client's to forge.
TRUST_PROXY = env.bool("DJANGO_TRUST_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- apps -----------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "core",
    "webhooks",
    "inventory",
    "territories",
    "sales",
    "sop",
    "forecasting",
    "compensation",
    "scenarios",
    "crm",
    "dashboards",
    "home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.DependencyOutageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "sop.sqlite3")),
            # WAL + a generous busy timeout let the web server, the Celery worker and beat
            # share one SQLite file; "IMMEDIATE" avoids upgrade deadlocks between writers.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;"
                ),
            },
        }
    }
else:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that is down must be told within seconds (the API answers 503, /healthz
    # within 2 s), not after the operating system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=3)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache (rate limits, idempotency fast path) ---------------------------------------------
if REDIS_URL:
    # Short socket timeouts: the rate limiter is the only reader and fails over to a limit in
    # this process when Redis is refused or hung (core/api/throttling.py).
    _CACHE_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.5)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": _CACHE_TIMEOUT, "socket_timeout": _CACHE_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out sign-ins before the password check
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (core/login_guard.py): failures count per username and per client address.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "core.login_guard.login_username"
AXES_CLIENT_IP_CALLABLE = "core.login_guard.client_ip"
AXES_LOCKOUT_CALLABLE = "core.login_guard.lockout_response"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- i18n / time ----------------------------------------------------------------------------
# English, German, Italian: the browser's Accept-Language picks one until the user chooses in
# the header (kept on their profile). Catalogues are committed compiled (locale/*/LC_MESSAGES/*.mo).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "sop_language"
TIME_ZONE = env.str("SOP_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Embedded installs serve static files straight from the source tree as well, so a fresh
# checkout works before (or without) collectstatic.
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.IdCursorPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=100),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "core.api.csv_export.CSVRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env.str("API_RATE_LIMIT", default="600/min")},
    "COERCE_DECIMAL_TO_STRING": True,
    "DATE_INPUT_FORMATS": ["iso-8601"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "S&OP planner API",
    "DESCRIPTION": (
        "ERP integration API: bulk upsert by natural key (JSON or CSV, all-or-nothing, "
        "Idempotency-Key), cursor-paginated lists with CSV export, runs to poll."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "AlertStatusEnum": "sop.models.CapacityAlert.Status",
        "RunStatusEnum": "sop.models.PlanRun.Status",
        "QuotaMeasureEnum": "territories.models.Quota.Measure",
    },
}
API_MAX_BULK_ROWS = env.int("API_MAX_BULK_ROWS", default=100_000)
# Bulk batches (CSV and JSON) first try the columnar fast path (core/bulk/columnar.py); off =
# always the exact pandas path (same results, slower; for comparison).
BULK_COLUMNAR = env.bool("BULK_COLUMNAR", default=True)
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)

# --- Celery ---------------------------------------------------------------------------------
CELERY_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Runs never wait for the visibility timeout: the reaper re-queues lost chunks (below).
    # Socket timeouts keep a publish to a hung Redis from blocking a web request.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "socket_keepalive": True,
    }
else:
    # kombu's filesystem transport: messages are files in one folder, so the web process,
    # worker and beat on this machine share a queue with no server to install or run.
    for _sub in ("queue", "processed", "control"):
        (CELERY_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "control_folder": str(CELERY_DIR / "control"),  # broadcast (pidbox) messages
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_RESULT_BACKEND = None  # runs record their own state in the database
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a chunk lost with its worker is redelivered (tasks are idempotent)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
NIGHTLY_PIPELINE_HOUR = env.int("NIGHTLY_PIPELINE_HOUR", default=2)
# Webhooks go to public https endpoints only; 1 also allows http and private, loopback and
# link-local addresses (tests, an ERP on the same network).
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)

# --- runs that never hang (core/runs.py) ----------------------------------------------------
# Work in progress writes a heartbeat every RUN_HEARTBEAT_SECONDS; work silent for
# RUN_STALE_SECONDS is stalled (shown so on the pages) and the reaper, started by beat every
# RUN_REAPER_SECONDS, re-sends it; a chunk or plan run claimed RUN_MAX_ATTEMPTS times fails.
RUN_HEARTBEAT_SECONDS = env.float("RUN_HEARTBEAT_SECONDS", default=10)
RUN_STALE_SECONDS = env.float("RUN_STALE_SECONDS", default=60)
RUN_REAPER_SECONDS = env.int("RUN_REAPER_SECONDS", default=30)
RUN_MAX_ATTEMPTS = env.int("RUN_MAX_ATTEMPTS", default=3)
CELERY_BEAT_SCHEDULE = {
    "Run reaper": {
        "task": "runs.reap",
        "schedule": RUN_REAPER_SECONDS,
        "options": {"expires": max(RUN_REAPER_SECONDS, 5)},
    },
    "Scenario reaper": {
        "task": "scenarios.reap",
        "schedule": RUN_REAPER_SECONDS,
        "options": {"expires": max(RUN_REAPER_SECONDS, 5)},
    },
}

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- issue 12 part C: request bodies, API input, HTTPS defaults ------------------------------
# Bulk bodies (API and upload page) are read in chunks by core.bulk.body: over this size → 413
# before a byte is read; over API_MAX_BULK_ROWS rows → 400 as soon as the stream shows it.
# 100,000 rows of the widest resources as JSON are 30–40 MB (bench/README.md "Big bodies").
API_MAX_BULK_BODY_BYTES = env.int("API_MAX_BODY_MB", default=64) * 1024 * 1024
# Every other body (forms, API operations): Django's default; over it the API answers a JSON 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] = ["core.api.filtering.FilterBackend"]  # numbers bounded
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [  # operation bodies: one JSON object, size-checked first
    "core.api.parsers.JSONObjectParser",
    "core.api.parsers.FormParser",
    "core.api.parsers.MultiPartParser",
]
# HTTPS hardening is on by default in the full stack (DATABASE_URL set), so
# `manage.py check --deploy --fail-level WARNING` passes with nothing but the required variables;
# embedded mode (a local http://127.0.0.1 install) keeps it off. Set a variable to 0 to serve a
# full stack over plain HTTP on purpose (e.g. a trial behind no TLS).
_HTTPS = not EMBEDDED and not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes call the container over plain HTTP
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# --- end issue 12 part C ----------------------------------------------------------------------
