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
# The test client and the browser tests speak plain HTTP, also on the PostgreSQL pass (whose
# DATABASE_URL would turn HTTPS hardening on; tests/core/test_deploy_check.py checks that).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
