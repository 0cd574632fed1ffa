//! SQLite on the calling thread, for what a button press reads and writes.
//!
//! sqlx runs every SQLite statement on a thread of the connection's own: each statement is
//! a round trip between threads, two thread switches and their system calls. A press reads
//! its chat and its screen's rows and writes its dialogue in three to six statements, and
//! those round trips were a third of the bot's CPU per press (BENCHMARKS.md, part 12). Here
//! the same SQL runs on one more connection to the same file, on the thread that asks: a
//! statement on a few rows by index takes microseconds, less than one thread switch.
//!
//! It never waits (no busy timeout: another writer's lock is the pool's to wait for) and
//! never blocks another thread (the connection is taken with `try_lock`); it writes only
//! single statements that commit at once (a chat's dialogue, its events marked read), so it
//! never holds SQLite's write lock across an await. Whenever it cannot answer at once — the
//! connection is in use, SQLite is busy, anything fails — the caller runs the same SQL on
//! the pool, which gives the same answer or reports the error. So it changes how fast a
//! statement is answered, never what it answers. PostgreSQL has no such connection: its
//! driver does its work on the async runtime's own threads already.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::types::ValueRef;

/// Why a value could not be read as the type asked for.
pub(crate) type DecodeError = Box<dyn std::error::Error + Send + Sync>;

/// A column's value as a Rust type: the same reading sqlx does for these types on SQLite.
pub(crate) trait Column: Sized {
    fn column(value: ValueRef<'_>) -> Result<Self, DecodeError>;
}

/// A row as a record, its columns found by name (as `sqlx::FromRow` finds them).
pub(crate) trait FromDirectRow: Sized {
    fn from_row(row: &rusqlite::Row<'_>) -> Result<Self, DecodeError>;
}

/// Implements [`FromDirectRow`] for a record whose fields are named like its columns; the
/// struct literal must name every field, so a field added to the record without being
/// added here does not compile.
macro_rules! direct_row {
    ($name:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::storage::direct::FromDirectRow for $name {
            fn from_row(
                row: &rusqlite::Row<'_>,
            ) -> Result<Self, $crate::storage::direct::DecodeError> {
                Ok($name {
                    $($field: $crate::storage::direct::get(row, stringify!($field))?,)+
                })
            }
        }
    };
}
pub(crate) use direct_row;

/// The column `name` of `row`.
pub(crate) fn get<T: Column>(row: &rusqlite::Row<'_>, name: &str) -> Result<T, DecodeError> {
    T::column(row.get_ref(name)?)
}

fn text<'a>(value: ValueRef<'a>) -> Result<&'a str, DecodeError> {
    Ok(value.as_str()?)
}

impl Column for String {
    fn column(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        text(value).map(str::to_owned)
    }
}

impl Column for i64 {
    fn column(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        Ok(value.as_i64()?)
    }
}

impl Column for bool {
    fn column(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        Ok(value.as_i64()? != 0)
    }
}

impl<T: Column> Column for Option<T> {
    fn column(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Null => Ok(None),
            value => T::column(value).map(Some),
        }
    }
}

impl Column for DateTime<Utc> {
    fn column(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        // sqlx writes RFC 3339 (`2026-12-04T09:30:00.5+00:00`); a space for the `T` is read
        // too, as sqlx reads it.
        let text = text(value)?;
        let parsed = DateTime::parse_from_rfc3339(text)
            .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))?;
        Ok(parsed.with_timezone(&Utc))
    }
}

impl Column for NaiveDate {
    fn column(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        Ok(NaiveDate::parse_from_str(text(value)?, "%F")?)
    }
}

impl<A: Column, B: Column> FromDirectRow for (A, B) {
    fn from_row(row: &rusqlite::Row<'_>) -> Result<Self, DecodeError> {
        Ok((A::column(row.get_ref(0)?)?, B::column(row.get_ref(1)?)?))
    }
}

/// A parameter as sqlx binds it on SQLite, so comparisons with stored values agree.
pub(crate) enum Param<'a> {
    Int(i64),
    Text(&'a str),
    Owned(String),
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(s: &'a str) -> Self {
        Param::Text(s)
    }
}

impl From<DateTime<Utc>> for Param<'_> {
    fn from(t: DateTime<Utc>) -> Self {
        Param::Owned(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
    }
}

impl From<NaiveDate> for Param<'_> {
    fn from(d: NaiveDate) -> Self {
        Param::Owned(d.format("%F").to_string())
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Int(n) => n.to_sql(),
            Param::Text(s) => s.to_sql(),
            Param::Owned(s) => s.to_sql(),
        }
    }
}

