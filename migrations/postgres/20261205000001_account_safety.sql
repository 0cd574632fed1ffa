-- Account safety (SPEC §5): strangers pay for their own attempts, and a step inside the
-- cabinet belongs to the session that began it. (Cabinet ids: the identity column never
-- reuses one; SQLite keeps the highest id given in a table of its own.)

-- Wrong passwords are counted per chat: a chat that makes LOGIN_MAX_FAILURES of them is
-- locked out of that cabinet; the cabinet itself locks only when they come from several
-- chats. `failures` counts attempts reserved and not yet proved right; a lock's length
-- doubles with `lockouts`, which a day without failures forgets.
CREATE TABLE login_failures (
    cabinet_id       BIGINT NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    chat_id          BIGINT NOT NULL,
    failures         BIGINT NOT NULL DEFAULT 0,
    lockouts         BIGINT NOT NULL DEFAULT 0,
    locked_until     TIMESTAMPTZ,
    last_failure_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cabinet_id, chat_id)
);
CREATE INDEX login_failures_last ON login_failures (last_failure_at);

-- The cabinet's own count of wrong passwords forgets them after a day without any.
ALTER TABLE cabinets ADD COLUMN last_failure_at TIMESTAMPTZ;

-- A code asked for inside the cabinet (a new main phone) belongs to the session that asked:
-- when that session ends, the code no longer works.
ALTER TABLE otp_codes ADD COLUMN session_id BIGINT;
