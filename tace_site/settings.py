"""Settings, all from the environment (see README.md, "Configuration")."""

import importlib.util
import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

DEVELOPMENT_SECRET_KEY = "insecure-development-only-key"
DEVELOPMENT_AUDIT_KEY = "insecure-development-only-audit-key"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    # Only ever used with debug on, on a developer's machine.
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
elif not DEBUG and (
    len(SECRET_KEY) < 50
    or SECRET_KEY.startswith("django-insecure")
    or SECRET_KEY in (DEVELOPMENT_SECRET_KEY, DEVELOPMENT_AUDIT_KEY)
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is too weak: at least 50 random characters, not a default. "
        "Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# The key of the audit chain's HMACs. Never in the database: someone who can write
# to the database but does not hold it cannot forge or recompute the chain.
AUDIT_KEY = os.environ.get("DJANGO_AUDIT_KEY", "")
if not AUDIT_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_AUDIT_KEY is required when DJANGO_DEBUG is off.")
    AUDIT_KEY = DEVELOPMENT_AUDIT_KEY
elif not DEBUG and (len(AUDIT_KEY) < 32 or AUDIT_KEY == DEVELOPMENT_AUDIT_KEY):
    raise ImproperlyConfigured("DJANGO_AUDIT_KEY is too weak: at least 32 random characters.")
if AUDIT_KEY == SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_AUDIT_KEY must differ from DJANGO_SECRET_KEY.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or (["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# HTTPS is terminated by a proxy in front of gunicorn, which must set X-Forwarded-Proto
# (and strip it from clients); it is read only from DJANGO_TRUSTED_PROXIES
# (ProxyHeadersMiddleware). DJANGO_HTTPS=0 is for plain HTTP on loopback only.
HTTPS = env_bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes may come over plain HTTP
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload lists are for public sites; an intranet host must not be on them.
    "security.W021",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "assessments",
    "followup",
    "outcomes",
]

MIDDLEWARE = [
    # First: X-Forwarded-Proto is dropped unless a trusted proxy sent it.
    "tace_site.middleware.ProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside the session and framing middleware: it adjusts what they set (ehr/smart.py).
    "ehr.middleware.SmartFrameMiddleware",
    "tace_site.middleware.Utf8FormsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "tace_site.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tace_site.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tace_site.urls"
WSGI_APPLICATION = "tace_site.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DATABASE_URL is required when DJANGO_DEBUG is off, e.g. "
            "postgres://user@host/dbname or sqlite:////absolute/path/db.sqlite3."
        )
    DATABASE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write to one file: WAL lets readers run beside a writer,
    # IMMEDIATE takes the write lock at BEGIN so a waiting writer honours the timeout
    # instead of failing with "database is locked".
    # Django's backend, creating the database file mode 600 (tace_site/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "tace_site.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # recursive_triggers: a REPLACE's implicit delete fires the DELETE triggers, so
        # INSERT OR REPLACE cannot rewrite an audit or history row past them.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA recursive_triggers=ON;"
        ),
    }
    # The test database is a file too, not SQLite's shared in-memory one: the
    # browser tests' live server then has connections of its own, as workers do.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(DATABASES["default"]["NAME"]).with_name("test-db.sqlite3"))
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One process's memory is not the deployment's: with several gunicorn workers (or
# servers), the API's throttle counts and the permissions' invalidation must live in one
# shared cache, Redis (docs/deploy.md, "The shared cache"). Local memory serves one process.
CACHE_URL = os.environ.get("DJANGO_CACHE_URL", "")
if CACHE_URL:
    if urlsplit(CACHE_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            "DJANGO_CACHE_URL must be a Redis URL (redis://, rediss:// or unix://), e.g. "
            f"redis://127.0.0.1:6379/0, not {urlsplit(CACHE_URL).scheme or CACHE_URL!r}."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The base page's parts that are the same for everyone of one language and role
# (templates/base.html) and the filters' list boxes (assessments/forms/filters.py), drawn
# once in each process: output of the code, never of a patient's data, so nothing to
# share between processes or to invalidate but at a restart.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Older hashes still verify and are upgraded to Argon2 at the next login.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login
    # ModelBackend, with each user's permissions cached for a few seconds.
    "assessments.permissions.CachedPermissionsBackend",
]
# Login throttling: 5 failures for one username from one address lock that pair
# out for 15 minutes. Behind the hospital's proxies the address is the client's
# (common.proxy), so one proxy's address never locks out the whole hospital.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False  # the audit log records failures and lockouts
AXES_CLIENT_IP_CALLABLE = "common.proxy.client_ip"
AXES_CLIENT_STR_CALLABLE = "tace_site.logs.axes_client"  # no typed username in the log
# The reverse proxies' addresses (or networks): X-Forwarded-For is read only on a
# request that comes from one of them. make serve gives gunicorn the same list.
TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"DJANGO_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network."
        ) from None
if os.environ.get("DJANGO_TRUSTED_PROXY_COUNT"):
    # A count trusted the header from any peer: refuse it rather than ignore it.
    raise ImproperlyConfigured(
        "DJANGO_TRUSTED_PROXY_COUNT is replaced by DJANGO_TRUSTED_PROXIES, the proxies' addresses."
    )

# The admin's address: another one than the default keeps it off scanners' lists.
ADMIN_URL = os.environ.get("DJANGO_ADMIN_URL", "admin/")
if not re.fullmatch(r"([A-Za-z0-9_-]+/)+", ADMIN_URL):
    raise ImproperlyConfigured(f"DJANGO_ADMIN_URL must look like 'admin/', not {ADMIN_URL!r}.")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "assessments:worklist"
