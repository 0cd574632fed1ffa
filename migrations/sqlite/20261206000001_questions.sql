-- Questions that need a parent's answer by a deadline (SPEC §1.11), and the answers that go
-- back to the portal.

-- A question concerns an application (put to the cabinet it belongs to now) or a child (put
-- to every cabinet that shows the child now): who may answer is read from those, never kept
-- beside them, so a moved application takes its questions with it. `content` is the
-- question as posted (texts, deadline, options; JSON): a repeated PUT is compared with it.
-- The answer is written into the question's own row by one conditional statement — the
-- first answer wins — with `answer_id`, the order answers were given in: the cursor of
-- GET /api/v1/answers and the id the portal's webhook de-duplicates by.
CREATE TABLE questions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id          TEXT NOT NULL UNIQUE,
    kind               TEXT NOT NULL CHECK (kind IN ('place_offer', 'choose_institution', 'referral_extension', 'attendance_approval', 'privilege_visit', 'other')),
    application_id     INTEGER REFERENCES applications (id) ON DELETE CASCADE,
    child_iin          TEXT REFERENCES children (iin) ON DELETE CASCADE,
    month              TEXT,
    content            TEXT NOT NULL,
    deadline           TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    withdrawn_at       TEXT,
    -- How many of ANSWER_REMINDER_HOURS' reminders are behind it (sent, or past already
    -- when the question came).
    reminders_sent     INTEGER NOT NULL DEFAULT 0,
    answer_id          INTEGER UNIQUE,
    answer_option      TEXT,
    answer_comment     TEXT,
    answered_at        TEXT,
    answer_chat_id     INTEGER,
    answer_session_id  INTEGER,
    -- The answering cabinet's parent, as the portal knows them (kept: the cabinet may go).
    answer_parent_iin  TEXT,
    answer_locality    TEXT,
    -- When the portal's webhook took the answer (a 2xx).
    delivered_at       TEXT
);
CREATE INDEX questions_application ON questions (application_id) WHERE application_id IS NOT NULL;
CREATE INDEX questions_child ON questions (child_iin) WHERE child_iin IS NOT NULL;
CREATE INDEX questions_open ON questions (deadline) WHERE answered_at IS NULL AND withdrawn_at IS NULL;
CREATE INDEX questions_undelivered ON questions (answer_id) WHERE answer_id IS NOT NULL AND delivered_at IS NULL;

-- Answer ids come from here, one at a time: the row's lock is held until the answer
-- commits, so ids are committed in order and a reader paging by them never skips one.
INSERT INTO id_sequences (name, last_id) VALUES ('answers', 0);

ALTER TABLE events ADD COLUMN question_id INTEGER REFERENCES questions (id) ON DELETE CASCADE;
CREATE INDEX events_question ON events (question_id) WHERE question_id IS NOT NULL;
DROP TRIGGER events_kind_check_insert;
DROP TRIGGER events_kind_check_update;
CREATE TRIGGER events_kind_check_insert BEFORE INSERT ON events
WHEN NEW.kind NOT IN ('application_status', 'referral_issued', 'referral_used', 'referral_expired', 'referral_revoked', 'referral_expires_soon', 'club_enrolled', 'announcement', 'question', 'question_reminder', 'question_answered')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: events.kind');
END;
CREATE TRIGGER events_kind_check_update BEFORE UPDATE OF kind ON events
WHEN NEW.kind NOT IN ('application_status', 'referral_issued', 'referral_used', 'referral_expired', 'referral_revoked', 'referral_expires_soon', 'club_enrolled', 'announcement', 'question', 'question_reminder', 'question_answered')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: events.kind');
END;

-- The outbox learns a fourth channel (the portal's webhook) and a first priority class
-- (questions, ahead of every other push): 0 a question, 1 a parent's own push, 2 an
-- announcement. SQLite changes a CHECK only by rebuilding the table; nothing refers to
-- deliveries, so it is rebuilt in place.
CREATE TABLE deliveries_new (
    id               INTEGER PRIMARY KEY,
    event_id         INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    channel          TEXT NOT NULL CHECK (channel IN ('telegram', 'sms', 'email', 'portal')),
    -- Telegram: the chat; SMS: the phone; e-mail: the address; the portal: none.
    chat_id          INTEGER,
    address          TEXT,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_at       TEXT,
    last_error       TEXT,
    sent_at          TEXT,
    created_at       TEXT NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 1 CHECK (priority IN (0, 1, 2))
);
INSERT INTO deliveries_new (id, event_id, channel, chat_id, address, state, attempts,
                            next_attempt_at, claimed_at, last_error, sent_at, created_at, priority)
SELECT id, event_id, channel, chat_id, address, state, attempts,
       next_attempt_at, claimed_at, last_error, sent_at, created_at, priority + 1
  FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_claimed ON deliveries (claimed_at) WHERE state = 'sending';
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_open_chat ON deliveries (chat_id, id) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_open_address ON deliveries (address, id) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_sent ON deliveries (channel, sent_at) WHERE state = 'sent';
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE state IN ('sent', 'failed', 'dropped');
CREATE INDEX deliveries_due_by_priority ON deliveries (priority, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX deliveries_pending_age ON deliveries (priority, created_at) WHERE state = 'pending';
