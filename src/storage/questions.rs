//! Questions (SPEC §1.11): put by the portal, shown to the cabinets they concern, answered
//! once — the first answer wins — and handed back to the portal, by webhook and by
//! `GET /api/v1/answers`.
//!
//! Who may see and answer a question is read at each use from what it concerns — the
//! application's cabinet now, or every cabinet that shows the child now — never copied
//! beside it: a moved application takes its questions with it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::direct::params;
use super::events::{OutboxBell, record_event};
use super::{
    NewEvent, Result, Storage, StorageError, in_transaction, in_transaction_if_ok, on_pool,
};
use crate::domain::{
    EventKind, OptionCode, PortalId, QuestionContent, QuestionKind, QuestionPost, QuestionState,
    QuestionTarget,
};

/// The question `q` (a table or its alias) may be seen and answered from cabinet `c` (a
/// placeholder).
fn concerns_cabinet(q: &str, c: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM applications qa WHERE qa.id = {q}.application_id AND qa.cabinet_id = {c}) \
          OR EXISTS (SELECT 1 FROM cabinet_children qc WHERE qc.child_iin = {q}.child_iin AND qc.cabinet_id = {c}))"
    )
}

/// The cabinets a question concerns now.
const CABINETS_OF_QUESTION: &str = "SELECT a.cabinet_id FROM applications a WHERE a.id = $1 \
     UNION SELECT cc.cabinet_id FROM cabinet_children cc WHERE cc.child_iin = $2 \
     ORDER BY 1";

/// An open question: not answered, not withdrawn, before its deadline `$now`.
fn is_open(now: &str) -> String {
    format!("q.answered_at IS NULL AND q.withdrawn_at IS NULL AND q.deadline > {now}")
}

const QUESTION_COLUMNS: &str = "q.id, q.portal_id, q.kind, q.application_id, \
    a.number AS application_number, COALESCE(q.child_iin, a.child_iin) AS child_iin, \
    kid.full_name AS child_name, q.month, q.content, q.deadline, q.created_at, q.withdrawn_at, \
    q.answer_id, q.answer_option, q.answer_comment, q.answered_at, q.answer_chat_id, q.delivered_at";
const QUESTION_FROM: &str = "FROM questions q LEFT JOIN applications a ON a.id = q.application_id \
    LEFT JOIN children kid ON kid.iin = COALESCE(q.child_iin, a.child_iin)";

#[derive(sqlx::FromRow)]
struct QuestionRow {
    id: i64,
    portal_id: String,
    kind: QuestionKind,
    application_id: Option<i64>,
    application_number: Option<String>,
    child_iin: Option<String>,
    child_name: Option<String>,
    month: Option<NaiveDate>,
    content: String,
    deadline: DateTime<Utc>,
    created_at: DateTime<Utc>,
    withdrawn_at: Option<DateTime<Utc>>,
    answer_id: Option<i64>,
    answer_option: Option<String>,
    answer_comment: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    answer_chat_id: Option<i64>,
    delivered_at: Option<DateTime<Utc>>,
}

/// A question as the bot and the API read it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionRecord {
    pub id: i64,
    pub portal_id: String,
    pub kind: QuestionKind,
    pub application_id: Option<i64>,
    pub application_number: Option<String>,
    /// The child it concerns (the application's, for an application's question).
    pub child_iin: Option<String>,
    pub child_name: Option<String>,
    /// The month of an attendance sheet (its first day).
    pub month: Option<NaiveDate>,
    pub content: QuestionContent,
    pub created_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub answer: Option<GivenAnswer>,
    /// When the portal's webhook took the answer.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The answer a question got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenAnswer {
    /// Its place in the order answers were given: the id the portal gets.
    pub id: i64,
    pub option: OptionCode,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
    /// The chat that gave it.
    pub chat_id: Option<i64>,
}

impl QuestionRecord {
    pub fn state(&self, now: DateTime<Utc>) -> QuestionState {
        QuestionState::at(
            self.answer.is_some(),
            self.withdrawn_at.is_some(),
            self.content.deadline,
            now,
        )
    }

