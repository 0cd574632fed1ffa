//! The cabinet (SPEC §1.3–§1.8): the main menu and its five sections. Every screen reads
//! through the chat's own cabinet, so a button naming anything else shows nothing.

use chrono::{Datelike, NaiveDate};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html::escape;

use super::callback::{Callback, Section};
use super::screens::Screen;
use super::state::State;
use super::texts::{event_button, event_line, status_text, truncate};
use super::{BotError, ChatCtx, Deps};
use crate::domain::{Channel, Language};
use crate::storage::Referral;

/// Items per page of a list.
pub const PAGE: i64 = 5;
/// History entries a card shows (the newest).
const HISTORY_SHOWN: usize = 8;
/// Days of attendance shown in detail.
const DAYS_SHOWN: usize = 7;

fn button(text: impl Into<String>, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text.into(), callback.encode())
}

fn footer(deps: &Deps, lang: Language, back: bool) -> Vec<InlineKeyboardButton> {
    let mut row = Vec::new();
    if back {
        row.push(button(deps.loc.text(lang, "button-back"), Callback::Back));
    }
    row.push(button(deps.loc.text(lang, "button-menu"), Callback::Menu));
    row
}

fn pager(page: i64, pages: i64) -> Vec<InlineKeyboardButton> {
    let mut row = Vec::new();
    if pages > 1 {
        if page > 0 {
            row.push(button("‹", Callback::Page(page as u32 - 1)));
        }
        row.push(button(format!("{}/{}", page + 1, pages), Callback::Noop));
        if page + 1 < pages {
            row.push(button("›", Callback::Page(page as u32 + 1)));
        }
    }
    row
}

