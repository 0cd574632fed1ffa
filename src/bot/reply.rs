//! Webhook mode: a button press is answered in the webhook's own HTTP answer.
//!
//! Telegram lets the answer to a webhook POST carry one Bot API call. A press's
//! `answerCallbackQuery` goes there, and is stored with the update's mark (see
//! [`crate::storage::ChatTurn`]): it reaches Telegram exactly when the update is known
//! handled. A replica that dies mid-update has answered nothing, so the retry answers; a
//! replica that dies after marking the update but before its HTTP answer left has its
//! stored answer sent again with the retry's. Answered once, whatever dies when.

use std::cell::RefCell;
use std::future::Future;

use serde_json::json;
use teloxide::prelude::*;

use super::KBot;

tokio::task_local! {
    /// The HTTP answer of the webhook POST being handled, when there is one.
    static REPLY: RefCell<Option<String>>;
    /// The update is a retry of one a replica died handling: screens go as new messages.
    static REDRAW: bool;
}

/// Runs `handling` able to answer in the webhook's reply; returns its output and the reply.
/// `redraw`: the update was cut short before (see [`redraw_as_new`]).
pub async fn in_webhook_reply<F: Future>(handling: F, redraw: bool) -> (F::Output, Option<String>) {
    REPLY
        .scope(
            RefCell::new(None),
            REDRAW.scope(redraw, async move {
                let out = handling.await;
                let reply = REPLY.with(|r| r.borrow_mut().take());
                (out, reply)
            }),
        )
        .await
}

/// Whether screens must be sent as new messages rather than edited: the update is a retry
/// of one whose replica died with it in hand, and what that replica showed is unknown.
pub fn redraw_as_new() -> bool {
    REDRAW.try_with(|r| *r).unwrap_or(false)
}

/// Answers a button press: in the webhook's reply while one is being handled (a second
/// answer to the same press is dropped: Telegram takes one), by a call otherwise.
pub async fn answer_press(
    bot: &KBot,
    query_id: &str,
    text: Option<String>,
    alert: bool,
) -> Result<(), teloxide::RequestError> {
    let text = text.filter(|t| !t.is_empty());
    let in_reply = REPLY.try_with(|reply| {
        let mut reply = reply.borrow_mut();
        if reply.is_none() {
            let mut call = json!({"method": "answerCallbackQuery", "callback_query_id": query_id});
            if let Some(text) = &text {
                call["text"] = json!(text);
            }
            if alert {
                call["show_alert"] = json!(true);
            }
            *reply = Some(call.to_string());
        }
    });
    if in_reply.is_ok() {
        return Ok(());
    }
    let mut request =
        bot.answer_callback_query(teloxide::types::CallbackQueryId(query_id.to_owned()));
    if let Some(text) = text {
        request = request.text(text);
    }
    if alert {
        request = request.show_alert(true);
    }
    request.await?;
    Ok(())
}
