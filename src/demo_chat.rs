//! `kabinet demo`: the whole bot with demo data, in the terminal. The simulator stands in for
//! Telegram; the terminal is the parent's chat: bot messages with their buttons numbered,
//! the parent types text or a button's number.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::channels::sms::SmsSender;
use crate::config::Config;
use crate::domain::Language;
use crate::sim::{ChatHandle, MessageView, SimConfig, Simulator};
use crate::storage::Storage;

/// The demo parent's Telegram user id.
const DEMO_USER: i64 = 100_001;

pub async fn run(config: &Config, lang: Language) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let storage = Storage::connect_str(&url, 5).await?;
    storage.migrate().await?;
    crate::demo::load(&storage, crate::clock::now()).await?;

    let sim = Simulator::start(SimConfig::default()).await?;
    let mut config = config.clone();
    config.telegram_api_url = sim.api_url();
    config.sms = crate::config::SmsConfig::Log;
    // The SMS with the code appears in the terminal, as it would on the parent's phone.
    let sms = SmsSender::Log(Arc::new(|line: &str| println!("\n{line}\n")));
    // The demo is the whole of `kabinet run` but the integration API; its /healthz and
    // /metrics take any free port, so that it runs beside a real Kabinet.
    config.api_token = None;
    config.admin_listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    // An answer to a question goes to the portal's webhook: here a receiver on this machine
    // that prints what the portal would get.
    config.portal_webhook = Some(print_portal_posts().await?);
    let kabinet = crate::app::start(
        Arc::new(config),
        storage.clone(),
        crate::sim::TOKEN,
        Duration::from_secs(1),
        crate::app::Outlets { sms, mail: None },
    )
    .await?;

    print_intro(lang);
    let mut chat = sim.private_chat(DEMO_USER, "Demo", Some(lang.code()));
    chat.send_text("/start");
    let mut terminal = Terminal::default();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            change = chat.next_within(Duration::from_secs(3600)) => {
                if let Ok(message) = change {
                    terminal.print(&message);
                }
            }
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { break };
                if !terminal.handle_input(line.trim(), &chat) {
                    break;
                }
            }
        }
    }
    kabinet.stop().await;
    storage.close().await;
    println!("Сау болыңыз! / До свидания!");
    Ok(())
}

/// A stand-in for the portal's webhook that prints each POST it gets and acknowledges it.
async fn print_portal_posts() -> anyhow::Result<crate::config::PortalWebhookConfig> {
    use axum::http::HeaderMap;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = url::Url::parse(&format!("http://{}/answers", listener.local_addr()?))?;
    let app = axum::Router::new().route(
        "/answers",
        axum::routing::post(|headers: HeaderMap, body: String| async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            print!(
                "\n🌐 POST → portal (PORTAL_WEBHOOK_URL)\n   X-Kabinet-Delivery: {}\n   X-Kabinet-Signature: {}\n   {body}\n> ",
                header(crate::channels::portal::DELIVERY_HEADER),
                header(crate::channels::portal::SIGNATURE_HEADER),
            );
            let _ = std::io::stdout().flush();
            axum::http::StatusCode::NO_CONTENT
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(crate::config::PortalWebhookConfig {
        url,
        secret: crate::config::Secret::new(&crate::config::new_secret()),
    })
}

fn print_intro(lang: Language) {
    let doc = crate::demo::document();
    let locality_name = |code: &str| {
        doc["localities"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["code"] == code)
            .and_then(|l| l[format!("name_{}", lang.code())].as_str())
            .unwrap_or(code)
            .to_owned()
    };
    let iin = match lang {
        Language::Kk => "ЖСН",
        Language::Ru => "ИИН",
    };
    let parents: Vec<String> = crate::demo::parents()
        .into_iter()
        .map(|p| {
            format!(
                "  {} · {iin} {} · {}",
                locality_name(&p.locality),
                p.iin,
                p.full_name
            )
        })
        .collect();
    let intro = match lang {
        Language::Kk => {
            "Kabinet демо: сіз — Telegram-дағы ата-анасыз. Мәтін жазыңыз немесе батырманың нөмірін енгізіңіз; /quit — шығу.\nДемо ата-аналар:"
        }
        Language::Ru => {
            "Kabinet демо: вы — родитель в Telegram. Пишите текст или номер кнопки; /quit — выход.\nДемо-родители:"
        }
    };
    println!("{intro}\n{}\n", parents.join("\n"));
}

/// What the terminal shows, and the buttons its numbers stand for.
#[derive(Default)]
struct Terminal {
    /// Buttons of the newest screen, in the order they were numbered: the label, and what a
    /// copy button copies.
    buttons: Vec<(String, Option<String>)>,
    /// Edits already printed, per message.
    printed: HashMap<i64, u32>,
}

impl Terminal {
    fn print(&mut self, message: &MessageView) {
        let edited = self
            .printed
            .insert(message.message_id, message.edits)
            .is_some();
        let title = if edited { "Kabinet ✎" } else { "Kabinet" };
        let mut out = format!("┌─ {title}\n");
        for line in message.text.lines() {
            out.push_str(&format!("│ {line}\n"));
        }
        if !message.buttons.is_empty() {
            self.buttons.clear();
            out.push_str("├─\n");
            for row in &message.buttons {
                let cells: Vec<String> = row
                    .iter()
                    .map(|b| {
                        self.buttons.push((b.text.clone(), b.copies.clone()));
                        format!("[{}] {}", self.buttons.len(), b.text)
                    })
                    .collect();
                out.push_str(&format!("│ {}\n", cells.join("   ")));
            }
        }
        if !message.reply_keyboard.is_empty() {
            out.push_str(&format!("│ ⌨ {}\n", message.reply_keyboard.join(" | ")));
        }
        out.push_str("└─\n> ");
        print!("{out}");
        let _ = std::io::stdout().flush();
    }

    /// Sends what the parent typed; `false` to leave.
    fn handle_input(&mut self, input: &str, chat: &ChatHandle) -> bool {
        if input == "/quit" || input == "/exit" {
            return false;
        }
        if input.is_empty() {
            return true;
        }
        match input
            .parse::<usize>()
            .ok()
            .and_then(|n| self.buttons.get(n.wrapping_sub(1)))
        {
            // A copy button puts its text on the clipboard; here it is printed.
            Some((_, Some(copied))) if input.len() <= 2 => {
                print!("📋 {copied}\n> ");
                let _ = std::io::stdout().flush();
            }
            Some((label, None)) if input.len() <= 2 => match chat.press(label) {
                // A toast («Кемінде бір арна…») shows in Telegram over the chat for a moment;
                // here it is a line of its own.
                Ok(callback) => {
                    let chat = chat.clone();
                    tokio::spawn(async move {
                        if let Some(Some(toast)) = chat.answer_of(&callback).await {
                            print!("💬 {toast}\n> ");
                            let _ = std::io::stdout().flush();
                        }
                    });
                }
                Err(e) => println!("({e})"),
            },
            _ => {
                chat.send_text(input);
            }
        }
        true
    }
}
