//! Putting a screen in the chat: by editing the current one in place, or as a new message.
//! The dialogue remembers what the screen shows, so an edit that would change nothing — and
//! that Telegram would refuse with 400 «message is not modified» — is never sent.

use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::MessageId;

use super::views::Screen;
use super::{BotError, ChatCtx, Deps, KBot};

/// Where a screen goes.
#[derive(Debug, Clone, Copy)]
pub enum Show {
    /// Replace the message in place (navigation).
    Edit(MessageId),
    /// A new message at the bottom of the chat (after the parent wrote something).
    New,
}

/// Whether showing a screen changed what the chat shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Changed,
    /// The message already shows exactly this.
    AsBefore,
}

/// Whether `how` would put exactly what the chat shows already.
pub fn as_before(ctx: &ChatCtx, screen: &Screen, how: Show) -> bool {
    matches!(how, Show::Edit(message) if ctx.is_screen(message))
        && ctx.dialogue.shown == Some(screen.fingerprint())
}

/// Puts `screen` in the chat and makes it the current screen.
pub async fn show(
    bot: &KBot,
    deps: &Deps,
    ctx: &mut ChatCtx,
    screen: Screen,
    how: Show,
) -> Result<Shown, BotError> {
    let how = if super::reply::redraw_as_new() {
        Show::New
    } else {
        how
    };
    if as_before(ctx, &screen, how) {
        return Ok(Shown::AsBefore);
    }
    let chat = ChatId(ctx.chat_id);
    let fingerprint = screen.fingerprint();
    if let Show::Edit(message) = how {
        let edited = bot
            .edit_message_text(chat, message, screen.text.as_str())
            .reply_markup(screen.keyboard.clone())
            .await;
        match edited {
            Ok(_) => {
                ctx.dialogue.screen = Some(message.0);
                ctx.dialogue.shown = Some(fingerprint);
                return Ok(Shown::Changed);
            }
            // A screen drawn before fingerprints were kept: now it is known.
            Err(teloxide::RequestError::Api(teloxide::ApiError::MessageNotModified)) => {
                ctx.dialogue.screen = Some(message.0);
                ctx.dialogue.shown = Some(fingerprint);
                return Ok(Shown::AsBefore);
            }
            // The message is gone (deleted, or too old to edit): send the screen anew.
            Err(teloxide::RequestError::Api(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let sent = send_paced(deps, chat, || {
        bot.send_message(chat, screen.text.as_str())
            .reply_markup(screen.keyboard.clone())
            .send()
    })
    .await?;
    ctx.dialogue.screen = Some(sent.id.0);
    ctx.dialogue.shown = Some(fingerprint);
    Ok(Shown::Changed)
}

/// Sends a message a parent is waiting for, in its turn (see `Pacer::answer`). If Telegram
/// refuses it with 429 all the same, the chat is held for the `retry_after` and the message
/// goes once more after it. `send` makes the request afresh for each try.
pub(crate) async fn send_paced<F, Fut>(
    deps: &Deps,
    chat: ChatId,
    send: F,
) -> Result<Message, teloxide::RequestError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Message, teloxide::RequestError>>,
{
    let mut tries = 0;
    loop {
        deps.pacer.answer(chat.0).await;
        tries += 1;
        match send().await {
            Err(teloxide::RequestError::RetryAfter(after)) if tries < 3 => {
                deps.pacer.refused(chat.0, after.duration());
            }
            other => return other,
        }
    }
}

/// Offers Telegram's «share my phone» button under the code screen (a reply keyboard needs
/// a message of its own; it hides itself once used).
pub async fn offer_contact(bot: &KBot, ctx: &ChatCtx, deps: &Deps) -> Result<(), BotError> {
    use teloxide::types::{KeyboardButton, KeyboardMarkup};
    let keyboard =
        KeyboardMarkup::new([[
            KeyboardButton::new(deps.loc.text(ctx.lang, "button-share-phone"))
                .request(teloxide::types::ButtonRequest::Contact),
        ]])
        .one_time_keyboard()
        .resize_keyboard();
    let text = deps.loc.html_text(ctx.lang, "contact-prompt");
    let chat = ChatId(ctx.chat_id);
    send_paced(deps, chat, || {
        bot.send_message(chat, text.as_str())
            .reply_markup(keyboard.clone())
            .send()
    })
    .await?;
    Ok(())
}
