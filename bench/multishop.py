"""A warehouse of M shops made from one synced shop: its raw rows copied M-1 times in SQL.

Every raw table is keyed by the account it came from: ``shop`` in ``raw_shopify``,
``account_id`` in ``raw_ads`` and ``raw_shipping`` (with the provider's ``label_id``).
A copy gets a new ``shop`` (``<shop>-x02`` ...), and its ad and shipping accounts and label
ids a ``-x02`` ... suffix; every other column, Shopify's GIDs included, stays as it is, so a
copy's reports must equal the original's figure for figure. The ``source_accounts`` seed
maps every account to its shop (with more than one shop, dbt no longer maps accounts to the
only shop), and every seed row naming the original shop is repeated for each copy.
"""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
from benchlib import table_columns
from psycopg import sql

RAW_SCHEMAS = ("raw_shopify", "raw_ads", "raw_shipping")
# Columns that carry an account's identity, suffixed per copy; ``shop`` is replaced.
SUFFIXED = {"account_id", "label_id"}


def copy_shop(shop: str, index: int) -> str:
    """The shop key of copy ``index`` (2 ... M; 1 is the original)."""
    return f"{shop}-x{index:02d}"


def clone_database(admin_dsn: str, source: str, target: str) -> None:
    """``CREATE DATABASE target TEMPLATE source`` (nobody may be connected to ``source``)."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(target), sql.Identifier(source)))


def primary_keys(conn: psycopg.Connection, schema: str) -> dict[str, list[str]]:
    """Every base table of ``schema`` and its primary key columns (empty list: none)."""
    rows = conn.execute(
        """
        select c.relname, coalesce(array_agg(a.attname order by k.ord) filter (where a.attname is not null), '{}')
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        left join pg_index i on i.indrelid = c.oid and i.indisprimary
        left join lateral unnest(i.indkey) with ordinality as k (attnum, ord) on true
        left join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
        where n.nspname = %s and c.relkind = 'r'
        group by c.relname
        """,
        (schema,),
    ).fetchall()
    return {name: list(keys) for name, keys in rows}


def _expression(schema: str, table: str, column: str, shop: str) -> sql.Composable:
    """The copy's value of ``column`` (``k`` is the copy's index in the generated series)."""
    name = sql.Identifier(column)
    suffix = sql.SQL("'-x' || lpad(k::text, 2, '0')")
    if column == "shop":
        return sql.SQL("{} || {}").format(sql.Literal(shop), suffix)
    if column in SUFFIXED or (schema, table, column) == ("raw_shopify", "shop", "name"):
        return sql.SQL("{} || {}").format(name, suffix)
    if (schema, table, column) == ("raw_shopify", "shop", "myshopify_domain"):
        return sql.SQL("{} || {} || '.myshopify.com'").format(sql.Literal(shop), suffix)
    return name


def copy_raw_rows(dsn: str, shop: str, shops: int) -> dict[str, tuple[list[str], int, int]]:
    """Copy every raw table's rows ``shops - 1`` times; return table -> (primary key, rows before, after).

    A table without a primary key, or whose key holds no column a copy changes, stops the
    benchmark: its copies would not be distinct rows of another shop.
    """
    done: dict[str, tuple[list[str], int, int]] = {}
    with psycopg.connect(dsn) as conn:
        for schema in RAW_SCHEMAS:
            for table, keys in sorted(primary_keys(conn, schema).items()):
                if not set(keys) & (SUFFIXED | {"shop"}):
                    raise SystemExit(f"{schema}.{table}: primary key {keys or 'missing'} has no shop or account column")
                columns = table_columns(conn, schema, table)
                relation = sql.Identifier(schema, table)
                before = conn.execute(sql.SQL("select count(*) from {}").format(relation)).fetchone()[0]  # type: ignore[index]
                conn.execute(
                    sql.SQL("insert into {} ({}) select {} from {} cross join generate_series(2, {}) as k").format(
                        relation,
                        sql.SQL(", ").join(map(sql.Identifier, columns)),
                        sql.SQL(", ").join(_expression(schema, table, column, shop) for column in columns),
                        relation,
                        sql.Literal(shops),
                    )
                )
                after = conn.execute(sql.SQL("select count(*) from {}").format(relation)).fetchone()[0]  # type: ignore[index]
                done[f"{schema}.{table}"] = (keys, before, after)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in done:
            conn.execute(sql.SQL("vacuum analyze {}").format(sql.Identifier(*name.split("."))))
    return done


def accounts(dsn: str) -> list[tuple[str, str, str]]:
    """(source, platform, account_id) of every ad and shipping account in the raw tables."""
    with psycopg.connect(dsn) as conn:
        tables = primary_keys(conn, "raw_ads")
        parts = [
            sql.SQL("select 'ads', platform, account_id::text from {}").format(sql.Identifier("raw_ads", table))
            for table in tables
            if table == "ad_spend_daily" or table.endswith("_ad_accounts")
        ]
        if "shipping_labels" in primary_keys(conn, "raw_shipping"):
            parts.append(sql.SQL("select 'shipping', provider, account_id::text from raw_shipping.shipping_labels"))
        if not parts:
            return []
        rows = conn.execute(sql.SQL(" union ").join(parts) + sql.SQL(" order by 1, 2, 3")).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def write_seeds(seeds: Path, shop: str, shops: int, synced_accounts: list[tuple[str, str, str]]) -> dict[str, int]:
    """Map every account to its shop in ``source_accounts.csv`` and repeat rows naming ``shop`` per copy.

    Returns seed name -> rows added.
    """
    added: dict[str, int] = {}
    for path in sorted(seeds.glob("*.csv")):
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
        if "shop" not in fields:
            continue
        extra = []
        for index in range(2, shops + 1):
            for row in rows:
                if row["shop"] == shop:
                    extra.append({**row, "shop": copy_shop(shop, index)})
        if path.stem == "source_accounts":
            seeded = {(row["source"], row["platform"], row["account_id"]) for row in rows}
            for source, platform, account in synced_accounts:
                if (source, platform, account) in seeded:
                    continue  # already mapped by the merchant
                extra.append({"source": source, "platform": platform, "account_id": account, "shop": shop})
                for index in range(2, shops + 1):
                    copied = f"{account}-x{index:02d}"
                    extra.append(
                        {"source": source, "platform": platform, "account_id": copied, "shop": copy_shop(shop, index)}
                    )
        if extra:
            with path.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows + extra)
            added[path.stem] = len(extra)
    return added
