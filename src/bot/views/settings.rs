//! Settings (SPEC §1.8): phones, e-mail, notification channels, language, password, active
//! sessions, log out.

use super::{Screen, Voice, button, footer};
use crate::domain::{Channel, Phone};
use crate::i18n::Html;
use crate::messages::Callback;
use crate::storage::{Cabinet, SessionView};

/// Live sessions a screen lists; «end all others» reaches the rest.
const SESSIONS_SHOWN: usize = 20;

/// `email_channel`: whether the e-mail channel exists at all (`SMTP_URL`).
pub fn render(
    voice: &Voice<'_>,
    cabinet: &Cabinet,
    extra_phones: &[String],
    email_channel: bool,
) -> Screen {
    let masked = |p: &str| Phone::parse(p).map(|p| p.masked()).unwrap_or_default();
    let extra: Vec<String> = extra_phones.iter().map(|p| masked(p)).collect();
    let extra_text = if extra.is_empty() {
        voice.text("phones-none")
    } else {
        extra.join(", ")
    };
    let email = cabinet
        .email
        .clone()
        .unwrap_or_else(|| voice.text("email-none"));
    let language = voice.text(&format!("language-self-{}", voice.lang.code()));
    let text = voice.html(
        "settings",
        &[
            ("phone", masked(&cabinet.phone).as_str().into()),
            ("extra", (&extra_text).into()),
            ("email", (&email).into()),
            ("language", (&language).into()),
        ],
    );
    let toggle = |on: bool, channel: Channel| {
        let mark = if on { "✅" } else { "⬜" };
        vec![button(
            format!("{mark} {}", voice.text(channel.message_id())),
            Callback::ToggleChannel(channel),
        )]
    };
    let mut rows = vec![
        toggle(cabinet.notify_telegram, Channel::Telegram),
        toggle(cabinet.notify_sms, Channel::Sms),
    ];
    if email_channel && cabinet.email.is_some() {
        rows.push(toggle(cabinet.notify_email, Channel::Email));
    }
    rows.push(vec![
        button(voice.text("button-change-phone"), Callback::ChangePhone),
        button(voice.text("button-add-phone"), Callback::AddPhone),
    ]);
    for (i, phone) in extra.iter().enumerate() {
        rows.push(vec![button(
            format!("✖ {phone}"),
            Callback::RemovePhone(i as u32),
        )]);
    }
    rows.push(vec![button(
        voice.text("button-language"),
        Callback::ChangeLanguage,
    )]);
    let mut email_row = vec![button(voice.text("button-set-email"), Callback::SetEmail)];
    if cabinet.email.is_some() {
        email_row.push(button(
            voice.text("button-remove-email"),
            Callback::RemoveEmail,
        ));
    }
    rows.push(email_row);
    rows.push(vec![button(
        voice.text("button-change-password"),
        Callback::ChangePassword,
    )]);
    rows.push(vec![button(
        voice.text("button-sessions"),
        Callback::Sessions,
    )]);
    rows.push(vec![button(voice.text("button-logout"), Callback::Logout)]);
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}

/// Every chat logged into the cabinet; `this_chat` is marked and cannot be ended here.
pub fn sessions(voice: &Voice<'_>, sessions: &[SessionView], this_chat: i64) -> Screen {
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for session in sessions.iter().take(SESSIONS_SHOWN) {
        let name = session.display_name.as_deref().unwrap_or("Telegram");
        let is_this = session.chat_id == this_chat;
        let (started, seen) = (
            voice.date_time(session.started_at),
            voice.date_time(session.last_seen_at),
        );
        lines.push(voice.html(
            if is_this {
                "session-line-this"
            } else {
                "session-line"
            },
            &[
                ("name", name.into()),
                ("started", (&started).into()),
                ("seen", (&seen).into()),
            ],
        ));
        if !is_this {
            let short: String = name.chars().take(30).collect();
            rows.push(vec![button(
                voice.format("button-end-session", &[("name", short.into())]),
                Callback::EndSession(session.id),
            )]);
        }
    }
    if sessions.len() > 1 {
        rows.push(vec![button(
            voice.text("button-end-other-sessions"),
            Callback::EndOtherSessions,
        )]);
    }
    rows.push(footer(voice, true));
    let list = Html::join(&lines, "\n");
    Screen::new(voice.html("sessions", &[("list", (&list).into())]), rows)
}
