"""Test settings: the normal settings, with tasks run eagerly and fast password hashing.

Tests marked ``services`` start a real Celery worker against ``REDIS_URL`` instead.
"""

from config.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "100000/min"}}  # noqa: F405
# Tests never share a cache with a running app (rate-limit counters are cleared per test).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# No heartbeat threads in tests (they would write from another thread inside the test's
# transaction); tests of the heartbeat itself turn it on.
RUN_HEARTBEAT_SECONDS = 0
# Webhook receivers in tests listen on loopback (tests of the refusal override it).
WEBHOOK_ALLOW_PRIVATE_HOSTS = True
# The test client and the browser tests speak plain HTTP, also on the PostgreSQL pass (whose
# DATABASE_URL would turn HTTPS hardening on; tests/core/test_deploy_check.py checks that).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
