-- Account safety (SPEC §5): strangers pay for their own attempts, and a step inside the
-- cabinet belongs to the session that began it.

-- Cabinet ids are never reused. SQLite gives a new row the highest id in the table plus one,
-- so after the newest cabinet is deleted the next one got its id, and a chat still waiting
-- at a prompt for the old cabinet could act on the new one. AUTOINCREMENT would need the
-- table rebuilt, which a migration cannot do here (foreign keys cannot be turned off inside
-- its transaction, and dropping the table would cascade to every row that refers to it).
-- Instead the highest id ever given is kept, and a new cabinet takes the one after it.
-- (PostgreSQL's identity column never reuses an id.)
CREATE TABLE id_sequences (
    name     TEXT PRIMARY KEY,
    last_id  INTEGER NOT NULL
);
INSERT INTO id_sequences (name, last_id) SELECT 'cabinets', COALESCE(MAX(id), 0) FROM cabinets;
CREATE TRIGGER cabinets_id_high_water AFTER INSERT ON cabinets
BEGIN
    UPDATE id_sequences SET last_id = MAX(last_id, NEW.id) WHERE name = 'cabinets';
END;

-- Wrong passwords are counted per chat: a chat that makes LOGIN_MAX_FAILURES of them is
-- locked out of that cabinet; the cabinet itself locks only when they come from several
-- chats. `failures` counts attempts reserved and not yet proved right; a lock's length
-- doubles with `lockouts`, which a day without failures forgets.
CREATE TABLE login_failures (
    cabinet_id       INTEGER NOT NULL REFERENCES cabinets (id) ON DELETE CASCADE,
    chat_id          INTEGER NOT NULL,
    failures         INTEGER NOT NULL DEFAULT 0,
    lockouts         INTEGER NOT NULL DEFAULT 0,
    locked_until     TEXT,
    last_failure_at  TEXT NOT NULL,
    PRIMARY KEY (cabinet_id, chat_id)
);
CREATE INDEX login_failures_last ON login_failures (last_failure_at);

-- The cabinet's own count of wrong passwords forgets them after a day without any.
ALTER TABLE cabinets ADD COLUMN last_failure_at TEXT;

-- A code asked for inside the cabinet (a new main phone) belongs to the session that asked:
-- when that session ends, the code no longer works.
ALTER TABLE otp_codes ADD COLUMN session_id INTEGER;