LOGOUT_REDIRECT_URL = "login"

# Seconds. tace_site.middleware logs out after SESSION_IDLE_TIMEOUT without a request
# and SESSION_MAX_AGE_TOTAL after the first request of a login, whatever the activity.
SESSION_IDLE_TIMEOUT = env_int("DJANGO_SESSION_IDLE_TIMEOUT", 15 * 60)
SESSION_MAX_AGE_TOTAL = env_int("DJANGO_SESSION_MAX_AGE_TOTAL", 12 * 3600)
SESSION_COOKIE_AGE = SESSION_MAX_AGE_TOTAL
SESSION_COOKIE_HTTPONLY = True

# The language comes from the browser (Accept-Language) or the menu's choice, kept in
# a cookie. Stored codes and the stored (English) rationale never change with it.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# For a browser that asks for neither language, and for the management commands.
LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"DJANGO_LANGUAGE_CODE must be en or zh-hans, not {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# One date style a language on every page: 27 Nov 2026; 2026年11月27日.
FORMAT_MODULE_PATH = ["tace_site.formats"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# No 'unsafe-inline': the templates carry no inline script or style attribute.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Bootstrap draws form icons as data: SVGs
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# No ADMINS: error mails would carry the request (URL, query string, form data).
ADMINS = []
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"escape": {"()": "tace_site.logs.EscapeControlCharacters"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["escape"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # The audit log records failed logins and lockouts; axes' INFO lines add nothing.
    "loggers": {"axes": {"level": "WARNING"}},
}

# The hospital's name, on printouts.
SITE_NAME = os.environ.get("DJANGO_SITE_NAME", "").strip()
# Two-person sign-off: the author of an assessment may not sign it, unless a unit with
# a single consultant turns this on; the signature then says it was a self-signature.
ALLOW_SELF_SIGN = env_bool("DJANGO_ALLOW_SELF_SIGN")

# The audit trail: history is never reverted, only added to.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- REST API (api/): Django REST Framework, knox tokens, drf-spectacular -------------
INSTALLED_APPS += [
    "rest_framework",
    "knox",
    "drf_spectacular",
    "api",
]
# Swagger UI from drf-spectacular-sidecar, and only it: its Redoc build (not served here)
# would double what collectstatic compresses at every start of make serve.
STATICFILES_DIRS += [
    (
        "drf_spectacular_sidecar/swagger-ui-dist",
        Path(importlib.util.find_spec("drf_spectacular_sidecar").origin).parent
        / "static/drf_spectacular_sidecar/swagger-ui-dist",
    )
]
# Knox stores a digest of each token, never the token; api.ApiToken adds its name.
KNOX_TOKEN_MODEL = "api.ApiToken"
# Knox's own migrations create its token table even when the model is swapped out; a
# table nothing uses, whose foreign key to the users then blocks PostgreSQL's TRUNCATE.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_DEFAULT_DAYS = 90
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(days=API_TOKEN_DEFAULT_DAYS),
    "AUTO_REFRESH": False,
}
API_MAX_BODY_BYTES = 1024 * 1024
# Requests per token (or browser session) and per client address, e.g. "600/min".
API_THROTTLE_RATES = {
    "token": os.environ.get("DJANGO_API_RATE_TOKEN", "600/min"),
    "address": os.environ.get("DJANGO_API_RATE_ADDRESS", "1200/min"),
}
# Calls of the CDS Hooks endpoints per client address (an EHR's server calls for all its
# users), counted before the call's token is read.
CDS_THROTTLE_RATE = os.environ.get("DJANGO_CDS_RATE_ADDRESS", "1200/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",  # first: 401 names Bearer
        "rest_framework.authentication.SessionAuthentication",  # with CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.ContractJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttles.AddressRateThrottle",
        "api.throttles.TokenRateThrottle",
    ],
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Adjuvant TACE decision support API",
    "DESCRIPTION": "Score and record assessments with the web form's checks. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Codes stay inline beside each field (no shared enum components); the schema as
    # strict as the server, with its links (api/schema.py).
    "POSTPROCESSING_HOOKS": ["api.schema.tighten"],
}
# Swagger UI's source maps are for a browser's developer tools: compressing them (gzip
# and brotli) would add a third to what collectstatic does at every start.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# --- end REST API ----------------------------------------------------------------------

# --- EHR (ehr/): CDS Hooks services and FHIR RiskAssessment --------------------------
INSTALLED_APPS += ["ehr"]
# The base of the app's own FHIR CodeSystems (docs/fhir.md): a name, never fetched.
FHIR_CANONICAL_URL = os.environ.get(
    "DJANGO_FHIR_CANONICAL_URL", "https://adjuvant-tace.invalid/fhir"
).rstrip("/")
# The identifier system of the hospital's MRNs: the subject of each RiskAssessment.
FHIR_MRN_SYSTEM = os.environ.get("DJANGO_FHIR_MRN_SYSTEM", f"{FHIR_CANONICAL_URL}/NamingSystem/mrn")
# SMART App Launch (ehr/smart.py): seconds allowed for each call to a launching EHR.
SMART_HTTP_TIMEOUT = 5
# An app launched in a frame of the EHR's page keeps its session only with cookies that
# are SameSite=None; Secure, which need HTTPS: on for the sessions of a launch only.
SMART_FRAMED_COOKIES = env_bool("DJANGO_SMART_FRAMED_COOKIES")
if SMART_FRAMED_COOKIES and not HTTPS:
    raise ImproperlyConfigured("DJANGO_SMART_FRAMED_COOKIES needs DJANGO_HTTPS.")
# --- end EHR ----------------------------------------------------------------------------
