//! The `kabinet` command as an admin meets it: configuration errors, check-config, migrate,
//! import.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use kabinet::config::KEYS;

/// Runs `kabinet` in `dir` with only the given variables (no inherited configuration).
fn kabinet(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kabinet"));
    cmd.args(args).current_dir(dir).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("RUST_LOG", "warn");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("kabinet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_wrong_key_is_named_and_start_up_stops_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = kabinet(
        dir.path(),
        &["check-config"],
        &[
            ("DEFAULT_LANGUAGE", "en"),
            ("TELEGRAM_GLOBAL_RATE", "abc"),
            ("DATABASE_URL", "mysql://x"),
            ("TIMEZONE", "Mars/Base"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let problems: Vec<&str> = err.lines().filter(|l| l.contains("; accepted: ")).collect();
    assert_eq!(problems.len(), 4, "{err}");
    for key in [
        "DEFAULT_LANGUAGE",
        "TELEGRAM_GLOBAL_RATE",
        "DATABASE_URL",
        "TIMEZONE",
    ] {
        assert!(
            problems.iter().any(|l| l.starts_with(&format!("{key}: "))),
            "{key} in {err}"
        );
    }
    // The same check stops every command, not only check-config.
    let migrate = kabinet(dir.path(), &["migrate"], &[("TIMEZONE", "Mars/Base")]);
    assert_eq!(migrate.status.code(), Some(2));
    assert!(
        !dir.path().join("kabinet.db").exists(),
        "nothing was created"
    );
}

#[test]
fn check_config_prints_the_effective_values_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let token = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let out = kabinet(
        dir.path(),
        &["check-config"],
        &[
            ("BOT_TOKEN", token),
            ("API_TOKEN", "portal-secret-0123456789-0123456789"),
            (
                "DATABASE_URL",
                "postgres://kabinet:pa55word@db.example.kz/kabinet",
            ),
            ("SMS_PROVIDER", "mobizon"),
            ("MOBIZON_API_KEY", "kz-mobizon-key-abcdef"),
            ("CODE_SECRET", "0123456789abcdef0123456789abcdef"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("The configuration is valid."));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("BOT_TOKEN=7012****\n"), "{stdout}");
    assert!(stdout.contains("API_TOKEN=port****\n"));
    assert!(stdout.contains("DATABASE_URL=postgres://kabinet:****@db.example.kz/kabinet\n"));
    assert!(stdout.contains("MOBIZON_API_KEY=kz-m****\n"));
    assert!(stdout.contains("TIMEZONE=Asia/Almaty\n"));
    for secret in ["AAHdqTcvCH1v", "0123456789", "pa55word", "abcdef"] {
        assert!(
            !stdout.contains(secret) && !text(&out.stderr).contains(secret),
            "{secret} leaked"
        );
    }
    for key in KEYS {
        assert!(
            stdout.contains(&format!("\n{}=", key.name)),
            "{} missing",
            key.name
        );
    }
}

#[test]
fn dot_env_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DEFAULT_LANGUAGE=ru\nTIMEZONE=Asia/Aqtobe\n",
    )
    .unwrap();
    let out = kabinet(
        dir.path(),
        &["check-config"],
        &[("TIMEZONE", "Asia/Almaty")],
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("DEFAULT_LANGUAGE=ru\n"), "{stdout}");
    assert!(stdout.contains("TIMEZONE=Asia/Almaty\n"), "{stdout}");
}

#[test]
fn env_example_lists_every_key_with_its_default() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
    // The file is what the one table of keys says: regenerate it with the command below.
    let dir = tempfile::tempdir().unwrap();
    let generated = kabinet(dir.path(), &["check-config", "--env-example"], &[]);
    assert_eq!(
        text(&generated.stdout),
        example,
        ".env.example is out of date: kabinet check-config --env-example > .env.example"
    );
    for key in KEYS {
        let line = format!("\n{}={}\n", key.name, key.default);
        assert!(
            example.contains(&line),
            "{} is not listed as {line:?}",
            key.name
        );
    }
    // And the example itself reads without a problem: what `run` still needs is only what
    // each deployment must choose (the token, the code key, an SMS gateway).
    std::fs::write(dir.path().join(".env"), &example).unwrap();
    let check = kabinet(dir.path(), &["check-config"], &[]);
    let said = text(&check.stdout);
    assert_eq!(check.status.code(), Some(2), "{said}");
    assert!(!said.contains("warning:"), "{said}");
    let refusals: Vec<&str> = said
        .lines()
        .skip_while(|l| !l.starts_with("`kabinet run` would refuse"))
        .skip(1)
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        refusals,
        ["BOT_TOKEN", "CODE_SECRET", "SMS_PROVIDER"],
        "{said}"
    );
}

