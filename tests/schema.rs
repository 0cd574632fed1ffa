//! The two schemas describe the same data: `migrations/sqlite` and `migrations/postgres`,
//! each migrated from empty, have the same tables, columns (types mapped, NOT NULL alike),
//! primary and unique keys, indexes, CHECKed vocabularies and foreign keys. A change made to
//! one migration set and forgotten in the other fails here.

mod common;

use std::collections::BTreeSet;

use regex::Regex;
use sqlx::Row;

/// A schema as both backends can be read: names and shapes, no engine's own spelling.
#[derive(Debug, Default, PartialEq, Eq)]
struct Catalog {
    /// (table, column, type family, not null)
    columns: BTreeSet<(String, String, &'static str, bool)>,
    /// (table, columns)
    primary_keys: BTreeSet<(String, Vec<String>)>,
    /// (table, columns) of UNIQUE constraints
    uniques: BTreeSet<(String, Vec<String>)>,
    /// (name, table, columns, unique, partial)
    indexes: BTreeSet<(String, String, Vec<String>, bool, bool)>,
    /// (table, column, allowed values)
    checks: BTreeSet<(String, String, Vec<String>)>,
    /// (table, column, referenced table, referenced column, on delete)
    foreign_keys: BTreeSet<(String, String, String, String, String)>,
}

/// The type families both engines store alike: SQLite keeps booleans as integers and
/// times as text.
fn family(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "boolean" => "integer",
        "text" | "timestamp with time zone" | "date" => "text",
        other => panic!("a column type the comparison does not know: {other}"),
    }
}

/// The quoted values of an `IN (…)` or `ARRAY[…]` list, sorted.
fn values(list: &str) -> Vec<String> {
    let quoted = Regex::new(r"'([^']*)'").unwrap();
    let mut values: Vec<String> = quoted
        .captures_iter(list)
        .map(|c| c[1].to_owned())
        .collect();
    values.sort();
    values
}

async fn sqlite_catalog(url: &str) -> Catalog {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let mut c = Catalog::default();
    let tables = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let check = Regex::new(r"CHECK \((\w+) IN \(([^)]*)\)\)").unwrap();
    for t in &tables {
        let (table, sql): (String, String) = (t.get(0), t.get(1));
        let mut pk: Vec<(i64, String)> = Vec::new();
        for col in sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            let (name, declared, not_null, in_pk): (String, String, bool, i64) =
                (col.get(0), col.get(1), col.get(2), col.get(3));
            if in_pk > 0 {
                pk.push((in_pk, name.clone()));
            }
            c.columns.insert((
                table.clone(),
                name,
                family(&declared),
                not_null || in_pk > 0,
            ));
        }
        pk.sort();
        c.primary_keys
            .insert((table.clone(), pk.into_iter().map(|(_, n)| n).collect()));
        for m in check.captures_iter(&sql) {
            c.checks
                .insert((table.clone(), m[1].to_owned(), values(&m[2])));
        }
        for index in
            sqlx::query("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .unwrap()
        {
            let (name, unique, origin, partial): (String, bool, String, bool) =
                (index.get(0), index.get(1), index.get(2), index.get(3));
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            match origin.as_str() {
                "u" => {
                    c.uniques.insert((table.clone(), columns));
                }
                "c" => {
                    c.indexes
                        .insert((name, table.clone(), columns, unique, partial));
                }
                _ => {}
            }
        }
        for fk in sqlx::query(
            "SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list(?)",
        )
        .bind(&table)
        .fetch_all(&pool)
        .await
        .unwrap()
        {
            c.foreign_keys.insert((
                table.clone(),
                fk.get(0),
                fk.get(1),
                fk.get(2),
                fk.get::<String, _>(3).to_ascii_uppercase(),
            ));
        }
    }
    // CHECKs SQLite keeps as triggers (added to existing tables: see the migration).
    let trigger_check = Regex::new(r"NEW\.(\w+) NOT IN \(([^)]*)\)").unwrap();
    for t in sqlx::query(
        "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_check_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let (table, sql): (String, String) = (t.get(0), t.get(1));
        for m in trigger_check.captures_iter(&sql) {
            c.checks
                .insert((table.clone(), m[1].to_owned(), values(&m[2])));
        }
    }
    pool.close().await;
    c
}

