-- Codes belong to the chat that asked for them: another chat, even one naming the same
-- IIN, can neither enter nor replace them.
ALTER TABLE otp_codes ADD COLUMN chat_id INTEGER;
CREATE INDEX otp_codes_chat ON otp_codes (cabinet_id, chat_id, purpose, created_at);
CREATE INDEX otp_codes_created ON otp_codes (created_at);

-- The cabinet's code counters, reserved by one statement before a code is made: the pause
-- between codes and the daily cap hold however many chats ask at once.
ALTER TABLE cabinets ADD COLUMN last_code_at TEXT;
ALTER TABLE cabinets ADD COLUMN code_day_start TEXT;
ALTER TABLE cabinets ADD COLUMN codes_today INTEGER NOT NULL DEFAULT 0;
-- When the parent agreed to the processing of personal data (PRIVACY_POLICY_URL).
ALTER TABLE cabinets ADD COLUMN consented_at TEXT;

-- The Telegram name of the chat, for Settings → active sessions.
ALTER TABLE chats ADD COLUMN display_name TEXT;

-- The periodic job: sessions idle or too old end; old rows go after RETENTION_DAYS.
CREATE INDEX sessions_live_seen ON sessions (last_seen_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_live_started ON sessions (started_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE state IN ('sent', 'failed', 'dropped');
CREATE INDEX rate_limits_window ON rate_limits (window_start);
