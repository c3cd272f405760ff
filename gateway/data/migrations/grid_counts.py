"""The per-grid counts of revisions 0017 and 0018, frozen as they ran (0019 replaced them by one row per
table; its downgrade makes them again). Migrations keep their DDL here, not in the engine's code, so
that changing the engine never changes what an old revision does."""

from __future__ import annotations

# Rows with no grid were counted under this key (no grid has id 0).
NO_GRID = 0


def counting_triggers(dialect: str, counts: str, table: str, area: str) -> list[str]:
    """DDL: triggers keeping ``table``'s rows per ``area`` column in ``counts``, for ``dialect``."""
    name = f"{table}_counted"
    if dialect == "postgresql":
        return [
            counting_function(counts, table, area),
            f"""CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {area} ON {table}
            FOR EACH ROW EXECUTE FUNCTION {name}()""",
            f"""CREATE FUNCTION {name}_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM {counts} WHERE table_name = '{table}';
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER {name}_emptied AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {name}_emptied()""",
        ]
    add = f"""INSERT INTO {counts} (table_name, grid_key, n) VALUES ('{table}', coalesce(NEW.{area}, {NO_GRID}), 1)
            ON CONFLICT (table_name, grid_key) DO UPDATE SET n = n + 1;"""
    take = f"""UPDATE {counts} SET n = n - 1
            WHERE table_name = '{table}' AND grid_key = coalesce(OLD.{area}, {NO_GRID});"""
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {take} END",
        f"""CREATE TRIGGER {name}_move AFTER UPDATE OF {area} ON {table}
        WHEN NEW.{area} IS NOT OLD.{area} BEGIN {take} {add} END""",
    ]


def counting_function(counts: str, table: str, area: str, replace: bool = False) -> str:
    """PostgreSQL: the function of ``table``'s count trigger. A move takes the two grids' rows in the
    order of their keys, whichever way it goes: two moves in opposite directions at once would otherwise
    each hold one row and wait for the other's (a deadlock, one of them aborted)."""
    add = f"""INSERT INTO {counts} AS c (table_name, grid_key, n)
                        VALUES ('{table}', coalesce(NEW.{area}, {NO_GRID}), 1)
                        ON CONFLICT (table_name, grid_key) DO UPDATE SET n = c.n + 1;"""
    take = f"""UPDATE {counts} SET n = n - 1
                        WHERE table_name = '{table}' AND grid_key = coalesce(OLD.{area}, {NO_GRID});"""
    create = "CREATE OR REPLACE" if replace else "CREATE"
    return f"""{create} FUNCTION {table}_counted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.{area} IS NOT DISTINCT FROM OLD.{area} THEN
                    RETURN NULL;
                END IF;
                IF TG_OP = 'INSERT' THEN
                    {add}
                ELSIF TG_OP = 'DELETE' THEN
                    {take}
                ELSIF coalesce(OLD.{area}, {NO_GRID}) < coalesce(NEW.{area}, {NO_GRID}) THEN
                    {take}
                    {add}
                ELSE
                    {add}
                    {take}
                END IF;
                RETURN NULL;
            END $$"""


def counting_triggers_dropped(dialect: str, table: str) -> list[str]:
    name = f"{table}_counted"
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_emptied ON {table}",
            f"DROP FUNCTION IF EXISTS {name}()",
            f"DROP FUNCTION IF EXISTS {name}_emptied()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("insert", "delete", "move")]


def recount(counts: str, table: str, area: str) -> list[str]:
    """Statements counting ``table``'s rows afresh (after a bulk load made with the triggers off)."""
    return [
        f"DELETE FROM {counts} WHERE table_name = '{table}'",
        f"""INSERT INTO {counts} (table_name, grid_key, n)
        SELECT '{table}', coalesce({area}, {NO_GRID}), count(*) FROM {table} GROUP BY coalesce({area}, {NO_GRID})""",
    ]