/// The screen of a cabinet state.
pub async fn render(deps: &Deps, ctx: &mut ChatCtx, cabinet_id: i64) -> Result<Screen, BotError> {
    let lang = ctx.lang;
    let loc = &deps.loc;
    let s = &deps.storage;
    let tz = deps.config.timezone;
    let state = ctx.dialogue.state.clone();
    Ok(match state {
        State::Feed { page } => {
            let listed = s.feed(cabinet_id, i64::from(page), PAGE).await?;
            let (page, pages, events) = (listed.number, listed.pages(PAGE), listed.items);
            let mut text = format!("<b>{}</b>", loc.text(lang, "section-feed"));
            if pages > 1 {
                text.push_str(&format!(" · {}/{}", page + 1, pages));
            }
            let mut rows = Vec::new();
            if events.is_empty() {
                text.push_str(&format!("\n\n{}", loc.text(lang, "feed-empty")));
            }
            for event in &events {
                let mark = if event.read_at.is_none() { "🆕 " } else { "" };
                text.push_str(&format!(
                    "\n\n{mark}<i>{}</i>\n{}",
                    loc.date_time(lang, event.occurred_at, tz),
                    event_line(&deps.loc, lang, event)
                ));
                if let Some(label) = event_button(&deps.loc, lang, event) {
                    rows.push(vec![button(label, Callback::OpenEvent(event.id))]);
                }
            }
            // Shown means read.
            let unread: Vec<i64> = events
                .iter()
                .filter(|e| e.read_at.is_none())
                .map(|e| e.id)
                .collect();
            s.mark_read(cabinet_id, &unread, ctx.now).await?;
            rows.push(pager(page, pages));
            rows.push(footer(deps, lang, true));
            Screen {
                text,
                keyboard: keyboard(rows),
            }
        }
        State::Applications { page } => {
            let listed = s.applications(cabinet_id, i64::from(page), PAGE).await?;
            let (page, pages, apps) = (listed.number, listed.pages(PAGE), listed.items);
            let mut text = format!("<b>{}</b>", loc.text(lang, "section-applications"));
            if pages > 1 {
                text.push_str(&format!(" · {}/{}", page + 1, pages));
            }
            if apps.is_empty() {
                text.push_str(&format!("\n\n{}", loc.text(lang, "applications-empty")));
            }
            let mut rows = Vec::new();
            for a in &apps {
                text.push_str(&format!(
                    "\n\n<b>№ {}</b> — {}\n{} · {}",
                    escape(&a.number),
                    escape(&a.child_name),
                    loc.text(lang, a.kind.message_id()),
                    status_text(&deps.loc, lang, a.status, a.queue_position)
                ));
                rows.push(vec![button(
                    format!("№ {}", a.number),
                    Callback::OpenApplication(a.id),
                )]);
            }
            rows.push(pager(page, pages));
            rows.push(footer(deps, lang, true));
            Screen {
                text,
                keyboard: keyboard(rows),
            }
        }
        State::Application { id, .. } => match s.application_card(cabinet_id, id).await? {
            None => return not_found(deps, ctx, cabinet_id).await,
            Some(card) => {
                let a = &card.application;
                let mut text = loc.format(
                    lang,
                    "application-card",
                    &[
                        ("number", escape(&a.number).into()),
                        ("child", escape(&a.child_name).into()),
                        ("birth", loc.date(lang, a.child_birth_date).into()),
                        ("kind", loc.text(lang, a.kind.message_id()).into()),
                        ("desired", loc.date(lang, a.desired_date).into()),
                        (
                            "language",
                            loc.text(lang, &format!("instruction-{}", a.language.code()))
                                .into(),
                        ),
                        ("submitted", loc.date_time(lang, a.submitted_at, tz).into()),
                        (
                            "status",
                            status_text(&deps.loc, lang, a.status, a.queue_position).into(),
                        ),
                    ],
                );
                if let Some(p) = a.privilege {
                    text.push_str(&format!(
                        "\n{}: {}",
                        loc.text(lang, "label-privilege"),
                        loc.text(lang, p.message_id())
                    ));
                }
                text.push_str(&format!(
                    "\n\n<b>{}</b>",
                    loc.text(lang, "label-institutions")
                ));
                for (i, inst) in card.institutions.iter().enumerate() {
                    text.push_str(&format!("\n{}. {}", i + 1, escape(inst.name(lang))));
                }
                text.push_str(&format!("\n\n<b>{}</b>", loc.text(lang, "label-history")));
                let skipped = card.history.len().saturating_sub(HISTORY_SHOWN);
                if skipped > 0 {
                    text.push_str(&format!(
                        "\n…{}",
                        loc.format(
                            lang,
                            "history-earlier",
                            &[("count", (skipped as i64).into())]
                        )
                    ));
                }
                for h in card.history.iter().skip(skipped) {
                    text.push_str(&format!(
                        "\n• {} — {}",
                        loc.date_time(lang, h.changed_at, tz),
                        status_text(&deps.loc, lang, h.status, h.queue_position)
                    ));
                    if let Some(comment) = &h.comment {
                        text.push_str(&format!("\n  <i>{}</i>", escape(&truncate(comment, 200))));
                    }
                }
                let mut rows = Vec::new();
                if let Some(referral) = card.referral_id {
                    rows.push(vec![button(
                        loc.text(lang, "button-open-referral"),
                        Callback::OpenReferral(referral),
                    )]);
                }
                rows.push(footer(deps, lang, true));
                Screen {
                    text,
                    keyboard: keyboard(rows),
                }
            }
        },
        State::Referrals { page } => {
            let listed = s.referrals(cabinet_id, i64::from(page), PAGE).await?;
            let (page, pages, referrals) = (listed.number, listed.pages(PAGE), listed.items);
            let mut text = format!("<b>{}</b>", loc.text(lang, "section-referrals"));
            if pages > 1 {
                text.push_str(&format!(" · {}/{}", page + 1, pages));
            }
            if referrals.is_empty() {
                text.push_str(&format!("\n\n{}", loc.text(lang, "referrals-empty")));
            }
            let mut rows = Vec::new();
            for r in &referrals {
                text.push_str(&format!(
                    "\n\n<b>№ {}</b> — {}\n{} · {}",
                    escape(&r.number),
                    escape(&r.child_name),
                    escape(r.institution_name(lang)),
                    loc.text(lang, r.status.message_id())
                ));
                rows.push(vec![button(
                    format!("№ {}", r.number),
                    Callback::OpenReferral(r.id),
                )]);
            }
            rows.push(pager(page, pages));
            rows.push(footer(deps, lang, true));
            Screen {
                text,
                keyboard: keyboard(rows),
            }
        }
        State::Referral { id, .. } => match s.referral(cabinet_id, id).await? {
            None => return not_found(deps, ctx, cabinet_id).await,
            Some(r) => {
                let text = referral_card(deps, ctx, &r);
                let rows = vec![
                    vec![button(
                        loc.format(
                            lang,
                            "button-open-application",
                            &[("number", r.application_number.clone().into())],
                        ),
                        Callback::OpenApplication(r.application_id),
                    )],
                    footer(deps, lang, true),
                ];
                Screen {
                    text,
                    keyboard: keyboard(rows),
                }
            }
        },
        State::Files => {
            let children = s.children(cabinet_id).await?;
            let mut text = format!("<b>{}</b>", loc.text(lang, "section-files"));
            if children.is_empty() {
                text.push_str(&format!("\n\n{}", loc.text(lang, "files-empty")));
            }
            let mut rows: Vec<Vec<InlineKeyboardButton>> = children
                .iter()
                .enumerate()
                .map(|(i, c)| vec![button(c.full_name.clone(), Callback::OpenFile(i as u32))])
                .collect();
            rows.push(footer(deps, lang, true));
            Screen {
                text,
                keyboard: keyboard(rows),
            }
        }
        State::File { child } => {
            let children = s.children(cabinet_id).await?;
            let Some(c) = children.get(child as usize) else {
                return not_found(deps, ctx, cabinet_id).await;
            };
            let Some(file) = s.child_file(cabinet_id, &c.iin).await? else {
                return not_found(deps, ctx, cabinet_id).await;
            };
            let mut text = format!(
                "<b>{}</b>\n{}",
                escape(&file.child.full_name),
                loc.format(
                    lang,
                    "label-born",
                    &[("date", loc.date(lang, file.child.birth_date).into())]
                )
            );
            match &file.placement {
                Some(p) => text.push_str(&format!(
                    "\n\n{}",
                    loc.format(
                        lang,
                        "file-placement",
                        &[
                            (
                                "institution",
                                escape(if lang == Language::Kk {
                                    &p.institution_name_kk
                                } else {
                                    &p.institution_name_ru
                                })
                                .into()
                            ),
                            ("group", escape(&p.group_name).into()),
                            ("since", loc.date(lang, p.opened_on).into()),
                        ]
                    )
                )),
                None => text.push_str(&format!("\n\n{}", loc.text(lang, "file-no-placement"))),
            }
            text.push_str(&format!("\n\n<b>{}</b>", loc.text(lang, "label-clubs")));
            if file.clubs.is_empty() {
                text.push_str(&format!("\n{}", loc.text(lang, "clubs-empty")));
            }
            for club in &file.clubs {
                text.push_str(&format!(
                    "\n• <b>{}</b> — {}\n  {}",
                    escape(club.name(lang)),
                    escape(&club.teacher),
                    escape(&club.schedule)
                ));
            }
            let today = ctx.now.with_timezone(&deps.config.timezone).date_naive();
            let rows = vec![
                vec![button(
                    loc.text(lang, "button-attendance"),
                    Callback::Attendance {
                        child,
                        year: today.year(),
                        month: today.month(),
                    },
                )],
                footer(deps, lang, true),
            ];
            Screen {
                text,
                keyboard: keyboard(rows),
            }
        }
        State::Attendance { child, year, month } => {
            let children = s.children(cabinet_id).await?;
            let Some(c) = children.get(child as usize) else {
                return not_found(deps, ctx, cabinet_id).await;
            };
            let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
                return not_found(deps, ctx, cabinet_id).await;
            };
            let next = first
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(first);
            let previous = first
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(first);
            let days = s.attendance(cabinet_id, &c.iin, first, next).await?;
            let count = |st: crate::domain::AttendanceStatus| {
                days.iter().filter(|d| d.status == st).count() as i64
            };
            let (present, absent, excused) = (
                count(crate::domain::AttendanceStatus::Present),
                count(crate::domain::AttendanceStatus::Absent),
                count(crate::domain::AttendanceStatus::Excused),
            );
            let mut text = format!(
                "<b>{}</b>\n{}",
                escape(&c.full_name),
                crate::i18n::month_title(&deps.loc, lang, year, month)
            );
            if days.is_empty() {
                text.push_str(&format!("\n\n{}", loc.text(lang, "attendance-empty")));
            } else {
                let share = (present * 100 + (days.len() as i64) / 2) / days.len() as i64;
                text.push_str(&format!(
                    "\n\n{}",
                    loc.format(
                        lang,
                        "attendance-summary",
                        &[
                            ("present", present.into()),
                            ("absent", absent.into()),
                            ("excused", excused.into()),
                            ("share", share.into()),
                        ]
                    )
                ));
                text.push_str(&format!("\n\n<b>{}</b>", loc.text(lang, "label-last-days")));
                for d in days.iter().rev().take(DAYS_SHOWN) {
                    text.push_str(&format!(
                        "\n{} — {}",
                        loc.day_month(lang, d.day),
                        loc.text(lang, d.status.message_id())
                    ));
                    if let Some(note) = &d.note {
                        text.push_str(&format!(" (<i>{}</i>)", escape(&truncate(note, 100))));
                    }
                }
            }
            let month_button = |d: NaiveDate, arrow: &str| {
                let title = crate::i18n::month_title(&deps.loc, lang, d.year(), d.month());
                let label = if arrow == "‹" {
                    format!("‹ {title}")
                } else {
                    format!("{title} ›")
                };
                button(
                    label,
                    Callback::Attendance {
                        child,
                        year: d.year(),
                        month: d.month(),
                    },
                )
            };
            let rows = vec![
                vec![month_button(previous, "‹"), month_button(next, "›")],
                footer(deps, lang, true),
            ];
            Screen {
                text,
                keyboard: keyboard(rows),
            }
        }
        State::Settings => {
            let Some(cabinet) = s.cabinet(cabinet_id).await? else {
                return not_found(deps, ctx, cabinet_id).await;
            };
            let phone = crate::domain::Phone::parse(&cabinet.phone)
                .map(|p| p.masked())
                .unwrap_or_default();
            let email = cabinet
                .email
                .clone()
                .map(|e| escape(&e))
                .unwrap_or_else(|| loc.text(lang, "email-none"));
            let extra_phones: Vec<String> = s
                .extra_phones(cabinet_id)
                .await?
                .iter()
                .filter_map(|p| crate::domain::Phone::parse(p).ok())
                .map(|p| p.masked())
                .collect();
            let extra = if extra_phones.is_empty() {
                loc.text(lang, "phones-none")
            } else {
                extra_phones.join(", ")
            };
            let text = loc.format(
                lang,
                "settings",
                &[
                    ("phone", phone.into()),
                    ("extra", extra.into()),
                    ("email", email.into()),
                    (
                        "language",
                        loc.text(lang, &format!("language-self-{}", lang.code()))
                            .into(),
                    ),
                ],
            );
            let mark = |on: bool| if on { "✅" } else { "⬜" };
            let mut rows = vec![vec![button(
                format!(
                    "{} {}",
                    mark(cabinet.notify_telegram),
                    loc.text(lang, Channel::Telegram.message_id())
                ),
                Callback::ToggleChannel(Channel::Telegram),
            )]];
            rows.push(vec![button(
                format!(
                    "{} {}",
                    mark(cabinet.notify_sms),
                    loc.text(lang, Channel::Sms.message_id())
                ),
                Callback::ToggleChannel(Channel::Sms),
            )]);
            if deps.config.smtp.is_some() && cabinet.email.is_some() {
                rows.push(vec![button(
                    format!(
                        "{} {}",
                        mark(cabinet.notify_email),
                        loc.text(lang, Channel::Email.message_id())
                    ),
                    Callback::ToggleChannel(Channel::Email),
                )]);
            }
            rows.push(vec![
                button(loc.text(lang, "button-change-phone"), Callback::ChangePhone),
                button(loc.text(lang, "button-add-phone"), Callback::AddPhone),
            ]);
            for (i, extra) in extra_phones.iter().enumerate() {
                rows.push(vec![button(
                    format!("✖ {extra}"),
                    Callback::RemovePhone(i as u32),
                )]);
            }
            rows.push(vec![button(
                loc.text(lang, "button-language"),
                Callback::ChangeLanguage,
            )]);
            let mut email_row = vec![button(
                loc.text(lang, "button-set-email"),
                Callback::SetEmail,
            )];
            if cabinet.email.is_some() {
                email_row.push(button(
                    loc.text(lang, "button-remove-email"),
                    Callback::RemoveEmail,
                ));
            }
            rows.push(email_row);
            rows.push(vec![button(
                loc.text(lang, "button-change-password"),
                Callback::ChangePassword,
            )]);
            rows.push(vec![button(
                loc.text(lang, "button-sessions"),
                Callback::Sessions,
            )]);
            rows.push(vec![button(
                loc.text(lang, "button-logout"),
                Callback::Logout,
            )]);
            rows.push(footer(deps, lang, true));
            Screen {
                text,
                keyboard: keyboard(rows),
            }
        }
        State::Sessions => {
            let tz = deps.config.timezone;
            // A cabinet with more live chats than a screen holds keeps «end all others».
            const SHOWN: usize = 20;
            let sessions = s.live_sessions(cabinet_id).await?;
            let mut lines = Vec::new();
            let mut rows = Vec::new();
            for session in sessions.iter().take(SHOWN) {
                let name = session.display_name.as_deref().unwrap_or("Telegram");
                let this_chat = session.chat_id == ctx.chat_id;
                lines.push(loc.format(
                    lang,
                    if this_chat {
                        "session-line-this"
                    } else {
                        "session-line"
                    },
                    &[
                        ("name", escape(name).into()),
                        (
                            "started",
                            loc.date_time(lang, session.started_at, tz).into(),
                        ),
                        ("seen", loc.date_time(lang, session.last_seen_at, tz).into()),
                    ],
                ));
                if !this_chat {
                    let short: String = name.chars().take(30).collect();
                    rows.push(vec![button(
                        loc.format(lang, "button-end-session", &[("name", short.into())]),
                        Callback::EndSession(session.id),
                    )]);
                }
            }
            if sessions.len() > 1 {
                rows.push(vec![button(
                    loc.text(lang, "button-end-other-sessions"),
                    Callback::EndOtherSessions,
                )]);
            }
            rows.push(footer(deps, lang, true));
            Screen {
                text: loc.format(lang, "sessions", &[("list", lines.join("\n").into())]),
                keyboard: keyboard(rows),
            }
        }
        State::OldPassword { .. } => Screen {
            text: loc.text(lang, "password-old-prompt"),
            keyboard: keyboard(vec![vec![button(
                loc.text(lang, "button-cancel"),
                Callback::Cancel,
            )]]),
        },
        State::EnteringNewPhone | State::EnteringExtraPhone => Screen {
            text: loc.text(
                lang,
                if state == State::EnteringNewPhone {
                    "phone-new-prompt"
                } else {
                    "phone-extra-prompt"
                },
            ),
            keyboard: keyboard(vec![vec![button(
                loc.text(lang, "button-cancel"),
                Callback::Cancel,
            )]]),
        },
        State::EnteringEmail => Screen {
            text: loc.text(lang, "email-prompt"),
            keyboard: keyboard(vec![vec![button(
                loc.text(lang, "button-cancel"),
                Callback::Cancel,
            )]]),
        },
        // The main menu.
        _ => {
            let cabinet = s.cabinet(cabinet_id).await?;
            let unread = s.unread_count(cabinet_id).await?;
            let name = cabinet.map(|c| escape(&c.full_name)).unwrap_or_default();
            let mut feed = format!("🔔 {}", loc.text(lang, "section-feed"));
            if unread > 0 {
                feed.push_str(&format!(
                    " ({})",
                    loc.format(lang, "unread-count", &[("count", unread.into())])
                ));
            }
            let rows = vec![
                vec![button(feed, Callback::Section(Section::Feed))],
                vec![button(
                    format!("📝 {}", loc.text(lang, "section-applications")),
                    Callback::Section(Section::Applications),
                )],
                vec![button(
                    format!("📨 {}", loc.text(lang, "section-referrals")),
                    Callback::Section(Section::Referrals),
                )],
                vec![button(
                    format!("📁 {}", loc.text(lang, "section-files")),
                    Callback::Section(Section::Files),
                )],
                vec![button(
                    format!("⚙️ {}", loc.text(lang, "section-settings")),
                    Callback::Section(Section::Settings),
                )],
                vec![button(loc.text(lang, "button-logout"), Callback::Logout)],
            ];
            Screen {
                text: loc.format(lang, "menu", &[("name", name.into())]),
                keyboard: keyboard(rows),
            }
        }
    })
}