    fn from_row(row: QuestionRow) -> Result<QuestionRecord> {
        let content: QuestionContent = serde_json::from_str(&row.content)
            .map_err(|e| StorageError::Corrupt(format!("a question's content: {e}")))?;
        let answer = match (row.answer_id, row.answer_option, row.answered_at) {
            (Some(id), Some(option), Some(at)) => Some(GivenAnswer {
                id,
                option: OptionCode::parse(&option).map_err(StorageError::Corrupt)?,
                comment: row.answer_comment,
                at,
                chat_id: row.answer_chat_id,
            }),
            _ => None,
        };
        debug_assert_eq!(content.deadline, row.deadline);
        Ok(QuestionRecord {
            id: row.id,
            portal_id: row.portal_id,
            kind: row.kind,
            application_id: row.application_id,
            application_number: row.application_number,
            child_iin: row.child_iin,
            child_name: row.child_name,
            month: row.month,
            content,
            created_at: row.created_at,
            withdrawn_at: row.withdrawn_at,
            answer,
            delivered_at: row.delivered_at,
        })
    }
}

/// What putting a question did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionPut {
    /// Asked now, of this many cabinets.
    Created { cabinets: usize },
    /// The same question came again: nothing asked again.
    Unchanged,
    /// A question with this id was asked with other content: it is not edited once asked.
    Differs,
    /// What it concerns is not there (an application unknown, a child no cabinet shows).
    NoTarget,
}

/// An answer given in a chat.
#[derive(Debug, Clone)]
pub struct AnswerGiven<'a> {
    pub question: i64,
    pub cabinet: i64,
    pub chat: i64,
    pub session: i64,
    pub option: &'a OptionCode,
    pub comment: Option<&'a str>,
}

/// What an answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerOutcome {
    /// Recorded: the first answer. Its id is what the portal gets.
    Recorded {
        answer_id: i64,
    },
    /// Another chat (or this one) answered first.
    AlreadyAnswered,
    Withdrawn,
    /// Its deadline passed.
    Expired,
    /// The chat's session is not live (it ended since the card was shown).
    NotLive,
    /// Not a question this cabinet may answer.
    NotFound,
}

/// An answer as the portal gets it: in the webhook's body, and from `GET /api/v1/answers`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PortalAnswer {
    pub id: i64,
    /// The question's id, as the portal gave it.
    pub question: String,
    pub kind: QuestionKind,
    pub option: String,
    pub comment: Option<String>,
    pub answered_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<String>,
    #[sqlx(flatten)]
    pub parent: AnswerParent,
}

/// Whose cabinet the answer came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AnswerParent {
    #[sqlx(rename = "parent_iin")]
    pub iin: String,
    #[sqlx(rename = "parent_locality")]
    pub locality: String,
}

const PORTAL_ANSWER_SELECT: &str = "SELECT q.answer_id AS id, q.portal_id AS question, q.kind, \
    q.answer_option AS option, q.answer_comment AS comment, q.answered_at, \
    a.number AS application, q.child_iin AS child, \
    q.answer_parent_iin AS parent_iin, q.answer_locality AS parent_locality \
    FROM questions q LEFT JOIN applications a ON a.id = q.application_id";

