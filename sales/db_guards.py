"""Referential integrity of sales order lines without per-row foreign-key triggers.

A foreign key costs PostgreSQL a row trigger per inserted line (a look-up and a row lock of
the product, the account and the territory): more than the insert itself, and the reason the
ERP feed could not reach its throughput target (bench/README.md). The same guarantees, paid
once per batch or once per delete statement:

- *inserting*: the ingestion validates every reference, then in its write transaction takes
  ``pg_advisory_xact_lock_shared(SALES_REFERENCES_LOCK)`` and re-checks that every referenced
  id still exists (``core.bulk.writer``);
- *deleting* a product or an account still referenced by a sales line fails (as with
  ``ON DELETE RESTRICT``; PostgreSQL); deleting a territory clears the lines' territory
  (``SET NULL``; PostgreSQL and SQLite). On PostgreSQL the statement-level trigger first
  takes the same lock exclusively, so it waits for ingestions in flight and sees their lines.
  On SQLite (the embedded database, written by this app only) the ORM's ``PROTECT`` stands
  for the restrict guard: a row trigger there cannot wait for commit, and would break
  Django's flush of the whole database.

Django's own deletes keep ``on_delete=PROTECT`` / ``SET_NULL`` (the ORM emulates them); the
triggers cover every other writer. On PostgreSQL installed by migration ``sop.0004`` and again after every
``migrate`` (``SalesConfig.ready``). On SQLite, which rebuilds a table to alter it (and fails
when a trigger elsewhere names it), they are only installed after ``migrate`` and removed
before it.
"""

from __future__ import annotations

SALES_REFERENCES_LOCK = 7_203_114_001  # advisory lock key: sales lines ↔ their referenced rows

SALES_TABLE = "sop_salesorderline"
RESTRICTED = (("inventory_product", "product_id", "product"), ("territories_account", "account_id", "account"))
NULLED = (("territories_territory", "territory_id"),)

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION sop_sales_line_reference_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    hit bigint;
BEGIN
    -- Wait for ingestions in flight (they hold this lock shared) so their lines are seen.
    PERFORM pg_advisory_xact_lock({SALES_REFERENCES_LOCK});
    IF TG_ARGV[0] = 'restrict' THEN
        EXECUTE format('SELECT s.%I FROM {SALES_TABLE} s JOIN gone g ON s.%I = g.id LIMIT 1',
                       TG_ARGV[1], TG_ARGV[1]) INTO hit;
        IF hit IS NOT NULL THEN
            RAISE EXCEPTION 'cannot delete % %: sales order lines still reference it', TG_ARGV[2], hit
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'Mark it inactive instead, or delete its sales order lines first.';
        END IF;
    ELSE
        EXECUTE format('UPDATE {SALES_TABLE} s SET %I = NULL FROM gone g WHERE s.%I = g.id',
                       TG_ARGV[1], TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;
"""


def _trigger_name(table: str) -> str:
    return f"{table}_sales_line_guard"


def guard_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [PG_FUNCTION]
        for table, column, label in RESTRICTED:
            statements += [
                f"DROP TRIGGER IF EXISTS {_trigger_name(table)} ON {table}",
                f"CREATE TRIGGER {_trigger_name(table)} AFTER DELETE ON {table} REFERENCING OLD TABLE AS gone "
                f"FOR EACH STATEMENT EXECUTE FUNCTION sop_sales_line_reference_guard('restrict', '{column}', "
                f"'{label}')",
            ]
        for table, column in NULLED:
            statements += [
                f"DROP TRIGGER IF EXISTS {_trigger_name(table)} ON {table}",
                f"CREATE TRIGGER {_trigger_name(table)} AFTER DELETE ON {table} REFERENCING OLD TABLE AS gone "
                f"FOR EACH STATEMENT EXECUTE FUNCTION sop_sales_line_reference_guard('set_null', '{column}')",
            ]
        return statements
    if vendor == "sqlite":
        # No RESTRICT guard: SQLite's triggers cannot be deferred to commit, so one would also
        # stop Django's flush (which deletes products before sales lines in one transaction).
        # The embedded database has no writer but this app, whose ORM applies PROTECT.
        statements = [f"DROP TRIGGER IF EXISTS {_trigger_name(table)}" for table, *_ in RESTRICTED]
        for table, column in NULLED:
            statements += [
                f"DROP TRIGGER IF EXISTS {_trigger_name(table)}",
                f"CREATE TRIGGER {_trigger_name(table)} AFTER DELETE ON {table} "
                f"BEGIN UPDATE {SALES_TABLE} SET {column} = NULL WHERE {column} = OLD.id; END",
            ]
        return statements
    return []


def drop_statements(vendor: str) -> list[str]:
    tables = [t for t, *_ in RESTRICTED] + [t for t, _ in NULLED]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {_trigger_name(t)} ON {t}" for t in tables] + [
            "DROP FUNCTION IF EXISTS sop_sales_line_reference_guard()"
        ]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {_trigger_name(t)}" for t in tables]
    return []


def install_reference_guards(connection) -> bool:
    """(Re)create the guards when every table involved exists; True when installed."""
    tables = set(connection.introspection.table_names())
    needed = {SALES_TABLE, *(t for t, *_ in RESTRICTED), *(t for t, _ in NULLED)}
    if not needed <= tables:
        return False
    with connection.cursor() as cursor:
        for sql in guard_statements(connection.vendor):
            cursor.execute(sql)
    return True


def remove_reference_guards(connection) -> None:
    with connection.cursor() as cursor:
        for sql in drop_statements(connection.vendor):
            cursor.execute(sql)
