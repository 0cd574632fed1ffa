//! Answering the portal's questions (SPEC §1.11): an option pressed on a question's card —
//! confirmed first when it gives something up, with a comment when it asks for one — is
//! recorded once, whichever chat of the cabinet is first. Every step re-reads the question
//! through this chat's own cabinet: a forged or stale button records nothing.

use super::pressed::Pressed;
use super::state::State;
use super::{BotError, ChatCtx, Deps};
use crate::domain::{COMMENT_MAX_CHARS, CommentRule, QuestionOption, QuestionState};
use crate::i18n::Html;
use crate::storage::{AnswerGiven, AnswerOutcome, QuestionRecord};

fn note(deps: &Deps, ctx: &ChatCtx, id: &str) -> Option<Html> {
    Some(deps.loc.html_text(ctx.lang, id))
}

/// The main menu's «❗ Жауап күтеді (N)»: the list, or the card when only one waits.
pub async fn open_list(deps: &Deps, ctx: &mut ChatCtx) -> Result<Pressed, BotError> {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(Pressed::Stale);
    };
    let open = deps.storage.open_questions(cabinet, ctx.now).await?;
    ctx.dialogue.go(match open.as_slice() {
        [only] => State::Question { id: only.id },
        _ => State::Questions,
    });
    Ok(Pressed::Done(None))
}

/// A question from the list or the feed; its screen checks it is this cabinet's.
pub fn open(ctx: &mut ChatCtx, id: i64) -> Result<Pressed, BotError> {
    ctx.dialogue.go(State::Question { id });
    Ok(Pressed::Done(None))
}

/// The question, this cabinet's, with the option at `index`.
async fn question_and_option(
    deps: &Deps,
    ctx: &ChatCtx,
    question: i64,
    index: u8,
) -> Result<Option<(QuestionRecord, QuestionOption)>, BotError> {
    let Some(cabinet) = ctx.cabinet_id() else {
        return Ok(None);
    };
    let Some(q) = deps.storage.question_for_cabinet(cabinet, question).await? else {
        return Ok(None);
    };
    let Some(option) = q.content.options.get(usize::from(index)).cloned() else {
        return Ok(None);
    };
    Ok(Some((q, option)))
}

/// Why a question no longer takes an answer, or `None` while it does.
fn closed(deps: &Deps, ctx: &ChatCtx, q: &QuestionRecord) -> Option<Option<Html>> {
    match q.state(ctx.now) {
        QuestionState::Open => None,
        QuestionState::Answered => Some(note(deps, ctx, "question-already-answered")),
        QuestionState::Withdrawn => Some(note(deps, ctx, "question-withdrawn-note")),
        QuestionState::Expired => Some(note(deps, ctx, "question-too-late")),
    }
}

/// Back on the card, which now shows where the question stands.
fn to_card(ctx: &mut ChatCtx, question: i64, note: Option<Html>) -> Result<Pressed, BotError> {
    if *ctx.dialogue.state() != (State::Question { id: question }) {
        ctx.dialogue.go_back();
        if *ctx.dialogue.state() != (State::Question { id: question }) {
            ctx.dialogue.stay(State::Question { id: question });
        }
    }
    Ok(Pressed::Done(note))
}

/// An option pressed on the card.
pub async fn choose(
    deps: &Deps,
    ctx: &mut ChatCtx,
    question: i64,
    index: u8,
) -> Result<Pressed, BotError> {
    let Some((q, option)) = question_and_option(deps, ctx, question, index).await? else {
        return Ok(Pressed::Stale);
    };
    if let Some(why) = closed(deps, ctx, &q) {
        return to_card(ctx, question, why);
    }
    if option.destructive {
        ctx.dialogue.go(State::ConfirmAnswer {
            id: question,
            option: index,
        });
        return Ok(Pressed::Done(None));
    }
    if option.comment != CommentRule::None {
        ctx.dialogue.go(State::AnswerComment {
            id: question,
            option: index,
        });
        return Ok(Pressed::Done(None));
    }
    record(deps, ctx, &q, &option, None).await
}