/// How many of `ahead` (reminder lead times, longest first) are behind a question whose
/// deadline is `deadline`, at `now`.
fn reminders_behind(
    ahead: &[chrono::Duration],
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> i64 {
    ahead.iter().filter(|lead| deadline - **lead <= now).count() as i64
}

impl Storage {
    /// Puts a question: asks it of every cabinet it concerns (an event each, pushed ahead of
    /// every other push), once. `ahead`: the reminder lead times (`ANSWER_REMINDER_HOURS`,
    /// longest first); those already past when it comes are not sent.
    pub async fn put_question(
        &self,
        post: &QuestionPost,
        ahead: &[chrono::Duration],
        now: DateTime<Utc>,
    ) -> Result<QuestionPut> {
        let content = serde_json::to_string(&post.content).expect("a question serialises");
        let (application_number, child, month) = match &post.target {
            QuestionTarget::Application(number) => (Some(number.as_str()), None, None),
            QuestionTarget::Child { iin, month } => (None, Some(iin.as_str()), *month),
        };
        let behind = reminders_behind(ahead, post.content.deadline, now);
        let put = in_transaction!(self, tx => 'put: {
            let application: Option<(i64, String)> = match application_number {
                Some(number) => {
                    let found = sqlx::query_as("SELECT id, child_iin FROM applications WHERE number = $1")
                        .bind(number).fetch_optional(&mut *tx).await?;
                    if found.is_none() {
                        break 'put QuestionPut::NoTarget;
                    }
                    found
                }
                None => None,
            };
            let application_id = application.as_ref().map(|(id, _)| *id);
            let cabinets: Vec<i64> = sqlx::query_scalar(CABINETS_OF_QUESTION)
                .bind(application_id).bind(child).fetch_all(&mut *tx).await?;
            if cabinets.is_empty() {
                break 'put QuestionPut::NoTarget;
            }
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO questions (portal_id, kind, application_id, child_iin, month, content, \
                                        deadline, created_at, reminders_sent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (portal_id) DO NOTHING RETURNING id")
                .bind(post.id.as_str()).bind(post.content.kind).bind(application_id).bind(child)
                .bind(month).bind(&content).bind(post.content.deadline).bind(now).bind(behind)
                .fetch_optional(&mut *tx).await?;
            let Some(question) = inserted else {
                let (stored, stored_application, stored_child, stored_month): (String, Option<i64>, Option<String>, Option<NaiveDate>) =
                    sqlx::query_as(
                        "SELECT content, application_id, child_iin, month FROM questions WHERE portal_id = $1")
                    .bind(post.id.as_str()).fetch_one(&mut *tx).await?;
                let same_content = serde_json::from_str::<QuestionContent>(&stored)
                    .is_ok_and(|c| c == post.content);
                let same_target = stored_application == application_id
                    && stored_child.as_deref() == child
                    && stored_month == month;
                break 'put if same_content && same_target {
                    QuestionPut::Unchanged
                } else {
                    QuestionPut::Differs
                };
            };
            let child_iin = child.map(str::to_owned).or(application.map(|(_, c)| c));
            // A question already past its deadline (an import of history) asks no one.
            let asking = if post.content.deadline > now { cabinets.as_slice() } else { &[] };
            for cabinet in asking {
                let event = NewEvent {
                    cabinet_id: *cabinet,
                    kind: EventKind::Question,
                    application_id,
                    referral_id: None,
                    child_iin: child_iin.clone(),
                    details: question_details(post.id.as_str(), &post.content, false),
                    occurred_at: now,
                    dedup_key: format!("question:{question}"),
                    question_id: Some(question),
                };
                record_event!(tx, &event, now);
            }
            QuestionPut::Created { cabinets: cabinets.len() }
        });
        Ok(put)
    }

    /// The question with this id if `cabinet_id` may see it.
    pub async fn question_for_cabinet(
        &self,
        cabinet_id: i64,
        id: i64,
    ) -> Result<Option<QuestionRecord>> {
        let sql = format!(
            "SELECT {QUESTION_COLUMNS} {QUESTION_FROM} WHERE q.id = $1 AND {}",
            concerns_cabinet("q", "$2")
        );
        let row: Option<QuestionRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id).bind(cabinet_id).fetch_optional(pool).await)?;
        row.map(QuestionRecord::from_row).transpose()
    }

    /// The questions a cabinet has still to answer, the nearest deadline first.
    pub async fn open_questions(
        &self,
        cabinet_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<QuestionRecord>> {
        let sql = format!(
            "SELECT {QUESTION_COLUMNS} {QUESTION_FROM} WHERE {} AND {} ORDER BY q.deadline, q.id",
            is_open("$2"),
            concerns_cabinet("q", "$1")
        );
        let rows: Vec<QuestionRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cabinet_id).bind(now).fetch_all(pool).await)?;
        rows.into_iter().map(QuestionRecord::from_row).collect()
    }

    /// How many questions a cabinet has still to answer (the main menu shows it first).
    pub async fn open_question_count(&self, cabinet_id: i64, now: DateTime<Utc>) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM questions q WHERE {} AND {}",
            is_open("$2"),
            concerns_cabinet("q", "$1")
        );
        if let Some(Some(count)) = self
            .direct()
            .and_then(|d| d.scalar(&sql, params![cabinet_id, now]))
        {
            return Ok(count);
        }
        Ok(on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(cabinet_id).bind(now).fetch_one(pool).await)?)
    }

    /// Records an answer — if it is the first, the question still open, and the chat's
    /// session live — in one conditional statement: N chats answering at once record one
    /// answer. The answer gets the next id in the order answers are given (the id row's
    /// lock held to the commit keeps that order the commit order), its event in the feed, and
    /// — with `to_portal` — its delivery to the portal's webhook, in the same transaction.
    pub async fn answer_question(
        &self,
        given: &AnswerGiven<'_>,
        to_portal: bool,
        now: DateTime<Utc>,
    ) -> Result<AnswerOutcome> {
        let sql = format!(
            "UPDATE questions SET answer_option = $1, answer_comment = $2, answered_at = $3, \
                    answer_chat_id = $4, answer_session_id = $5, \
                    answer_parent_iin = (SELECT iin FROM cabinets WHERE id = $7), \
                    answer_locality = (SELECT locality FROM cabinets WHERE id = $7) \
              WHERE id = $6 AND answered_at IS NULL AND withdrawn_at IS NULL AND deadline > $3 \
                AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = $5 AND s.chat_id = $4 \
                            AND s.cabinet_id = $7 AND s.ended_at IS NULL) \
                AND {} \
             RETURNING application_id, COALESCE(child_iin, \
                   (SELECT child_iin FROM applications WHERE id = questions.application_id)), content",
            concerns_cabinet("questions", "$7")
        );
        let recorded = in_transaction_if_ok!(self, tx => 'answer: {
            let row: Option<(Option<i64>, Option<String>, String)> = sqlx::query_as(&sql)
                .bind(given.option.as_str()).bind(given.comment).bind(now).bind(given.chat)
                .bind(given.session).bind(given.question).bind(given.cabinet)
                .fetch_optional(&mut *tx).await?;
            let Some((application_id, child_iin, content)) = row else {
                break 'answer Err(());
            };
            let answer_id: i64 = sqlx::query_scalar(
                "UPDATE id_sequences SET last_id = last_id + 1 WHERE name = 'answers' RETURNING last_id")
                .fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE questions SET answer_id = $1 WHERE id = $2")
                .bind(answer_id).bind(given.question).execute(&mut *tx).await?;
            let content: QuestionContent = serde_json::from_str(&content)
                .map_err(|e| StorageError::Corrupt(format!("a question's content: {e}")))?;
            let option = content.option(given.option);
            let event: Option<i64> = sqlx::query_scalar(
                "INSERT INTO events (cabinet_id, kind, application_id, referral_id, child_iin, details, \
                                     occurred_at, created_at, dedup_key, question_id) \
                 VALUES ($1, 'question_answered', $2, NULL, $3, $4, $5, $5, $6, $7) \
                 ON CONFLICT (cabinet_id, dedup_key) DO NOTHING RETURNING id")
                .bind(given.cabinet).bind(application_id).bind(child_iin)
                .bind(serde_json::json!({
                    "kind": content.kind,
                    "option_kk": option.map(|o| o.label_kk.as_str()),
                    "option_ru": option.map(|o| o.label_ru.as_str()),
                }).to_string())
                .bind(now).bind(format!("answer:{}", given.question)).bind(given.question)
                .fetch_optional(&mut *tx).await?;
            if let (Some(event), true) = (event, to_portal) {
                sqlx::query(
                    "INSERT INTO deliveries (event_id, channel, state, next_attempt_at, created_at, priority) \
                     VALUES ($1, 'portal', 'pending', $2, $2, 0)")
                    .bind(event).bind(now).execute(&mut *tx).await?;
                OutboxBell::ring(&mut *tx).await?;
            }
            Ok(answer_id)
        });
        match recorded {
            Ok(answer_id) => Ok(AnswerOutcome::Recorded { answer_id }),
            Err(()) => self.why_not_answered(given, now).await,
        }
    }

    /// Why an answer was not recorded.
    async fn why_not_answered(
        &self,
        given: &AnswerGiven<'_>,
        now: DateTime<Utc>,
    ) -> Result<AnswerOutcome> {
        let Some(question) = self
            .question_for_cabinet(given.cabinet, given.question)
            .await?
        else {
            return Ok(AnswerOutcome::NotFound);
        };
        Ok(match question.state(now) {
            QuestionState::Answered => AnswerOutcome::AlreadyAnswered,
            QuestionState::Withdrawn => AnswerOutcome::Withdrawn,
            QuestionState::Expired => AnswerOutcome::Expired,
            QuestionState::Open => AnswerOutcome::NotLive,
        })
    }

    /// The question with the portal's id `id`.
    pub async fn question_by_portal_id(&self, id: &PortalId) -> Result<Option<QuestionRecord>> {
        let sql = format!("SELECT {QUESTION_COLUMNS} {QUESTION_FROM} WHERE q.portal_id = $1");
        let row: Option<QuestionRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str()).fetch_optional(pool).await)?;
        row.map(QuestionRecord::from_row).transpose()
    }

    /// Withdraws a question not yet answered; an answered one stays answered. `None` when
    /// there is no such question.
    pub async fn withdraw_question(
        &self,
        id: &PortalId,
        now: DateTime<Utc>,
    ) -> Result<Option<QuestionRecord>> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE questions SET withdrawn_at = $1 \
              WHERE portal_id = $2 AND answered_at IS NULL AND withdrawn_at IS NULL")
            .bind(now).bind(id.as_str()).execute(pool).await.map(|r| r.rows_affected()))?;
        self.question_by_portal_id(id).await
    }

    /// Answers in the order they were given, after the answer `after` (0: from the first).
    pub async fn answers_after(&self, after: i64, limit: i64) -> Result<Vec<PortalAnswer>> {
        let sql =
            format!("{PORTAL_ANSWER_SELECT} WHERE q.answer_id > $1 ORDER BY q.answer_id LIMIT $2");
        Ok(
            on_pool!(self, pool => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(pool).await)?,
        )
    }

    /// The answer to question `question` (its row id), as the portal gets it.
    pub async fn portal_answer(&self, question: i64) -> Result<Option<PortalAnswer>> {
        let sql = format!("{PORTAL_ANSWER_SELECT} WHERE q.id = $1 AND q.answer_id IS NOT NULL");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(question).fetch_optional(pool).await)?)
    }

    /// The portal's webhook took the answer to question `question`.
    pub async fn mark_answer_delivered(&self, question: i64, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE questions SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL")
            .bind(now).bind(question).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// When the oldest answer the portal's webhook has not taken yet was given.
    pub async fn oldest_undelivered_answer(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT answered_at FROM questions WHERE answer_id IS NOT NULL AND delivered_at IS NULL \
             ORDER BY answer_id LIMIT 1")
            .fetch_optional(pool).await)?)
    }

    /// Records the reminders that are due at `now` — for each open question, the next of
    /// `ahead` (lead times before the deadline, longest first) whose time has come — as
    /// events pushed like the question, the last of them with sound whatever the hour.
    /// Once each: the question's count of reminders behind it moves in the same
    /// transaction, conditionally. Returns how many were recorded.
    pub async fn record_due_question_reminders(
        &self,
        ahead: &[chrono::Duration],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let Some(longest) = ahead.first() else {
            return Ok(0);
        };
        let due: Vec<(i64, i64, DateTime<Utc>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT q.id, q.reminders_sent, q.deadline FROM questions q \
              WHERE q.answered_at IS NULL AND q.withdrawn_at IS NULL \
                AND q.deadline > $1 AND q.deadline <= $2 AND q.reminders_sent < $3 \
              ORDER BY q.deadline")
            .bind(now).bind(now + *longest).bind(ahead.len() as i64)
            .fetch_all(pool).await)?;
        let mut recorded = 0;
        for (question, sent, deadline) in due {
            let behind = reminders_behind(ahead, deadline, now);
            if behind <= sent {
                continue;
            }
            let last = behind == ahead.len() as i64;
            let done = in_transaction!(self, tx => {
                let moved = sqlx::query(
                    "UPDATE questions SET reminders_sent = $1 WHERE id = $2 AND reminders_sent = $3 \
                     AND answered_at IS NULL AND withdrawn_at IS NULL")
                    .bind(behind).bind(question).bind(sent).execute(&mut *tx).await?.rows_affected();
                if moved == 1 {
                    let row: (Option<i64>, Option<String>, String, String) = sqlx::query_as(
                        "SELECT q.application_id, COALESCE(q.child_iin, a.child_iin), q.content, q.portal_id \
                           FROM questions q LEFT JOIN applications a ON a.id = q.application_id WHERE q.id = $1")
                        .bind(question).fetch_one(&mut *tx).await?;
                    let (application_id, child_iin, content, portal_id) = row;
                    let content: QuestionContent = serde_json::from_str(&content)
                        .map_err(|e| StorageError::Corrupt(format!("a question's content: {e}")))?;
                    let cabinets: Vec<i64> = sqlx::query_scalar(CABINETS_OF_QUESTION)
                        .bind(application_id).bind(child_iin.as_deref()).fetch_all(&mut *tx).await?;
                    for cabinet in cabinets {
                        let event = NewEvent {
                            cabinet_id: cabinet,
                            kind: EventKind::QuestionReminder,
                            application_id,
                            referral_id: None,
                            child_iin: child_iin.clone(),
                            details: question_details(&portal_id, &content, last),
                            occurred_at: now,
                            dedup_key: format!("question-reminder:{question}:{behind}"),
                            question_id: Some(question),
                        };
                        record_event!(tx, &event, now);
                    }
                }
                moved
            });
            recorded += done;
        }
        Ok(recorded)
    }

    /// When the next reminder of an open question falls due, if any.
    pub async fn next_question_reminder(
        &self,
        ahead: &[chrono::Duration],
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let Some(longest) = ahead.first() else {
            return Ok(None);
        };
        // Only questions whose first reminder falls within the hour, the nearest hundred:
        // the scheduler looks again at least every minute anyway.
        let open: Vec<(i64, DateTime<Utc>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT reminders_sent, deadline FROM questions \
              WHERE answered_at IS NULL AND withdrawn_at IS NULL AND deadline > $1 \
                AND reminders_sent < $2 AND deadline <= $3 ORDER BY deadline LIMIT 100")
            .bind(now).bind(ahead.len() as i64).bind(now + *longest + chrono::Duration::hours(1))
            .fetch_all(pool).await)?;
        Ok(open
            .into_iter()
            .filter_map(|(sent, deadline)| {
                ahead
                    .get(usize::try_from(sent).ok()?)
                    .map(|lead| deadline - *lead)
            })
            .min())
    }
}

/// What a question's event needs for its texts (the feed line, the push, the SMS).
fn question_details(portal_id: &str, c: &QuestionContent, loud: bool) -> serde_json::Value {
    let mut details = serde_json::json!({
        "question": portal_id,
        "kind": c.kind,
        "deadline": c.deadline,
        "text_kk": c.text_kk,
        "text_ru": c.text_ru,
    });
    if loud {
        // The last reminder sounds even in quiet hours.
        details["loud"] = true.into();
    }
    details
}
