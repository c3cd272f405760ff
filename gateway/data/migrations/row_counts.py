"""The row counts of revision 0019, frozen as they ran (0020 made PostgreSQL's count change once per
transaction rather than once per row; its downgrade makes them again). See ``grid_counts`` for why a
migration keeps its DDL here."""

from __future__ import annotations

from gateway.data.order import COMMIT_ORDER_KEY


def counting_triggers(dialect: str, counts: str, table: str) -> list[str]:
    """DDL: triggers keeping the number of ``table``'s rows in ``counts``, for ``dialect``."""
    name = f"{table}_counted"
    if dialect == "postgresql":
        return [
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock({COMMIT_ORDER_KEY});
                INSERT INTO {counts} AS c (table_name, n)
                VALUES ('{table}', CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END)
                ON CONFLICT (table_name) DO UPDATE SET n = c.n + excluded.n;
                RETURN NULL;
            END $$""",
            f"""CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR DELETE ON {table}
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {name}()""",
            f"""CREATE FUNCTION {name}_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE {counts} SET n = 0 WHERE table_name = '{table}';
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER {name}_emptied AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {name}_emptied()""",
        ]

    def change(by: int) -> str:
        return f"""INSERT INTO {counts} (table_name, n) VALUES ('{table}', {by})
            ON CONFLICT (table_name) DO UPDATE SET n = n + {by};"""

    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {change(1)} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {change(-1)} END",
    ]


def counting_triggers_dropped(dialect: str, table: str) -> list[str]:
    name = f"{table}_counted"
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_emptied ON {table}",
            f"DROP FUNCTION IF EXISTS {name}()",
            f"DROP FUNCTION IF EXISTS {name}_emptied()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("insert", "delete")]


def recount(counts: str, table: str) -> list[str]:
    """Statements counting ``table``'s rows afresh."""
    return [
        f"DELETE FROM {counts} WHERE table_name = '{table}'",
        f"INSERT INTO {counts} (table_name, n) SELECT '{table}', count(*) FROM {table}",
    ]
