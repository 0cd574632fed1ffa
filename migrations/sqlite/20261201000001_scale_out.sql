-- The last update handled in each chat (webhook mode): Telegram retries an update it got
-- no 2xx for, maybe to another replica, and a retry of one already handled is skipped —
-- answered with the Bot API call its first answer carried (a button press's answer).
-- `started_update_id` is written, on its own, as an update begins: a retry of an update
-- begun and never marked handled was cut short by a replica that died, and is shown anew.
CREATE TABLE chat_updates (
    chat_id         INTEGER PRIMARY KEY,
    last_update_id  INTEGER NOT NULL,
    handled_at      TEXT NOT NULL,
    reply           TEXT,
    started_update_id INTEGER
);
-- Marks older than RETENTION_DAYS go with the rest of history (Telegram retries for a day).
CREATE INDEX chat_updates_handled ON chat_updates (handled_at);
