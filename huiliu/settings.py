"""Settings, read from environment variables.

Production behaviour is the default and is switched off for development, not the other way
round: DEBUG is off unless set, a missing SECRET_KEY refuses to boot unless DEBUG, GraphiQL
is served only in DEBUG.

Embedded default: without DATABASE_URL / REDIS_URL the project runs on SQLite, a local
memory cache and eager Celery, so `make demo` works on any machine.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from huiliu.queues import QUEUES, ROUTES, QueueName

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set. Set SECRET_KEY, or DEBUG=1 for local development.")
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "graphene_django",
    "axes",
    "django_ratelimit",
    "csp",
    "partners",
    "matching",
    "exchange",
    "api",
    "frontend",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "frontend.middleware.RememberLanguageMiddleware",  # e-mails follow the UI language
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "huiliu.throttle.ThrottleMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "huiliu.urls"
WSGI_APPLICATION = "huiliu.wsgi.application"
# URL prefixes answered by a WSGI callable in front of Django's handler and its middleware, which
# may decline (return None) to let Django answer: the tracking redirect (exchange/views.py).
WSGI_FAST_PATHS = {"/t/": "exchange.views.track_redirect_wsgi"}
ASGI_APPLICATION = "huiliu.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Searched before the apps, so frontend/templates/admin/ can extend the Django admin's
        # own templates (base_site.html adds the favicon); Django's come from APP_DIRS.
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.exchange_counts",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Let the demo server and a management command share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker ------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="huiliu"),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Throttle counts and sign-in lockouts (huiliu/throttle.py) in a cache of their own: the same
# Redis under another key prefix, so they can be reset without touching anything else.
THROTTLE_CACHE = "throttle"
CACHES[THROTTLE_CACHE] = {**CACHES["default"], "LOCATION": CACHES["default"].get("LOCATION", "throttle")}
if REDIS_URL:
    CACHES[THROTTLE_CACHE]["KEY_PREFIX"] = CACHES["default"]["KEY_PREFIX"] + ":throttle"
    # A Redis that does not answer must not hang every sign-in: give up fast and let it through.
    CACHES[THROTTLE_CACHE]["OPTIONS"] = {
        **CACHES["default"]["OPTIONS"],
        "SOCKET_CONNECT_TIMEOUT": 1,
        "SOCKET_TIMEOUT": 1,
    }

# Embedded default: tasks run eagerly, yet Celery still opens the (in-memory) broker connection
# to serialise each call; a URL without a host made kombu warn "No hostname was supplied" on
# every enqueue, i.e. on every save in the demo. The memory transport ignores the host.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = QueueName.DEFAULT.value
CELERY_TASK_QUEUES = QUEUES
CELERY_TASK_ROUTES = ROUTES
CELERY_TASK_ACKS_LATE = False  # opted into per idempotent task
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "partners.User"
LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:dashboard"
LOGOUT_REDIRECT_URL = "frontend:home"
# The lockout check first (django-axes, huiliu/lockout.py), then the users table.
AUTHENTICATION_BACKENDS = ["huiliu.lockout.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)

# --- I18n: Chinese by default, English switchable ------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"  # shown to users; stored in UTC (USE_TZ)
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# Uploaded files (brand logos), through the default storage; served by the app
# (frontend.views.logos), so no web-server route is needed.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step
# Browser libraries installed from npm (`make assets`: package.json, package-lock.json), served
# as /static/vendor/htmx/… and /static/vendor/echarts/…. Listed only once installed, so a
# checkout that has not run npm yet still passes Django's checks; the pages then work without
# htmx (every form has a submit) and campaign dashboards show their figures as tables.
HTMX_DIST = BASE_DIR / "node_modules" / "htmx.org" / "dist"
ECHARTS_DIST = BASE_DIR / "node_modules" / "echarts" / "dist"
STATICFILES_DIRS = [
    (prefix, path) for prefix, path in (("vendor/htmx", HTMX_DIST), ("vendor/echarts", ECHARTS_DIST)) if path.is_dir()
]

# --- Security (production defaults) -----------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS: redirect and HSTS are on in production. Behind a proxy that terminates TLS, set
# TRUST_X_FORWARDED_PROTO=1 (only if the proxy always sets that header) so requests it
# forwarded over https are recognised and not redirected in a loop. /healthz stays
# reachable over plain http for load-balancer probes.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 30 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Extending HSTS to every subdomain, or to browsers' preload list, commits the operator's
# whole domain to https for months: their decision (the two variables above), not a default.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, images, fonts and fetches from this
# origin only; nothing inline (no 'unsafe-inline', no 'unsafe-eval': templates hold no inline
# script, handler attribute or style, tests/security/test_csp.py); no plugins, no <base>, no
# framing; forms post here only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1_000_000)

# --- Throttling (huiliu/throttle.py, huiliu/lockout.py; 429 with Retry-After) -----------------
# Requests per period ("N/s", "N/m", "N/h", "N/d"); an empty value switches a limit off.
THROTTLE_RATES = {
    "signup": env.str("THROTTLE_SIGNUP", default="20/h"),  # sign-up attempts per client address
    "brand_register": env.str("THROTTLE_BRAND_REGISTER", default="10/h"),  # brands registered per user
    "graphql_anonymous": env.str("THROTTLE_GRAPHQL_ANONYMOUS", default="60/m"),  # per client address
}
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
# Per API key, a token bucket (huiliu/buckets.py): bursts of API_KEY_BURST requests, refilled at
# API_KEY_RATE_PER_MINUTE; a platform admin raises one brand's rate (Brand.api_rate_per_minute
# in the Django admin), the burst scaling with it. Reported in RateLimit-* response headers.
API_KEY_RATE_PER_MINUTE = env.int("API_KEY_RATE_PER_MINUTE", default=600)
API_KEY_BURST = env.int("API_KEY_BURST", default=120)
THROTTLE_TRUSTED_PROXIES = env.int("THROTTLE_TRUSTED_PROXIES", default=0)
RATELIMIT_USE_CACHE = THROTTLE_CACHE
RATELIMIT_IP_META_KEY = "huiliu.throttle.client_ip"
# Sign-in lockout: this many wrong passwords lock the account, and separately the client
# address, for the cool-off (every further failure restarts it).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "huiliu.lockout.LockoutCacheHandler"  # axes' cache handler, failing open
AXES_CACHE = THROTTLE_CACHE
AXES_CLIENT_IP_CALLABLE = "huiliu.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "huiliu.lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # its admin pages list database records; the cache handler keeps none
AXES_VERBOSE = False  # no banner on every command; lockouts and failures are still logged
if not REDIS_URL:
    # The embedded default is one process: local memory counts correctly there, so the
    # libraries' "not a shared cache" warnings do not apply. Production runs on Redis.
    SILENCED_SYSTEM_CHECKS += ["axes.W001", "django_ratelimit.E003", "django_ratelimit.W001"]

# --- GraphQL --------------------------------------------------------------------------------
GRAPHENE = {
    "SCHEMA": "api.schema.schema",
    "RELAY_CONNECTION_MAX_LIMIT": 100,
    "RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST": True,
    "ATOMIC_MUTATIONS": True,
}
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=10)
GRAPHQL_MAX_REQUEST_BYTES = env.int("GRAPHQL_MAX_REQUEST_BYTES", default=100_000)
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", default=30)
# Estimated cost per document (api.core.validation.query_cost: 1 per field, a connection
# multiplies what is under it by its page size); above it the query is refused before it runs.
GRAPHQL_MAX_COST = env.int("GRAPHQL_MAX_COST", default=25_000)
GRAPHIQL_ENABLED = DEBUG

# --- Stripe (settlement; used by the exchange) ---------------------------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Without both keys the cash option is hidden and traffic credit is the only way to settle.
# Payment method types offered on the billing page; an operator may add "alipay", "wechat_pay".
STRIPE_PAYMENT_METHOD_TYPES = env.list("STRIPE_PAYMENT_METHOD_TYPES", default=["card"])
# Written into the metadata of every PaymentIntent and Refund this deployment makes; a webhook
# or a list entry tagged by another deployment sharing the Stripe account (staging beside
# production) is never taken for ours. Give each deployment its own value.
STRIPE_DEPLOYMENT = env.str("STRIPE_DEPLOYMENT", default="huiliu")
# Seconds a Stripe call may take before it counts as unanswered (the beat resumes it later,
# never while the first call could still be running: RESUME_AFTER in exchange.services.payments).
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)
# Stripe refuses charges below its minimum (CNY ¥4.00): a smaller gap is settled as credit.
STRIPE_MIN_CHARGE_CENTS = env.int("STRIPE_MIN_CHARGE_CENTS", default=400)

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Huiliu <noreply@huiliu.local>")

# --- Matching ---------------------------------------------------------------------------------
MATCHING_EXCLUDE_OPEN_PAIRS = env.bool("MATCHING_EXCLUDE_OPEN_PAIRS", default=True)
MATCHING_TOP_K = env.int("MATCHING_TOP_K", default=20)  # recommendations stored per brand
MATCHING_CANDIDATES = env.int("MATCHING_CANDIDATES", default=50)  # candidates scored per brand
MATCHING_MIN_OUTCOMES = env.int("MATCHING_MIN_OUTCOMES", default=20)  # below this: heuristic only
MATCHING_REFRESH_DEBOUNCE = env.int("MATCHING_REFRESH_DEBOUNCE", default=10)  # seconds
# 1 in N stored slots goes to a plausible but under-explored partner (新发现 / New); 0 = none.
MATCHING_EXPLORE_EVERY = env.int("MATCHING_EXPLORE_EVERY", default=10)
# Nightly full refresh at 02:30 Asia/Shanghai (18:30 UTC); a missed run expires rather than piling up.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["matching-refresh-all"] = {
    "task": "matching.tasks.recommendations_refresh_all_task",
    "schedule": crontab(hour=18, minute=30),
    "options": {"expires": 6 * 3600},
}
# Nightly retrain at 02:00 Asia/Shanghai (18:00 UTC), before the refresh: trains from every
# outcome (imported and the exchange's own), activates only through the ranking gate, and the
# training run records why; skipped when nothing new arrived since the latest model.
CELERY_BEAT_SCHEDULE["matching-retrain-nightly"] = {
    "task": "matching.tasks.matcher_retrain_nightly_task",
    "schedule": crontab(hour=18, minute=0),
    "options": {"expires": 6 * 3600},
}

# --- Exchange -----------------------------------------------------------------------------------
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")  # links in e-mails
EXCHANGE_PROPOSAL_EXPIRY_DAYS = env.int("EXCHANGE_PROPOSAL_EXPIRY_DAYS", default=7)  # unanswered → expired
EXCHANGE_DAILY_PROPOSAL_LIMIT = env.int("EXCHANGE_DAILY_PROPOSAL_LIMIT", default=20)  # new proposals per brand per day
EXCHANGE_MAX_PLACEMENTS_PER_SIDE = env.int("EXCHANGE_MAX_PLACEMENTS_PER_SIDE", default=10)
EXCHANGE_MAX_WINDOW_DAYS = env.int("EXCHANGE_MAX_WINDOW_DAYS", default=90)
EXCHANGE_EMAIL_LEASE_SECONDS = env.int("EXCHANGE_EMAIL_LEASE_SECONDS", default=120)  # a claimed e-mail is retried after
# The sweep leaves events and e-mails younger than this to their on-commit enqueue.
EXCHANGE_OUTBOX_SWEEP_GRACE_SECONDS = env.int("EXCHANGE_OUTBOX_SWEEP_GRACE_SECONDS", default=30)
CELERY_BEAT_SCHEDULE["exchange-outbox-sweep"] = {
    "task": "exchange.tasks.outbox_sweep_task",
    "schedule": 60.0,
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["exchange-proposals-expire"] = {
    "task": "exchange.tasks.proposals_expire_task",
    "schedule": crontab(minute=7),
    "options": {"expires": 3000},
}

# --- Exchange: campaigns and tracking (docs/EXCHANGE.md, "Campaigns and tracking") ------------
# Days the promoted side has to confirm or dispute a delivery report (silence confirms it), and
# the days after a placement's window ends after which a placement nobody reported on counts
# as delivered (a disputed report never lapses).
EXCHANGE_DELIVERY_CONFIRM_DAYS = env.int("EXCHANGE_DELIVERY_CONFIRM_DAYS", default=7)
# Click events go through a Redis stream (empty: straight to the database, the embedded default).
EXCHANGE_EVENTS_REDIS_URL = env.str("EXCHANGE_EVENTS_REDIS_URL", default=REDIS_URL)
EXCHANGE_EVENTS_STREAM = env.str("EXCHANGE_EVENTS_STREAM", default="huiliu:events:clicks")
# An approximate bound on the unflushed backlog (docs/EXCHANGE.md: what trimming would cost).
EXCHANGE_EVENTS_STREAM_MAXLEN = env.int("EXCHANGE_EVENTS_STREAM_MAXLEN", default=2_000_000)
EXCHANGE_EVENTS_BATCH_SIZE = env.int("EXCHANGE_EVENTS_BATCH_SIZE", default=5_000)  # events per flush transaction
EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS = env.int("EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS", default=60)  # then reclaimed
EXCHANGE_CLICK_BURST_PER_MINUTE = env.int("EXCHANGE_CLICK_BURST_PER_MINUTE", default=10)  # more: flagged "burst"
EXCHANGE_LINK_CACHE_SECONDS = env.int("EXCHANGE_LINK_CACHE_SECONDS", default=24 * 3600)
# The request header holding the visitor's address behind a trusted proxy (e.g. HTTP_X_REAL_IP);
# empty: REMOTE_ADDR. Only ever hashed with the day's salt, never stored.
EXCHANGE_CLIENT_IP_HEADER = env.str("EXCHANGE_CLIENT_IP_HEADER", default="")
CELERY_BEAT_SCHEDULE["exchange-events-flush"] = {
    "task": "exchange.tasks.events_flush_task",
    "schedule": 5.0,
    "options": {"expires": 4},
}
# The click events' monthly partitions (PostgreSQL), created three months ahead; daily is plenty.
CELERY_BEAT_SCHEDULE["exchange-click-partitions"] = {
    "task": "exchange.tasks.events_partitions_ensure_task",
    "schedule": crontab(minute=17, hour=3),
    "options": {"expires": 3600},
}

# --- Exchange: coupons and partner-reported events (docs/EXCHANGE.md) --------------------------
# The most coupon codes one placement's batch may hold (the promoted brand chooses N up to it).
EXCHANGE_COUPON_BATCH_MAX = env.int("EXCHANGE_COUPON_BATCH_MAX", default=5_000)
# A reported order or new member is credited to a click up to this many days after it (for a
# coupon or tracking code: up to this many days after the placement's window ends).
EXCHANGE_ATTRIBUTION_DAYS = env.int("EXCHANGE_ATTRIBUTION_DAYS", default=14)
# Reported rows stay pending (reversible by the reporter) this many days, then are confirmed.
EXCHANGE_SCREENING_DAYS = env.int("EXCHANGE_SCREENING_DAYS", default=7)
# The most rows one reportConversions / reportNewMembers call may carry.
EXCHANGE_REPORT_BATCH_MAX = env.int("EXCHANGE_REPORT_BATCH_MAX", default=500)
CELERY_BEAT_SCHEDULE["exchange-reported-confirm"] = {
    "task": "exchange.tasks.reported_events_confirm_task",
    "schedule": crontab(minute=17),
    "options": {"expires": 3000},
}
CELERY_BEAT_SCHEDULE["exchange-campaigns-advance"] = {
    "task": "exchange.tasks.campaigns_advance_task",
    "schedule": 300.0,
    "options": {"expires": 280},
}

# --- Exchange: delivery reports (docs/EXCHANGE.md, "Delivery reports") --------------------------
EXCHANGE_PROOF_MAX_BYTES = env.int("EXCHANGE_PROOF_MAX_BYTES", default=5 * 1024 * 1024)  # an uploaded proof image
# A reported reach above this multiple of the promised quantity is refused as a typo.
EXCHANGE_DELIVERY_REACH_CAP_MULTIPLE = env.int("EXCHANGE_DELIVERY_REACH_CAP_MULTIPLE", default=3)
# How far outside its placement's window a delivery may be dated (late posts, time zones).
EXCHANGE_DELIVERY_WINDOW_GRACE_DAYS = env.int("EXCHANGE_DELIVERY_WINDOW_GRACE_DAYS", default=2)
CELERY_BEAT_SCHEDULE["exchange-deliveries-autoconfirm"] = {
    "task": "exchange.tasks.deliveries_autoconfirm_task",
    "schedule": crontab(minute=17),
    "options": {"expires": 3000},
}

# --- Exchange: settlement of a campaign's imbalance (docs/SETTLEMENT.md) ----------------------
# The figures (tolerance, value→cash rate, fee, days to choose) are admin-set in the database
# (SettlementPolicy); this beat carries unchosen settlements to credit once their time is up.
CELERY_BEAT_SCHEDULE["exchange-settlement-defaults"] = {
    "task": "exchange.tasks.settlement_defaults_task",
    "schedule": crontab(minute=23),
    "options": {"expires": 3000},
}
CELERY_BEAT_SCHEDULE["exchange-settlement-payments-resume"] = {
    "task": "exchange.tasks.settlement_payments_resume_task",
    "schedule": 60.0,
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["exchange-settlement-reconcile"] = {
    "task": "exchange.tasks.settlement_reconcile_task",
    "schedule": crontab(hour=3, minute=40),
    "options": {"expires": 6 * 3600},
}
# Stripe.js is loaded from here (allowed by the CSP when Stripe is configured); the tests point
# it at localstripe's mock.
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")

# --- Exchange: webhooks to partner systems (docs/WEBHOOKS.md) ----------------------------------
# Endpoint signing secrets are stored encrypted (Fernet) with a key derived from this value
# (empty: from SECRET_KEY). To rotate it, set the new value and list the old one in
# WEBHOOK_SECRET_KEYS_OLD, run `manage.py webhooks_reencrypt`, then drop the old one.
WEBHOOK_SECRET_KEY = env.str("WEBHOOK_SECRET_KEY", default="")
WEBHOOK_SECRET_KEYS_OLD = env.list("WEBHOOK_SECRET_KEYS_OLD", default=[])
# After a rotation, the previous secret keeps signing (beside the new one) this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)  # per delivery attempt
# A claimed delivery is retried by the sweep after this (a worker killed mid-request).
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)
# Seconds before each retry (jittered ±20 %): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h (≈ 17.6 h in
# all, 7 attempts); then the delivery gives up (replay resends it).
WEBHOOK_RETRY_SCHEDULE = [
    int(s) for s in env.list("WEBHOOK_RETRY_SCHEDULE", default=[5, 300, 1800, 7200, 18000, 36000])
]
# An endpoint whose every delivery failed for this long is disabled and its owners e-mailed.
WEBHOOK_DISABLE_AFTER_HOURS = env.int("WEBHOOK_DISABLE_AFTER_HOURS", default=72)
# Development and tests only: allow http://127.0.0.1 / ::1 / localhost endpoints.
WEBHOOK_ALLOW_LOOPBACK = env.bool("WEBHOOK_ALLOW_LOOPBACK", default=False)
WEBHOOK_MAX_ENDPOINTS_PER_BRAND = env.int("WEBHOOK_MAX_ENDPOINTS_PER_BRAND", default=10)
CELERY_BEAT_SCHEDULE["exchange-webhooks-due"] = {
    "task": "exchange.tasks.webhooks_due_task",
    "schedule": 30.0,
    "options": {"expires": 25},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Eager (embedded) mode runs every task inline; one INFO line per task drowns the
        # demo's output. Real workers keep the per-task lines.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
