"""`manage.py check --deploy --fail-level WARNING` passes with the production settings (the full
stack with only its required variables set), and embedded mode stays plain-HTTP for `make run`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "SQLITE_PATH"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
    )


def production(tmp_path) -> dict[str, str]:
    return {
        "DATABASE_URL": "postgres://sop:sop@127.0.0.1:5432/sop",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "sop.example.com",
        "SOP_VAR_DIR": str(tmp_path),
    }


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = run(["check", "--deploy", "--fail-level", "WARNING"], **production(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_https_hardening_is_switched_off(tmp_path):
    result = run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        **production(tmp_path),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W012" in result.stderr


SHOW = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS)"
)


def test_embedded_mode_serves_plain_http_and_the_full_stack_defaults_to_https(tmp_path):
    embedded = run(["shell", "-c", SHOW], SOP_VAR_DIR=str(tmp_path))
    assert embedded.stdout.splitlines()[-1].split() == ["False", "False", "0"], embedded.stderr
    full = run(["shell", "-c", SHOW], **production(tmp_path))
    assert full.stdout.splitlines()[-1].split() == ["True", "True", "31536000"], full.stderr
