-- The kinds and statuses the code knows, checked by the database too, as the other
-- vocabularies already were (a test compares this schema with SQLite's).
ALTER TABLE applications ADD CONSTRAINT applications_kind_check
    CHECK (kind IN ('kindergarten', 'first_grade', 'transfer', 'club'));
ALTER TABLE applications ADD CONSTRAINT applications_privilege_check
    CHECK (privilege IN ('extraordinary', 'priority'));
ALTER TABLE applications ADD CONSTRAINT applications_status_check
    CHECK (status IN ('submitted', 'in_review', 'queued', 'waiting_list', 'referral_issued', 'inactive', 'enrolled', 'rejected', 'cancelled'));
ALTER TABLE application_history ADD CONSTRAINT application_history_status_check
    CHECK (status IN ('submitted', 'in_review', 'queued', 'waiting_list', 'referral_issued', 'inactive', 'enrolled', 'rejected', 'cancelled'));
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('application_status', 'referral_issued', 'referral_used', 'referral_expired', 'referral_revoked', 'referral_expires_soon', 'club_enrolled'));
