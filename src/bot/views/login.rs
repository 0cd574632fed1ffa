//! Logging in: the IIN prompt, «no cabinet yet», the consent question, the code prompt, the
//! password prompts.

use super::{Screen, Voice, button};
use crate::i18n::Html;
use crate::messages::Callback;

pub fn iin_prompt(voice: &Voice<'_>) -> Screen {
    Screen::new(
        voice.html_text("iin-prompt"),
        vec![
            vec![button(voice.text("button-back"), Callback::BackToLocality)],
            vec![button(
                voice.text("button-change-locality"),
                Callback::ChangeLocality,
            )],
        ],
    )
}

/// The memo's answer: a cabinet opens with the first application.
pub fn no_cabinet(voice: &Voice<'_>, locality: &str, support: Option<Html>) -> Screen {
    let mut text = voice.html("no-cabinet", &[("locality", locality.into())]);
    if let Some(support) = support {
        text.push_markup("\n\n").push(&support);
    }
    Screen::new(
        text,
        vec![
            vec![button(
                voice.text("button-reenter-iin"),
                Callback::ReenterIin,
            )],
            vec![button(
                voice.text("button-change-locality"),
                Callback::ChangeLocality,
            )],
        ],
    )
}

/// Consent to the processing of personal data, with the policy's link.
pub fn consent(voice: &Voice<'_>, policy_url: &str) -> Screen {
    Screen::new(
        voice.html("consent-prompt", &[("url", policy_url.into())]),
        vec![
            vec![button(
                voice.text("button-consent"),
                Callback::Consent(true),
            )],
            vec![button(
                voice.text("button-consent-decline"),
                Callback::Consent(false),
            )],
        ],
    )
}

/// Where the code went (masked) and how long it lives.
pub fn code_sent(voice: &Voice<'_>, masked_phone: &str, lifetime: std::time::Duration) -> Screen {
    let valid = voice.loc.duration(voice.lang, lifetime);
    Screen::new(
        voice.html(
            "code-sent",
            &[("phone", masked_phone.into()), ("valid", (&valid).into())],
        ),
        vec![
            vec![button(
                voice.text("button-continue"),
                Callback::CodeContinue,
            )],
            vec![button(
                voice.text("button-resend-code"),
                Callback::ResendCode,
            )],
            vec![button(voice.text("button-cancel"), Callback::Cancel)],
        ],
    )
}

/// A prompt with a Cancel button (new password, repeat, old password, e-mail, phones).
pub fn prompt(voice: &Voice<'_>, id: &str) -> Screen {
    Screen::new(
        voice.html_text(id),
        vec![vec![button(voice.text("button-cancel"), Callback::Cancel)]],
    )
}

/// A returning parent's password, with «Forgot password?».
pub fn password(voice: &Voice<'_>) -> Screen {
    Screen::new(
        voice.html_text("password-prompt"),
        vec![
            vec![button(
                voice.text("button-forgot-password"),
                Callback::ForgotPassword,
            )],
            vec![button(voice.text("button-cancel"), Callback::Cancel)],
        ],
    )
}
