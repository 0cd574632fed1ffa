-- The kinds and statuses the code knows, checked by the database too, as the other
-- vocabularies already were and as PostgreSQL now checks them (a test compares the two
-- schemas). SQLite adds a CHECK constraint to a table only by rebuilding it, and its
-- migrations run in a transaction, where foreign keys cannot be turned off: dropping the
-- old table would cascade to every row that refers to it. A trigger on each write checks
-- the same rule instead; tests/schema.rs reads these triggers as the CHECKs they stand for.

CREATE TRIGGER applications_kind_check_insert BEFORE INSERT ON applications
WHEN NEW.kind NOT IN ('kindergarten', 'first_grade', 'transfer', 'club')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: applications.kind');
END;

CREATE TRIGGER applications_kind_check_update BEFORE UPDATE OF kind ON applications
WHEN NEW.kind NOT IN ('kindergarten', 'first_grade', 'transfer', 'club')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: applications.kind');
END;

CREATE TRIGGER applications_privilege_check_insert BEFORE INSERT ON applications
WHEN NEW.privilege IS NOT NULL AND NEW.privilege NOT IN ('extraordinary', 'priority')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: applications.privilege');
END;

CREATE TRIGGER applications_privilege_check_update BEFORE UPDATE OF privilege ON applications
WHEN NEW.privilege IS NOT NULL AND NEW.privilege NOT IN ('extraordinary', 'priority')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: applications.privilege');
END;

CREATE TRIGGER applications_status_check_insert BEFORE INSERT ON applications
WHEN NEW.status NOT IN ('submitted', 'in_review', 'queued', 'waiting_list', 'referral_issued', 'inactive', 'enrolled', 'rejected', 'cancelled')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: applications.status');
END;

CREATE TRIGGER applications_status_check_update BEFORE UPDATE OF status ON applications
WHEN NEW.status NOT IN ('submitted', 'in_review', 'queued', 'waiting_list', 'referral_issued', 'inactive', 'enrolled', 'rejected', 'cancelled')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: applications.status');
END;

CREATE TRIGGER application_history_status_check_insert BEFORE INSERT ON application_history
WHEN NEW.status NOT IN ('submitted', 'in_review', 'queued', 'waiting_list', 'referral_issued', 'inactive', 'enrolled', 'rejected', 'cancelled')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: application_history.status');
END;

CREATE TRIGGER application_history_status_check_update BEFORE UPDATE OF status ON application_history
WHEN NEW.status NOT IN ('submitted', 'in_review', 'queued', 'waiting_list', 'referral_issued', 'inactive', 'enrolled', 'rejected', 'cancelled')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: application_history.status');
END;

CREATE TRIGGER events_kind_check_insert BEFORE INSERT ON events
WHEN NEW.kind NOT IN ('application_status', 'referral_issued', 'referral_used', 'referral_expired', 'referral_revoked', 'referral_expires_soon', 'club_enrolled')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: events.kind');
END;

CREATE TRIGGER events_kind_check_update BEFORE UPDATE OF kind ON events
WHEN NEW.kind NOT IN ('application_status', 'referral_issued', 'referral_used', 'referral_expired', 'referral_revoked', 'referral_expires_soon', 'club_enrolled')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: events.kind');
END;