#[test]
fn migrate_creates_the_sqlite_database_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = kabinet(dir.path(), &["migrate"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("is up to date (8 migration(s) applied)"),
            "{}",
            text(&out.stdout)
        );
    }
    assert!(dir.path().join("kabinet.db").exists());
}

#[tokio::test]
async fn migrate_works_on_postgres() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let schema = format!("cli_{}", std::process::id());
    let admin = kabinet::storage::Storage::connect_str(&base, 1)
        .await
        .unwrap();
    admin
        .execute_raw(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
    admin
        .execute_raw(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options[search_path]={schema}");
    let dir = tempfile::tempdir().unwrap();
    let out = kabinet(dir.path(), &["migrate"], &[("DATABASE_URL", &url)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let tables = admin
        .fetch_i64(&format!(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{schema}'"
        ))
        .await
        .unwrap();
    assert!(tables >= 20, "{tables} tables");
    admin
        .execute_raw(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[test]
fn import_loads_a_document_and_names_each_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/demo.json");
    let out = kabinet(dir.path(), &["import", demo], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 refused"),
        "{}",
        text(&out.stdout)
    );

    let mut doc = kabinet::demo::document();
    doc["applications"][1]["parent"]["iin"] = "900315412349".into();
    doc["applications"][2]["status"] = "approved".into();
    doc["referrals"][0]["institution"] = "no-such-school".into();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, doc.to_string()).unwrap();
    let out = kabinet(dir.path(), &["import", bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("applications[1].parent.iin: the control digit does not match"),
        "{err}"
    );
    assert!(
        err.contains("applications[2].status: \"approved\" is not one of: submitted, in_review"),
        "{err}"
    );
    assert!(
        err.contains("referrals[0].institution: names a record that does not exist"),
        "{err}"
    );
    assert!(
        text(&out.stdout).contains("3 refused"),
        "{}",
        text(&out.stdout)
    );

    std::fs::write(&bad, "{\"localities\": [").unwrap();
    let out = kabinet(dir.path(), &["import", bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("is not valid JSON: EOF while parsing a list at line 1 column 16"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_large_import_shows_its_progress_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let localities: Vec<serde_json::Value> = (0..1200)
        .map(|i| serde_json::json!({"code": format!("loc-{i}"), "name_kk": format!("Ауыл {i}"), "name_ru": format!("Село {i}")}))
        .collect();
    let file = dir.path().join("large.json");
    std::fs::write(
        &file,
        serde_json::json!({ "localities": localities }).to_string(),
    )
    .unwrap();
    let out = kabinet(dir.path(), &["import", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("[###############---------------]  50% 600/1200 records"),
        "{err}"
    );
    assert!(
        err.contains("[##############################] 100% 1200/1200 records"),
        "{err}"
    );
    assert_eq!(
        text(&out.stdout).trim(),
        "1200 record(s): 1200 created, 0 updated, 0 unchanged, 0 refused."
    );
}

#[test]
fn run_needs_a_bot_token_a_code_secret_and_a_real_sms_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let out = kabinet(dir.path(), &["run"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for problem in [
        "BOT_TOKEN: is missing",
        "CODE_SECRET: is missing",
        // The default `log` provider against the real Telegram: codes would reach the log.
        "SMS_PROVIDER: is log",
    ] {
        assert!(err.contains(problem), "{problem} in {err}");
    }
    // check-config says the same, and fails as run would.
    let check = kabinet(dir.path(), &["check-config"], &[]);
    assert_eq!(check.status.code(), Some(2));
    let said = text(&check.stdout);
    assert!(
        said.contains("`kabinet run` would refuse to start:"),
        "{said}"
    );
    assert!(said.contains("CODE_SECRET: is missing"), "{said}");
    // The log provider is fine against a Bot API on this machine.
    let local = kabinet(
        dir.path(),
        &["check-config"],
        &[
            ("BOT_TOKEN", "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
            ("CODE_SECRET", "0123456789abcdef0123456789abcdef"),
            ("TELEGRAM_API_URL", "http://127.0.0.1:8081"),
        ],
    );
    assert!(
        !text(&local.stdout).contains("would refuse"),
        "{}",
        text(&local.stdout)
    );
}

#[test]
fn weak_secrets_and_hashes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = kabinet(
        dir.path(),
        &["check-config"],
        &[
            ("API_TOKEN", "sixteen-chars-xx"),
            ("CODE_SECRET", "short"),
            ("ARGON2_MEMORY_KIB", "1024"),
            ("ARGON2_ITERATIONS", "1"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for problem in [
        "API_TOKEN: is too short",
        "CODE_SECRET: is too short",
        "ARGON2_MEMORY_KIB: 1024 KiB with 1 pass(es) is below OWASP's minimum",
    ] {
        assert!(err.contains(problem), "{problem} in {err}");
    }
    // OWASP's other pairs are accepted: less memory, more passes.
    let ok = kabinet(
        dir.path(),
        &["check-config"],
        &[
            ("ARGON2_MEMORY_KIB", "12288"),
            ("ARGON2_ITERATIONS", "3"),
            ("BOT_TOKEN", "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
            ("CODE_SECRET", "0123456789abcdef0123456789abcdef"),
            ("TELEGRAM_API_URL", "http://127.0.0.1:8081"),
        ],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
}

#[test]
fn secret_prints_a_fresh_random_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = text(&kabinet(dir.path(), &["secret"], &[]).stdout);
    let second = text(&kabinet(dir.path(), &["secret"], &[]).stdout);
    let first = first.trim();
    assert_eq!(first.len(), 64, "{first}");
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(first, second.trim());
}

/// `kabinet run` against the simulator: it registers its commands, answers a parent, and
/// stops cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_and_stops_gracefully_on_sigterm() {
    use kabinet::sim::{SimConfig, Simulator, TOKEN};
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kabinet"));
    cmd.arg("run")
        .current_dir(dir.path())
        .env_clear()
        .env("BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", sim.api_url().as_str())
        .env("CODE_SECRET", "code-secret-for-this-test-0123456789")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let mut chat = sim.private_chat(42, "Айгерім", Some("kk"));
    chat.send_text("/start");
    let greeting = chat.next().await.unwrap();
    assert!(greeting.text.starts_with("Сәлеметсіз бе!"));
    assert!(!sim.commands(Some("kk")).is_empty());
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::time::timeout(std::time::Duration::from_secs(40), child.wait_with_output())
        .await
        .expect("stops in time")
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("stopped"),
        "{}",
        text(&out.stderr)
    );
}

/// `kabinet demo` driven as a person would at the terminal: the intro in the chosen
/// language, numbered buttons, the SMS with the code, and a toast printed as a line.
#[test]
fn the_demo_in_the_terminal_speaks_the_chosen_language_and_prints_toasts() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .args(["demo", "--lang", "ru"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kabinet demo starts");
    let printed = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = printed.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    // Waits until the terminal shows `what` (after `from` bytes), and returns where it ends.
    let wait_for = |what: &str, from: usize| -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = printed.lock().unwrap().clone();
            if let Some(at) = text[from.min(text.len())..].find(what) {
                return from + at + what.len();
            }
            assert!(Instant::now() < deadline, "{what:?} never came:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // The number the terminal gave a button, on the newest screen.
    let number_of = |label: &str| -> String {
        let text = printed.lock().unwrap().clone();
        let at = text.rfind(&format!("] {label}")).unwrap();
        let open = text[..at].rfind('[').unwrap();
        text[open + 1..at].to_owned()
    };
    let mut send = |line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    };

    let at = wait_for("Демо-родители:", 0);
    let intro = printed.lock().unwrap().clone();
    assert!(
        intro.contains("ИИН 900315412348") && !intro.contains("IIN"),
        "{intro}"
    );
    let at = wait_for("🇷🇺 Русский", at);
    send(&number_of("🇷🇺 Русский"));
    let at = wait_for("] Алматы", at);
    send(&number_of("Алматы"));
    let at = wait_for("] 🔐 Личный кабинет", at);
    send(&number_of("🔐 Личный кабинет"));
    let at = wait_for("(ИИН) — 12 цифр", at);
    send("900315412348");
    let at = wait_for("код подтверждения", at);
    let at = wait_for("] Продолжить", at);
    send(&number_of("Продолжить"));
    wait_for("💬 Отправьте 6-значный код из SMS в этот чат.", at);
    send("/quit");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the demo did not leave on /quit");
        std::thread::sleep(Duration::from_millis(50));
    };
    reader.join().unwrap();
    assert!(status.success());
    assert!(printed.lock().unwrap().ends_with("До свидания!\n"));
}

#[test]
fn backup_copies_the_sqlite_database_while_it_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = kabinet(dir.path(), &["migrate"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = kabinet(dir.path(), &["backup", "copy.db"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("is copied to copy.db"),
        "{}",
        text(&out.stdout)
    );
    // The copy is a whole database: Kabinet opens it and finds every migration applied.
    let out = kabinet(
        dir.path(),
        &["migrate"],
        &[("DATABASE_URL", "sqlite://copy.db")],
    );
    assert!(
        text(&out.stdout).contains("is up to date (8 migration(s) applied)"),
        "{}",
        text(&out.stdout)
    );
    // An existing file is never overwritten.
    let out = kabinet(dir.path(), &["backup", "copy.db"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("exists already"));
}

#[test]
fn backup_points_postgresql_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    // Refused before connecting: the address need not answer.
    let out = kabinet(
        dir.path(),
        &["backup", "copy.dump"],
        &[("DATABASE_URL", "postgres://kabinet@db.invalid/kabinet")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("pg_dump"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("copy.dump").exists());
}

#[test]
fn a_misspelt_key_in_dot_env_is_named_with_the_key_meant() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "BOT_TOKN=7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\nRUST_LOG=warn\nTIMEZONE=Asia/Almaty\n",
    )
    .unwrap();
    let check = kabinet(dir.path(), &["check-config"], &[]);
    let said = text(&check.stdout);
    assert!(
        said.contains(
            "warning: BOT_TOKN in .env is not a key Kabinet knows; did you mean BOT_TOKEN?"
        ),
        "{said}"
    );
    assert!(
        !said.contains("RUST_LOG in .env"),
        "another program's key: {said}"
    );
    assert!(
        !said.contains("AAHdqTcvCH1v"),
        "the value is never repeated: {said}"
    );
    // run refuses: the token it needs is missing, and says why it may be.
    let run = kabinet(dir.path(), &["run"], &[]);
    assert_eq!(run.status.code(), Some(2));
    let err = text(&run.stderr);
    assert!(err.contains("BOT_TOKEN: is missing"), "{err}");
    assert!(err.contains("did you mean BOT_TOKEN?"), "{err}");
    // Logged as a warning, without colour codes: stderr is not a terminal here.
    assert!(err.contains("WARN"), "{err}");
    assert!(!err.contains('\u{1b}'), "no escape codes in {err:?}");
}
