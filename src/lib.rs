//! Kabinet: the parents' personal cabinet of an education-services portal, as a Telegram bot.
//!
//! The layout is the architecture; dependencies point inward:
//!
//! - [`config`]: the environment, typed and validated once.
//! - [`domain`]: values that are valid by construction (IIN, phone, statuses …).
//! - [`i18n`]: every text a parent reads, in Kazakh and Russian.
//! - [`storage`]: the one database interface, over SQLite or PostgreSQL.
//! - [`ingest`]: what the portal sends, checked field by field and written.
//! - [`auth`] hashes passwords and seals codes; [`login`] is the login policy the bot asks:
//!   who may try what, how often, and what a right or wrong answer does.
//! - [`demo`]: the demo data set and its loader; [`demo_chat`]: `kabinet demo` in a terminal.
//! - [`bot`], [`api`], [`notify`], [`sim`]: the Telegram bot, the integration API, the push
//!   sender (with the referral reminder) and the Telegram simulator.
//! - [`app`]: `kabinet run` as one value; [`metrics`]: the counters behind `/metrics`;
//!   [`maintenance`]: sessions that end on time and history deleted after `RETENTION_DAYS`.

/// mimalloc for the whole service (and so for its tests and benchmarks, which run it
/// in-process). glibc's allocator kept the peak of a burst for good: after 10,000 chats
/// pressed at once the process stayed at 400 MB although 80 MB were in use; and in the load
/// benchmark a quarter of the CPU went to glibc's malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands memory the allocator holds freed back to the system. mimalloc purges freed pages
/// lazily, on later allocations; after a burst the threads that served it can stay idle,
/// and the process then kept anywhere from 100 to 160 MiB of the burst's peak at rest.
/// `kabinet run` calls this every few seconds (see [`app`]); a forced collection also purges
/// the pages other threads freed.
pub fn return_freed_memory() {
    // SAFETY: mi_collect has no preconditions; it is safe from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod bot;
pub mod channels;
pub mod clock;
pub mod config;
pub mod demo;
pub mod demo_chat;
pub mod domain;
pub mod i18n;
pub mod ingest;
pub mod login;
pub mod maintenance;
pub mod messages;
pub mod metrics;
pub mod notify;
pub mod served;
pub mod sim;
pub mod storage;
pub mod telegram;
