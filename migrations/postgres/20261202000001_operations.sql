-- Announcements (SPEC §2): the education department speaks to a group of parents. The
-- audience is resolved when it is posted: one event per cabinet (the feed) and one
-- delivery per logged-in chat, sent after the parents' own pushes.
CREATE TABLE announcements (
    id            TEXT PRIMARY KEY,
    text_kk       TEXT NOT NULL,
    text_ru       TEXT NOT NULL,
    -- The audience as posted (JSON): a repeated PUT must name the same one.
    audience      TEXT NOT NULL,
    silent        BOOLEAN NOT NULL,
    recipients    BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    cancelled_at  TIMESTAMPTZ
);

ALTER TABLE events ADD COLUMN announcement_id TEXT REFERENCES announcements (id) ON DELETE CASCADE;
CREATE INDEX events_announcement ON events (announcement_id) WHERE announcement_id IS NOT NULL;
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('application_status', 'referral_issued', 'referral_used', 'referral_expired', 'referral_revoked', 'referral_expires_soon', 'club_enrolled', 'announcement'));

-- 0: a parent's own push; 1: an announcement. Lower goes first.
ALTER TABLE deliveries ADD COLUMN priority BIGINT NOT NULL DEFAULT 0 CHECK (priority IN (0, 1));
CREATE INDEX deliveries_due_by_priority ON deliveries (priority, next_attempt_at, id) WHERE state = 'pending';
-- The outbox's depth and oldest age for /metrics, read from the open rows alone.
CREATE INDEX deliveries_pending_age ON deliveries (priority, created_at) WHERE state = 'pending';
