//! My referrals (SPEC §1.6): the list, and the card of one referral.

use chrono::{DateTime, Utc};

use super::{PAGE, Screen, Voice, button, footer, pager};
use crate::domain::ReferralStatus;
use crate::i18n::Html;
use crate::messages::Callback;
use crate::storage::{Page, Referral};

/// A list of referrals; `now` tells an active referral past its date from a live one.
pub fn list(voice: &Voice<'_>, listed: &Page<Referral>, now: DateTime<Utc>) -> Screen {
    let (page, pages) = (listed.number, listed.pages(PAGE));
    let mut text = voice.list_title("section-referrals", page, pages);
    if listed.items.is_empty() {
        text.push_markup("\n\n")
            .push(&voice.html_text("referrals-empty"));
    }
    let mut rows = Vec::new();
    for r in &listed.items {
        let mut number = Html::markup("№ ");
        number.push_text(&r.number);
        text.push_markup("\n\n")
            .push(&Html::bold(&number))
            .push_markup(" — ")
            .push_text(&r.child_name)
            .push_markup("\n")
            .push_text(r.institution_name(voice.lang))
            .push_markup(" · ")
            .push_text(&voice.text(r.status_at(now).message_id()));
        rows.push(vec![button(
            format!("№ {}", r.number),
            Callback::OpenReferral(r.id),
        )]);
    }
    rows.push(pager(page, pages, Callback::Page));
    rows.push(footer(voice, true));
    Screen::new(text, rows)
}

/// The card; `now` says how many days are left. The validity line and the status agree: a
/// referral counts down only while it is active, and an active one past its date reads as
/// expired.
pub fn card(voice: &Voice<'_>, r: &Referral, now: DateTime<Utc>) -> Screen {
    let status = r.status_at(now);
    let until = voice.date_time(r.valid_until);
    let validity = if status == ReferralStatus::Active {
        let today = now.with_timezone(&voice.tz).date_naive();
        let until_day = r.valid_until.with_timezone(&voice.tz).date_naive();
        let days = (until_day - today).num_days().max(0);
        let left = voice.format("days-left", &[("count", days.into())]);
        voice.format(
            "referral-validity-left",
            &[("until", until.into()), ("left", left.into())],
        )
    } else {
        voice.format("referral-validity", &[("until", until.into())])
    };
    let (issued, status) = (
        voice.date_time(r.issued_at),
        voice.text(status.message_id()),
    );
    let text = voice.html(
        "referral-card",
        &[
            ("number", r.number.as_str().into()),
            ("child", r.child_name.as_str().into()),
            ("institution", r.institution_name(voice.lang).into()),
            ("address", r.institution_address.get(voice.lang).into()),
            ("group", r.group_name.get(voice.lang).into()),
            ("issued", (&issued).into()),
            ("validity", (&validity).into()),
            ("status", (&status).into()),
            ("application", r.application_number.as_str().into()),
        ],
    );
    let open_application = voice.format(
        "button-open-application",
        &[("number", r.application_number.clone().into())],
    );
    Screen::new(
        text,
        vec![
            vec![button(
                open_application,
                Callback::OpenApplication(r.application_id),
            )],
            footer(voice, true),
        ],
    )
}
