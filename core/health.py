"""Liveness of the database and the Celery broker, for /healthz."""

from __future__ import annotations

from django.db import connection


def database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # any driver error means "down"
        return False, f"{type(exc).__name__}: {exc}"


def broker_status() -> tuple[bool, str]:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True, conn.transport_cls if isinstance(conn.transport_cls, str) else "ok"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