async fn postgres_catalog(url: &str) -> Catalog {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let mut c = Catalog::default();
    for col in sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
           FROM information_schema.columns \
          WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let (table, name, declared, nullable): (String, String, String, String) =
            (col.get(0), col.get(1), col.get(2), col.get(3));
        c.columns
            .insert((table, name, family(&declared), nullable == "NO"));
    }
    let constraints = sqlx::query(
        "SELECT rel.relname::text, con.contype::text, pg_get_constraintdef(con.oid), \
                ARRAY(SELECT att.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.n \
                      ORDER BY k.i) \
           FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid \
           JOIN pg_namespace ns ON ns.oid = rel.relnamespace \
          WHERE ns.nspname = current_schema() AND rel.relname NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let check = Regex::new(r"\(\(?(\w+)\)?(?:::text)? = ANY \(\(?ARRAY\[(.*?)\]").unwrap();
    let fk = Regex::new(r"REFERENCES (\w+)\((\w+)\)(?: ON DELETE (CASCADE|SET NULL|RESTRICT))?")
        .unwrap();
    for con in constraints {
        let (table, kind, definition, columns): (String, String, String, Vec<String>) =
            (con.get(0), con.get(1), con.get(2), con.get(3));
        match kind.as_str() {
            "p" => {
                c.primary_keys.insert((table, columns));
            }
            "u" => {
                c.uniques.insert((table, columns));
            }
            "c" => {
                let m = check.captures(&definition).unwrap_or_else(|| {
                    panic!("a CHECK the comparison does not read: {definition}")
                });
                c.checks.insert((table, m[1].to_owned(), values(&m[2])));
            }
            "f" => {
                let m = fk.captures(&definition).unwrap_or_else(|| {
                    panic!("a foreign key the comparison does not read: {definition}")
                });
                let on_delete = m.get(3).map_or("NO ACTION", |d| d.as_str()).to_owned();
                c.foreign_keys.insert((
                    table,
                    columns[0].clone(),
                    m[1].to_owned(),
                    m[2].to_owned(),
                    on_delete,
                ));
            }
            _ => {}
        }
    }
    let constraint_indexes: BTreeSet<String> = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint con JOIN pg_namespace ns ON ns.oid = con.connamespace \
          WHERE ns.nspname = current_schema() AND con.contype IN ('p', 'u')",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let columns_of = Regex::new(r"USING \w+ \((.*?)\)(?: WHERE|$)").unwrap();
    for index in sqlx::query(
        "SELECT indexname::text, tablename::text, indexdef FROM pg_indexes \
          WHERE schemaname = current_schema() AND tablename NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let (name, table, definition): (String, String, String) =
            (index.get(0), index.get(1), index.get(2));
        if constraint_indexes.contains(&name) {
            continue;
        }
        let columns = columns_of.captures(&definition).unwrap()[1]
            .split(", ")
            .map(|c| c.trim_end_matches(" DESC").to_owned())
            .collect();
        let unique = definition.starts_with("CREATE UNIQUE");
        let partial = definition.contains(" WHERE ");
        c.indexes.insert((name, table, columns, unique, partial));
    }
    pool.close().await;
    c
}

#[tokio::test]
async fn sqlite_and_postgres_migrate_to_the_same_schema() {
    let sqlite = common::TestDb::sqlite().await;
    let Some(postgres) = common::TestDb::postgres().await else {
        eprintln!("TEST_DATABASE_URL is not set: the schemas are not compared");
        return;
    };
    let (lite, pg) = (
        sqlite_catalog(&sqlite.url).await,
        postgres_catalog(&postgres.url).await,
    );
    eprintln!(
        "compared: {} columns, {} primary keys, {} unique constraints, {} indexes, {} checks, {} foreign keys",
        lite.columns.len(),
        lite.primary_keys.len(),
        lite.uniques.len(),
        lite.indexes.len(),
        lite.checks.len(),
        lite.foreign_keys.len()
    );
    assert!(lite.columns.len() > 100 && lite.indexes.len() > 20 && lite.checks.len() > 10);
    // Field by field, so a difference says where it is.
    assert_eq!(
        lite.columns, pg.columns,
        "columns (table, column, type, not null)"
    );
    assert_eq!(lite.primary_keys, pg.primary_keys, "primary keys");
    assert_eq!(lite.uniques, pg.uniques, "unique constraints");
    assert_eq!(lite.indexes, pg.indexes, "indexes");
    assert_eq!(lite.checks, pg.checks, "CHECKed vocabularies");
    assert_eq!(lite.foreign_keys, pg.foreign_keys, "foreign keys");
    // The statuses the code knows are among them.
    assert!(
        lite.checks
            .iter()
            .any(|(t, c, _)| t == "applications" && c == "status")
    );
    sqlite.cleanup().await;
    postgres.cleanup().await;
}

/// A status the code does not know is refused by the database itself, on both backends.
async fn an_unknown_status_is_refused(storage: kabinet::storage::Storage) {
    kabinet::demo::load(&storage, common::demo_now())
        .await
        .unwrap();
    let refused = storage
        .execute_raw("UPDATE applications SET status = 'teleported'")
        .await;
    assert!(refused.is_err(), "the CHECK holds");
    let refused = storage
        .execute_raw("UPDATE events SET kind = 'anything'")
        .await;
    assert!(refused.is_err(), "the CHECK holds");
    assert!(
        storage
            .execute_raw("UPDATE applications SET privilege = NULL")
            .await
            .is_ok(),
        "a privilege may be absent"
    );
}

on_both_backends! {
    an_unknown_status_is_refused,
}
