//! The screen of a chat's state: reads what it shows (always through the chat's own
//! cabinet, so a forged button shows nothing of anyone else) and hands it to its view.

use chrono::{Datelike, NaiveDate};

use super::state::{AfterLanguage, State};
use super::views::{self, PAGE, Screen, Voice};
use super::{BotError, ChatCtx, Deps};
use crate::domain::OtpPurpose;

fn voice<'a>(deps: &'a Deps, ctx: &ChatCtx) -> Voice<'a> {
    Voice {
        loc: &deps.loc,
        lang: ctx.lang,
        tz: deps.config.timezone,
    }
}

/// The screen of the chat's current state. A cabinet screen whose record is gone (or is not
/// this cabinet's) leads to the menu, saying so.
pub async fn render(deps: &Deps, ctx: &mut ChatCtx) -> Result<Screen, BotError> {
    match ctx
        .cabinet_id()
        .filter(|_| ctx.dialogue.state().in_cabinet())
    {
        Some(cabinet) => match cabinet_screen(deps, ctx, cabinet).await? {
            Some(screen) => Ok(screen),
            None => {
                ctx.dialogue.reset(State::LoggedIn);
                let menu = cabinet_screen(deps, ctx, cabinet)
                    .await?
                    .unwrap_or_else(|| {
                        views::start::language(&deps.loc, ctx.lang, false, &deps.bot_username)
                    });
                Ok(menu.with_note(&deps.loc.html_text(ctx.lang, "not-found")))
            }
        },
        None => outside_screen(deps, ctx).await,
    }
}

/// Screens before the cabinet: start, locality, login.
async fn outside_screen(deps: &Deps, ctx: &ChatCtx) -> Result<Screen, BotError> {
    let v = voice(deps, ctx);
    let bot = &deps.bot_username;
    Ok(match ctx.dialogue.state() {
        State::New => views::start::language(&deps.loc, ctx.lang, true, bot),
        State::ChoosingLanguage { then } => {
            let greeting = matches!(then, AfterLanguage::Locality { .. });
            views::start::language(&deps.loc, ctx.lang, greeting, bot)
        }
        State::ChoosingLocality { page } => localities(deps, ctx, *page).await?,
        State::LocalityChosen => match locality(deps, ctx).await? {
            Some(l) => views::start::locality_chosen(&v, &l),
            None => localities(deps, ctx, 0).await?,
        },
        State::EnteringIin => views::login::iin_prompt(&v),
        State::NoCabinet => {
            let name = locality(deps, ctx)
                .await?
                .map(|l| l.name(ctx.lang).to_owned());
            let support = views::start::support(&v, deps.config.support_contact.as_deref());
            views::login::no_cabinet(&v, &name.unwrap_or_default(), support)
        }
        State::Consent { .. } => {
            let url = deps.config.privacy_policy_url.as_ref();
            views::login::consent(&v, url.map(|u| u.as_str()).unwrap_or_default())
        }
        State::EnteringCode {
            cabinet, purpose, ..
        } => {
            // Where this chat's live code went (the phone on file, or a new main phone); with
            // none (the limits refused one), the contact button is the way on.
            let login = &deps.login;
            let actor = ctx.actor();
            if login.has_live_code(actor, *cabinet, *purpose).await? {
                let to = login.code_destination(actor, *cabinet, *purpose).await?;
                let phone = to.map(|p| p.masked()).unwrap_or_default();
                views::login::code_sent(&v, &phone, deps.config.otp.ttl)
            } else {
                views::login::prompt(&v, "code-contact-instead")
            }
        }
        // A first password, or a new one (forgotten, or changed in Settings).
        State::NewPassword { purpose, .. } => match purpose {
            OtpPurpose::Login => views::login::prompt(&v, "password-new-prompt"),
            _ => views::login::prompt(&v, "password-change-prompt"),
        },
        State::RepeatPassword { .. } => views::login::prompt(&v, "password-repeat-prompt"),
        State::EnteringPassword { .. } => views::login::password(&v),
        // Cabinet screens without a session are left by ChatCtx::load before rendering.
        _ => views::start::language(&deps.loc, ctx.lang, false, bot),
    })
}

async fn locality(
    deps: &Deps,
    ctx: &ChatCtx,
) -> Result<Option<crate::storage::Locality>, BotError> {
    Ok(match &ctx.locality {
        Some(code) => deps.storage.locality(code).await?,
        None => None,
    })
}

async fn localities(deps: &Deps, ctx: &ChatCtx, page: u32) -> Result<Screen, BotError> {
    let mut all = deps.storage.all_localities().await?;
    all.sort_by_cached_key(|l| crate::i18n::collation_key(ctx.lang, l.name(ctx.lang)));
    Ok(views::start::localities(&voice(deps, ctx), &all, page))
}

