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

/// Runs `promtool` with `args` in `deploy/prometheus`; `None` when it is not installed (CI
/// installs Prometheus: there it must be found).
fn promtool(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("promtool")
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/prometheus"))
        .output()
    {
        Ok(out) => Some(out),
        Err(_) => {
            assert!(
                std::env::var_os("KABINET_REQUIRE_POSTGRES").is_none(),
                "promtool is missing on a CI machine"
            );
            eprintln!("promtool is not installed: the alert rules are not checked");
            None
        }
    }
}

#[test]
fn the_alert_rules_and_scrape_config_pass_promtool() {
    let Some(out) = promtool(&["check", "config", "prometheus.yml"]) else {
        return;
    };
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("SUCCESS: 8 rules found"), "{said}");
}

#[test]
fn the_alerts_fire_when_they_should() {
    let Some(out) = promtool(&["test", "rules", "alerts.test.yml"]) else {
        return;
    };
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
}

/// The metric names Kabinet serves, as `/metrics` declares them.
fn served_metrics() -> Vec<String> {
    let outbox = kabinet::storage::OutboxStats {
        pending: vec![
            ("question", 0, None),
            ("push", 0, None),
            ("announcement", 0, None),
        ],
        oldest_undelivered_answer: None,
    };
    let metrics = kabinet::metrics::Metrics::default();
    metrics.polled(kabinet::clock::now());
    metrics
        .render(Some(&outbox), true, kabinet::clock::now())
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect()
}

/// Every `kabinet_…` name in `text` is one Kabinet serves (a histogram's `_bucket`, `_sum`
/// and `_count` included): a renamed metric cannot leave a silent alert or an empty panel.
fn names_only_served_metrics(file: &str, text: &str) {
    let served = served_metrics();
    let names = regex::Regex::new(r"kabinet_[a-z_]+").unwrap();
    for name in names.find_iter(text).map(|m| m.as_str()) {
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        assert!(
            served.iter().any(|s| s == name || s == base),
            "{file} reads {name}, which /metrics does not serve"
        );
    }
}

#[test]
fn the_rules_and_the_dashboard_read_only_what_kabinet_serves() {
    names_only_served_metrics(
        "alerts.yml",
        include_str!("../deploy/prometheus/alerts.yml"),
    );
    let dashboard = include_str!("../deploy/prometheus/grafana-dashboard.json");
    let parsed: serde_json::Value = serde_json::from_str(dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().unwrap().len() >= 8);
    names_only_served_metrics("grafana-dashboard.json", dashboard);
}
