-- Kabinet's data model (SQLite). Times are RFC 3339 text in UTC, dates YYYY-MM-DD.
-- The PostgreSQL migration of the same name holds the same model.

-- The portal's reference data ------------------------------------------------------------

CREATE TABLE localities (
    code        TEXT PRIMARY KEY,
    name_kk     TEXT NOT NULL,
    name_ru     TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE institutions (
    id          TEXT PRIMARY KEY,
    locality    TEXT NOT NULL REFERENCES localities (code),
    kind        TEXT NOT NULL CHECK (kind IN ('kindergarten', 'school', 'club_center')),
    name_kk     TEXT NOT NULL,
    name_ru     TEXT NOT NULL,
    address     TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX institutions_locality ON institutions (locality);

-- Cabinets: one per parent per locality (memo: "opens automatically with the first
-- application") ---------------------------------------------------------------------------

CREATE TABLE cabinets (
    id                   INTEGER PRIMARY KEY,
    locality             TEXT NOT NULL REFERENCES localities (code),
    iin                  TEXT NOT NULL,
    full_name            TEXT NOT NULL,
    phone                TEXT NOT NULL,
    email                TEXT,
    language             TEXT NOT NULL CHECK (language IN ('kk', 'ru')),
    password_hash        TEXT,
    password_changed_at  TEXT,
    notify_telegram      INTEGER NOT NULL DEFAULT 1,
    notify_sms           INTEGER NOT NULL DEFAULT 0,
    notify_email         INTEGER NOT NULL DEFAULT 0,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    lockouts             INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (locality, iin)
);

CREATE TABLE cabinet_extra_phones (
    cabinet_id  INTEGER NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (cabinet_id, phone)
);

-- Children are keyed by their own IIN: two parents may each have a cabinet that shows the
-- same child.
CREATE TABLE children (
    iin         TEXT PRIMARY KEY,
    full_name   TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE cabinet_children (
    cabinet_id  INTEGER NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    child_iin   TEXT NOT NULL REFERENCES children (iin) ON DELETE CASCADE,
    PRIMARY KEY (cabinet_id, child_iin)
);
CREATE INDEX cabinet_children_child ON cabinet_children (child_iin);

-- Applications, their preferences and history ---------------------------------------------

CREATE TABLE applications (
    id                 INTEGER PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    cabinet_id         INTEGER NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    child_iin          TEXT NOT NULL REFERENCES children (iin),
    locality           TEXT NOT NULL REFERENCES localities (code),
    kind               TEXT NOT NULL,
    desired_date       TEXT NOT NULL,
    language           TEXT NOT NULL CHECK (language IN ('kk', 'ru')),
    privilege          TEXT,
    submitted_at       TEXT NOT NULL,
    status             TEXT NOT NULL,
    queue_position     INTEGER,
    status_changed_at  TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX applications_cabinet ON applications (cabinet_id, submitted_at);

CREATE TABLE application_institutions (
    application_id  INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    preference      INTEGER NOT NULL,
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    PRIMARY KEY (application_id, preference)
);

CREATE TABLE application_history (
    id              INTEGER PRIMARY KEY,
    application_id  INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    changed_at      TEXT NOT NULL,
    comment         TEXT,
    queue_position  INTEGER,
    -- The portal's event id: a replayed status change finds its row here and does nothing.
    event_id        TEXT,
    UNIQUE (application_id, event_id)
);
CREATE INDEX application_history_application ON application_history (application_id, changed_at);

-- Referrals -------------------------------------------------------------------------------

CREATE TABLE referrals (
    id                INTEGER PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    application_id    INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    institution_id    TEXT NOT NULL REFERENCES institutions (id),
    group_name        TEXT NOT NULL,
    issued_at         TEXT NOT NULL,
    valid_until       TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'used', 'expired', 'revoked')),
    reminded_at       TEXT,
    updated_at        TEXT NOT NULL
);
CREATE INDEX referrals_application ON referrals (application_id);
CREATE INDEX referrals_reminder ON referrals (status, valid_until) WHERE reminded_at IS NULL;

-- Personal files, clubs, attendance --------------------------------------------------------

CREATE TABLE child_files (
    child_iin       TEXT PRIMARY KEY REFERENCES children (iin) ON DELETE CASCADE,
    institution_id  TEXT NOT NULL REFERENCES institutions (id),
    group_name      TEXT NOT NULL,
    opened_on       TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE clubs (
    id          TEXT PRIMARY KEY,
    name_kk     TEXT NOT NULL,
    name_ru     TEXT NOT NULL,
    teacher     TEXT NOT NULL,
    schedule    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE club_enrollments (
    child_iin    TEXT NOT NULL REFERENCES children (iin) ON DELETE CASCADE,
    club_id      TEXT NOT NULL REFERENCES clubs (id),
    enrolled_at  TEXT NOT NULL,
    PRIMARY KEY (child_iin, club_id)
);

CREATE TABLE attendance (
    child_iin  TEXT NOT NULL REFERENCES children (iin) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('present', 'absent', 'excused')),
    note       TEXT,
    PRIMARY KEY (child_iin, day)
);

-- Events (the feed) and the delivery outbox -------------------------------------------------

CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    cabinet_id      INTEGER NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    application_id  INTEGER REFERENCES applications (id) ON DELETE CASCADE,
    referral_id     INTEGER REFERENCES referrals (id) ON DELETE CASCADE,
    child_iin       TEXT,
    -- What the texts need that may change later (the status reached, a comment, a club).
    details         TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    read_at         TEXT,
    -- Makes producing an event idempotent: "status:<application>:<event_id>",
    -- "reminder:<referral>" …
    dedup_key       TEXT NOT NULL,
    UNIQUE (cabinet_id, dedup_key)
);
CREATE INDEX events_feed ON events (cabinet_id, occurred_at DESC, id DESC);
CREATE INDEX events_unread ON events (cabinet_id) WHERE read_at IS NULL;

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    event_id         INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    channel          TEXT NOT NULL CHECK (channel IN ('telegram', 'sms', 'email')),
    -- Telegram: the chat; SMS: the phone; e-mail: the address.
    chat_id          INTEGER,
    address          TEXT,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_at       TEXT,
    last_error       TEXT,
    sent_at          TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_claimed ON deliveries (claimed_at) WHERE state = 'sending';
CREATE INDEX deliveries_event ON deliveries (event_id);

-- Telegram: chats, their dialogue state, and login sessions ---------------------------------

CREATE TABLE chats (
    chat_id       INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    language      TEXT NOT NULL CHECK (language IN ('kk', 'ru')),
    locality      TEXT REFERENCES localities (code) ON DELETE SET NULL,
    -- The dialogue state as JSON; never holds a password or a code.
    dialogue      TEXT NOT NULL,
    blocked_at    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX chats_user ON chats (user_id);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
    cabinet_id    INTEGER NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    started_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    ended_at      TEXT,
    end_reason    TEXT
);
CREATE UNIQUE INDEX sessions_live_chat ON sessions (chat_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_live_cabinet ON sessions (cabinet_id) WHERE ended_at IS NULL;

-- Authentication -----------------------------------------------------------------------------

CREATE TABLE otp_codes (
    id           INTEGER PRIMARY KEY,
    cabinet_id   INTEGER NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL CHECK (purpose IN ('login', 'reset', 'phone_change')),
    phone        TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    consumed_at  TEXT
);
CREATE INDEX otp_codes_cabinet ON otp_codes (cabinet_id, created_at);

-- Fixed-window counters: IIN look-ups per Telegram user and the like.
CREATE TABLE rate_limits (
    bucket        TEXT PRIMARY KEY,
    window_start  TEXT NOT NULL,
    hits          INTEGER NOT NULL
);
