-- The last update handled in each chat (webhook mode): Telegram retries an update it got
-- no 2xx for, maybe to another replica, and a retry of one already handled is skipped.
CREATE TABLE chat_updates (
    chat_id         BIGINT PRIMARY KEY,
    last_update_id  BIGINT NOT NULL,
    handled_at      TIMESTAMPTZ NOT NULL
);

