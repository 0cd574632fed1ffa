-- Questions that need a parent's answer by a deadline (SPEC §1.11), and the answers that go
-- back to the portal. (The SQLite migration of the same name explains the columns.)

CREATE TABLE questions (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portal_id          TEXT NOT NULL UNIQUE,
    kind               TEXT NOT NULL CHECK (kind IN ('place_offer', 'choose_institution', 'referral_extension', 'attendance_approval', 'privilege_visit', 'other')),
    application_id     BIGINT REFERENCES applications (id) ON DELETE CASCADE,
    child_iin          TEXT REFERENCES children (iin) ON DELETE CASCADE,
    month              DATE,
    content            TEXT NOT NULL,
    deadline           TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    withdrawn_at       TIMESTAMPTZ,
    reminders_sent     BIGINT NOT NULL DEFAULT 0,
    answer_id          BIGINT UNIQUE,
    answer_option      TEXT,
    answer_comment     TEXT,
    answered_at        TIMESTAMPTZ,
    answer_chat_id     BIGINT,
    answer_session_id  BIGINT,
    answer_parent_iin  TEXT,
    answer_locality    TEXT,
    delivered_at       TIMESTAMPTZ
);
CREATE INDEX questions_application ON questions (application_id) WHERE application_id IS NOT NULL;
CREATE INDEX questions_child ON questions (child_iin) WHERE child_iin IS NOT NULL;
CREATE INDEX questions_open ON questions (deadline) WHERE answered_at IS NULL AND withdrawn_at IS NULL;
CREATE INDEX questions_undelivered ON questions (answer_id) WHERE answer_id IS NOT NULL AND delivered_at IS NULL;

-- Answer ids come from here, one at a time: the row's lock is held until the answer
-- commits, so ids are committed in order and a reader paging by them never skips one.
CREATE TABLE id_sequences (
    name     TEXT PRIMARY KEY,
    last_id  BIGINT NOT NULL
);
INSERT INTO id_sequences (name, last_id) VALUES ('answers', 0);

ALTER TABLE events ADD COLUMN question_id BIGINT REFERENCES questions (id) ON DELETE CASCADE;
CREATE INDEX events_question ON events (question_id) WHERE question_id IS NOT NULL;
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('application_status', 'referral_issued', 'referral_used', 'referral_expired', 'referral_revoked', 'referral_expires_soon', 'club_enrolled', 'announcement', 'question', 'question_reminder', 'question_answered'));

-- The portal's webhook is a fourth channel; questions are a first priority class: 0 a
-- question, 1 a parent's own push, 2 an announcement.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('telegram', 'sms', 'email', 'portal'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_priority_check;
UPDATE deliveries SET priority = priority + 1;
ALTER TABLE deliveries ALTER COLUMN priority SET DEFAULT 1;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_priority_check CHECK (priority IN (0, 1, 2));