/// The cabinet's screens; `None` when what the state names is not this cabinet's.
async fn cabinet_screen(
    deps: &Deps,
    ctx: &ChatCtx,
    cabinet: i64,
) -> Result<Option<Screen>, BotError> {
    let v = voice(deps, ctx);
    let s = &deps.storage;
    Ok(Some(match ctx.dialogue.state().clone() {
        State::Feed { page } => {
            let listed = s.feed(cabinet, i64::from(page), PAGE).await?;
            // Shown means read.
            let unread: Vec<i64> = listed
                .items
                .iter()
                .filter(|e| e.read_at.is_none())
                .map(|e| e.id)
                .collect();
            s.mark_read(cabinet, &unread, ctx.now).await?;
            views::feed::render(&v, &listed)
        }
        State::Applications { page } => {
            views::applications::list(&v, &s.applications(cabinet, i64::from(page), PAGE).await?)
        }
        State::Application { id, .. } => match s.application_card(cabinet, id).await? {
            Some(card) => views::applications::card(&v, &card, local_today(deps, ctx)),
            None => return Ok(None),
        },
        State::Referrals { page } => {
            let listed = s.referrals(cabinet, i64::from(page), PAGE).await?;
            views::referrals::list(&v, &listed, ctx.now)
        }
        State::Referral { id, .. } => match s.referral(cabinet, id).await? {
            Some(r) => views::referrals::card(&v, &r, ctx.now),
            None => return Ok(None),
        },
        State::Files => views::files::list(&v, &s.children(cabinet).await?),
        State::File { child } => return file(deps, ctx, cabinet, child).await,
        State::Attendance { child, year, month } => {
            return attendance(deps, ctx, cabinet, child, year, month).await;
        }
        State::Settings => {
            let Some(record) = s.cabinet(cabinet).await? else {
                return Ok(None);
            };
            let extra = s.extra_phones(cabinet).await?;
            views::settings::render(&v, &record, &extra, deps.config.smtp.is_some())
        }
        State::Sessions => {
            views::settings::sessions(&v, &s.live_sessions(cabinet).await?, ctx.chat_id)
        }
        State::OldPassword { .. } => views::login::prompt(&v, "password-old-prompt"),
        State::ConfirmPassword { .. } => views::login::prompt(&v, "password-confirm-prompt"),
        State::EnteringEmail { .. } => views::login::prompt(&v, "email-prompt"),
        State::EnteringNewPhone { .. } => views::login::prompt(&v, "phone-new-prompt"),
        State::EnteringExtraPhone { .. } => views::login::prompt(&v, "phone-extra-prompt"),
        State::Questions => {
            views::questions::list(&v, &s.open_questions(cabinet, ctx.now).await?, ctx.now)
        }
        State::Question { id } => return question(deps, ctx, cabinet, id).await,
        State::ConfirmAnswer { id, option } | State::AnswerComment { id, option } => {
            let Some(q) = s.question_for_cabinet(cabinet, id).await? else {
                return Ok(None);
            };
            let Some(chosen) = q.content.options.get(usize::from(option)) else {
                return Ok(None);
            };
            match ctx.dialogue.state() {
                State::ConfirmAnswer { .. } => views::questions::confirm(&v, &q, option, chosen),
                _ => views::questions::comment(&v, &q, option, chosen),
            }
        }
        // The main menu.
        _ => {
            let name = s.cabinet(cabinet).await?.map(|c| c.full_name);
            let unread = s.unread_count(cabinet).await?;
            let waiting = s.open_question_count(cabinet, ctx.now).await?;
            views::menu::render(&v, &name.unwrap_or_default(), unread, waiting)
        }
    }))
}

/// A question's card; an attendance sheet's with the month's calendar.
async fn question(
    deps: &Deps,
    ctx: &ChatCtx,
    cabinet: i64,
    id: i64,
) -> Result<Option<Screen>, BotError> {
    let s = &deps.storage;
    let Some(q) = s.question_for_cabinet(cabinet, id).await? else {
        return Ok(None);
    };
    let days = match (&q.child_iin, q.month) {
        (Some(child), Some(first)) => {
            let next = first
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(first);
            Some(s.attendance(cabinet, child, first, next).await?)
        }
        _ => None,
    };
    let extras = views::questions::CardExtras {
        attendance: days.as_deref(),
        now: ctx.now,
        today: local_today(deps, ctx),
    };
    Ok(Some(views::questions::card(&voice(deps, ctx), &q, &extras)))
}

/// A child's file; `child` is the child's place in the cabinet's list.
async fn file(
    deps: &Deps,
    ctx: &ChatCtx,
    cabinet: i64,
    child: u32,
) -> Result<Option<Screen>, BotError> {
    let children = deps.storage.children(cabinet).await?;
    let Some(c) = children.get(child as usize) else {
        return Ok(None);
    };
    let Some(file) = deps.storage.child_file(cabinet, &c.iin).await? else {
        return Ok(None);
    };
    // Attendance opens at the latest month with records, or at this month.
    let today = local_today(deps, ctx);
    let tomorrow = today.succ_opt().unwrap_or(today);
    let (latest, _) = deps
        .storage
        .attendance_around(cabinet, &c.iin, tomorrow, tomorrow, today)
        .await?;
    let month = latest.unwrap_or(today).with_day(1).unwrap_or(today);
    Ok(Some(views::files::file(
        &voice(deps, ctx),
        &file,
        child,
        month,
    )))
}

fn local_today(deps: &Deps, ctx: &ChatCtx) -> NaiveDate {
    ctx.now.with_timezone(&deps.config.timezone).date_naive()
}

/// A month of a child's attendance.
async fn attendance(
    deps: &Deps,
    ctx: &ChatCtx,
    cabinet: i64,
    child: u32,
    year: i32,
    month: u32,
) -> Result<Option<Screen>, BotError> {
    let children = deps.storage.children(cabinet).await?;
    let (Some(c), Some(first)) = (
        children.get(child as usize),
        NaiveDate::from_ymd_opt(year, month, 1),
    ) else {
        return Ok(None);
    };
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let today = local_today(deps, ctx);
    let s = &deps.storage;
    let days = s.attendance(cabinet, &c.iin, first, next).await?;
    let (before, after) = s
        .attendance_around(cabinet, &c.iin, first, next, today)
        .await?;
    let month_of = |d: NaiveDate| d.with_day(1);
    let around = views::files::MonthsAround {
        previous: before.and_then(month_of),
        next: after.and_then(month_of),
    };
    Ok(Some(views::files::attendance(
        &voice(deps, ctx),
        c,
        child,
        first,
        &days,
        around,
        today,
    )))
}