/// The parameters of a direct statement, `$1` first.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::storage::direct::Param::from($value)),*]
    };
}
pub(crate) use params;

/// One connection of its own to the SQLite file, used on the thread that asks.
pub(crate) struct Direct {
    conn: Mutex<rusqlite::Connection>,
    /// Statements it left to the pool.
    passed: AtomicU64,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("passed", &self.passed.load(Ordering::Relaxed))
            .finish()
    }
}

/// The names of the first parameters, so binding them allocates nothing.
const PARAMETER_NAMES: [&str; 8] = ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8"];

/// Statements kept prepared: every one a press runs, with room to spare.
const STATEMENT_CACHE: usize = 64;

impl Direct {
    /// Opens the file the pool uses; `None` for an in-memory database (another connection
    /// would see another database) or a file that cannot be opened.
    pub(crate) fn open(options: &sqlx::sqlite::SqliteConnectOptions) -> Option<Direct> {
        let file = options.get_filename();
        let name = file.to_string_lossy();
        if name.is_empty() || name == ":memory:" || name.starts_with("file:") {
            return None;
        }
        let opened = rusqlite::Connection::open_with_flags(
            file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            // Never waits: a busy database is the pool's to wait for.
            conn.busy_timeout(std::time::Duration::ZERO)?;
            // As the pool's connections (`sqlite.rs`); WAL is the file's own already.
            conn.pragma_update(None, "foreign_keys", true)?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            Ok(conn)
        });
        match opened {
            Ok(conn) => Some(Direct {
                conn: Mutex::new(conn),
                passed: AtomicU64::new(0),
            }),
            Err(error) => {
                tracing::warn!(%error, "every SQLite statement goes through the pool");
                None
            }
        }
    }

    /// Runs `sql` with `params` through `step` on the connection if it is free; `None` leaves
    /// the statement to the pool.
    fn run<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        step: impl FnOnce(&mut rusqlite::Statement<'_>) -> Result<T, DecodeError>,
    ) -> Option<T> {
        let Ok(conn) = self.conn.try_lock() else {
            self.passed.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let result = conn
            .prepare_cached(sql)
            .map_err(DecodeError::from)
            .and_then(|mut statement| {
                for (i, param) in params.iter().enumerate() {
                    // `$1` … by name: SQLite numbers parameters in the order they first appear.
                    let index = match PARAMETER_NAMES.get(i) {
                        Some(name) => statement.parameter_index(name)?,
                        None => statement.parameter_index(&format!("${}", i + 1))?,
                    }
                    .ok_or("a parameter the statement does not have")?;
                    statement.raw_bind_parameter(index, param)?;
                }
                step(&mut statement)
            });
        match result {
            Ok(found) => Some(found),
            Err(error) => {
                self.passed.fetch_add(1, Ordering::Relaxed);
                let busy = matches!(
                    error.downcast_ref::<rusqlite::Error>(),
                    Some(rusqlite::Error::SqliteFailure(e, _))
                        if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                );
                if !busy {
                    // A statement the pool runs and this connection cannot is a bug here.
                    tracing::warn!(%error, "a direct SQLite statement failed; the pool runs it");
                }
                None
            }
        }
    }

    /// Every row.
    pub(crate) fn all<T: FromDirectRow>(&self, sql: &str, params: &[Param<'_>]) -> Option<Vec<T>> {
        self.run(sql, params, |statement| {
            let mut rows = statement.raw_query();
            let mut all = Vec::new();
            while let Some(row) = rows.next()? {
                all.push(T::from_row(row)?);
            }
            Ok(all)
        })
    }

    /// The first row, if there is one.
    pub(crate) fn optional<T: FromDirectRow>(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Option<Option<T>> {
        self.run(sql, params, |statement| {
            match statement.raw_query().next()? {
                Some(row) => T::from_row(row).map(Some),
                None => Ok(None),
            }
        })
    }

    /// The first column of the first row, if there is one.
    pub(crate) fn scalar<T: Column>(&self, sql: &str, params: &[Param<'_>]) -> Option<Option<T>> {
        self.run(sql, params, |statement| {
            match statement.raw_query().next()? {
                Some(row) => T::column(row.get_ref(0)?).map(Some),
                None => Ok(None),
            }
        })
    }

    /// Runs one statement that writes and commits at once; the rows it changed.
    pub(crate) fn write(&self, sql: &str, params: &[Param<'_>]) -> Option<u64> {
        self.run(sql, params, |statement| Ok(statement.raw_execute()? as u64))
    }

    /// How many statements were left to the pool since the start.
    pub(crate) fn passed(&self) -> u64 {
        self.passed.load(Ordering::Relaxed)
    }
}