/// What a card names is gone, or is not this cabinet's: back to the menu, saying so.
async fn not_found(deps: &Deps, ctx: &mut ChatCtx, cabinet_id: i64) -> Result<Screen, BotError> {
    ctx.dialogue.state = State::LoggedIn;
    let screen = Box::pin(render(deps, ctx, cabinet_id)).await?;
    Ok(screen.with_note(&deps.loc.text(ctx.lang, "not-found")))
}

fn keyboard(rows: Vec<Vec<InlineKeyboardButton>>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.into_iter().filter(|r| !r.is_empty()))
}

fn referral_card(deps: &Deps, ctx: &ChatCtx, r: &Referral) -> String {
    let lang = ctx.lang;
    let loc = &deps.loc;
    let tz = deps.config.timezone;
    let today = ctx.now.with_timezone(&tz).date_naive();
    let until_day = r.valid_until.with_timezone(&tz).date_naive();
    let validity = if r.valid_until <= ctx.now {
        loc.text(lang, "referral-expired-mark")
    } else {
        let days = (until_day - today).num_days().max(0);
        loc.format(lang, "days-left", &[("count", days.into())])
    };
    loc.format(
        lang,
        "referral-card",
        &[
            ("number", escape(&r.number).into()),
            ("child", escape(&r.child_name).into()),
            ("institution", escape(r.institution_name(lang)).into()),
            ("address", escape(&r.institution_address).into()),
            ("group", escape(&r.group_name).into()),
            ("issued", loc.date_time(lang, r.issued_at, tz).into()),
            ("until", loc.date_time(lang, r.valid_until, tz).into()),
            ("validity", validity.into()),
            ("status", loc.text(lang, r.status.message_id()).into()),
            ("application", escape(&r.application_number).into()),
        ],
    )
}