/// «Yes, I am sure» after a destructive option: on to the comment it asks for, or recorded.
pub async fn confirmed(
    deps: &Deps,
    ctx: &mut ChatCtx,
    question: i64,
    index: u8,
) -> Result<Pressed, BotError> {
    let Some((q, option)) = question_and_option(deps, ctx, question, index).await? else {
        return Ok(Pressed::Stale);
    };
    if let Some(why) = closed(deps, ctx, &q) {
        return to_card(ctx, question, why);
    }
    if option.comment != CommentRule::None {
        ctx.dialogue.stay(State::AnswerComment {
            id: question,
            option: index,
        });
        return Ok(Pressed::Done(None));
    }
    record(deps, ctx, &q, &option, None).await
}

/// «Send without a comment», where the comment is optional.
pub async fn without_comment(
    deps: &Deps,
    ctx: &mut ChatCtx,
    question: i64,
    index: u8,
) -> Result<Pressed, BotError> {
    let Some((q, option)) = question_and_option(deps, ctx, question, index).await? else {
        return Ok(Pressed::Stale);
    };
    if option.comment == CommentRule::Required {
        return Ok(Pressed::Stale);
    }
    record(deps, ctx, &q, &option, None).await
}

/// The comment typed at the prompt: at most [`COMMENT_MAX_CHARS`]; a longer one is refused
/// kindly and the prompt stays.
pub async fn on_comment(
    deps: &Deps,
    ctx: &mut ChatCtx,
    question: i64,
    index: u8,
    input: &str,
) -> Result<Option<Html>, BotError> {
    let comment = input.trim();
    let count = comment.chars().count();
    if count > COMMENT_MAX_CHARS {
        return Ok(Some(deps.loc.html(
            ctx.lang,
            "question-comment-too-long",
            &[
                ("count", (count as i64).into()),
                ("max", (COMMENT_MAX_CHARS as i64).into()),
            ],
        )));
    }
    let Some((q, option)) = question_and_option(deps, ctx, question, index).await? else {
        ctx.dialogue.reset(State::LoggedIn);
        return Ok(note(deps, ctx, "not-found"));
    };
    let comment = (!comment.is_empty()).then_some(comment);
    match record(deps, ctx, &q, &option, comment).await? {
        Pressed::Done(note) => Ok(note),
        Pressed::Toast(_) | Pressed::Stale => Ok(None),
    }
}

/// Records the answer — the first one wins, in one statement — and shows the card with
/// where the question stands now.
async fn record(
    deps: &Deps,
    ctx: &mut ChatCtx,
    q: &QuestionRecord,
    option: &QuestionOption,
    comment: Option<&str>,
) -> Result<Pressed, BotError> {
    let Some(session) = ctx.session else {
        return Ok(Pressed::Stale);
    };
    let given = AnswerGiven {
        question: q.id,
        cabinet: session.cabinet_id,
        chat: ctx.chat_id,
        session: session.id,
        option: &option.code,
        comment,
    };
    let to_portal = deps.config.portal_webhook.is_some();
    let outcome = deps
        .storage
        .answer_question(&given, to_portal, ctx.now)
        .await?;
    let note_id = match outcome {
        AnswerOutcome::Recorded { answer_id } => {
            tracing::info!(
                question = q.id,
                answer = answer_id,
                "a question was answered"
            );
            deps.metrics.answer_given();
            if to_portal {
                deps.outbox.wake();
            }
            "question-answer-recorded"
        }
        AnswerOutcome::AlreadyAnswered => "question-already-answered",
        AnswerOutcome::Withdrawn => "question-withdrawn-note",
        AnswerOutcome::Expired => "question-too-late",
        AnswerOutcome::NotLive | AnswerOutcome::NotFound => return Ok(Pressed::Stale),
    };
    to_card(ctx, q.id, note(deps, ctx, note_id))
}
