//! `deploy/`: the systemd unit is one systemd accepts (`systemd-analyze verify`), run
//! against the binary this build made, and it starts `kabinet run` with a graceful stop.
//! The reverse-proxy example routes what Kabinet serves.

use std::process::Command;

const UNIT: &str = include_str!("../deploy/kabinet.service");
const NGINX: &str = include_str!("../deploy/nginx/kabinet.conf");

#[test]
fn the_systemd_unit_verifies() {
    let Ok(found) = Command::new("systemd-analyze").arg("--version").output() else {
        // CI machines have systemd; a developer's machine without it skips this one.
        assert!(
            std::env::var_os("KABINET_REQUIRE_POSTGRES").is_none(),
            "systemd-analyze is missing on a CI machine"
        );
        eprintln!("systemd-analyze is not installed: the unit is not verified");
        return;
    };
    assert!(found.status.success());
    // The unit as installed names /usr/local/bin/kabinet; verify it against this build's.
    let dir = tempfile::tempdir().unwrap();
    let unit = UNIT.replace("/usr/local/bin/kabinet", env!("CARGO_BIN_EXE_kabinet"));
    assert_ne!(unit, UNIT, "the unit runs /usr/local/bin/kabinet");
    let path = dir.path().join("kabinet.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        !said.contains(path.to_str().unwrap()),
        "no remark on the unit: {said}"
    );
}

#[test]
fn the_unit_runs_kabinet_and_stops_it_gracefully() {
    assert!(UNIT.contains("ExecStart=/usr/local/bin/kabinet run\n"));
    assert!(UNIT.contains("KillSignal=SIGTERM\n"));
    assert!(UNIT.contains("EnvironmentFile=/etc/kabinet/kabinet.env\n"));
    // The stop waits for the updates in hand (15 s) and the sends (10 s).
    assert!(UNIT.contains("TimeoutStopSec=30s\n"));
}

#[test]
fn the_proxy_passes_the_webhook_and_the_api_on() {
    assert!(NGINX.contains("location = /telegram/webhook"));
    assert!(NGINX.contains("proxy_next_upstream error timeout http_503 non_idempotent;"));
    assert!(NGINX.contains("location /api/"));
    assert!(NGINX.contains("ssl_certificate "));
}
