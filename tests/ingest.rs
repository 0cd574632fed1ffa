//! What the portal sends is checked field by field; every bad field is named.

use kabinet::ingest::{
    parse_application, parse_attendance, parse_child_file, parse_referral, parse_status_change,
};
use serde_json::json;

fn fields(err: kabinet::ingest::Invalid) -> Vec<String> {
    err.0.into_iter().map(|e| e.field).collect()
}

#[test]
fn a_good_application_parses() {
    let doc = kabinet::demo::document();
    let a = parse_application("ALM-2026-000137", &doc["applications"][0], "").unwrap();
    assert_eq!(a.parent.phone.as_str(), "+77011234545");
    assert_eq!(a.institutions.len(), 2);
}

#[test]
fn every_bad_field_of_an_application_is_named() {
    let body = json!({
        "locality": "Алматы",
        "parent": {"iin": "123", "full_name": "", "phone": "+7 727 123 45 67", "email": "not-an-address"},
        "child": {"iin": "190902622229", "full_name": "Аяла", "birth_date": "2019-09-03"},
        "kind": "university",
        "institutions": [],
        "desired_date": "01.09.2027",
        "language": "en",
        "privilege": "vip",
        "submitted_at": "yesterday",
        "status": "approved",
        "queue_position": 0
    });
    let err = parse_application("bad/number", &body, "").unwrap_err();
    assert_eq!(
        fields(err),
        [
            "number",
            "locality",
            "parent.iin",
            "parent.full_name",
            "parent.phone",
            "parent.email",
            "child.birth_date",
            "kind",
            "institutions",
            "desired_date",
            "language",
            "privilege",
            "submitted_at",
            "status",
            "queue_position",
        ]
    );
}

#[test]
fn missing_and_mistyped_fields() {
    let err = parse_application(
        "A-1",
        &json!({"parent": "Aigerim", "institutions": "alm-ds-12"}),
        "",
    )
    .unwrap_err();
    let f = fields(err.clone());
    assert!(
        f.contains(&"locality".to_owned())
            && f.contains(&"parent".to_owned())
            && f.contains(&"institutions".to_owned()),
        "{f:?}"
    );
    assert!(
        err.0
            .iter()
            .any(|e| e.field == "parent" && e.problem == "must be a JSON object")
    );
    assert!(
        err.0
            .iter()
            .any(|e| e.field == "locality" && e.problem == "is required")
    );
    let err = parse_status_change(&json!([1, 2]), "").unwrap_err();
    assert_eq!(err.0[0].field, "(body)");
}

#[test]
fn referral_dates_must_make_sense() {
    let body = json!({
        "application": "A-1", "institution": "alm-sch-154", "group": "1 А",
        "issued_at": "2026-11-24T09:00:00+05:00", "valid_until": "2026-11-20T09:00:00+05:00",
        "status": "active"
    });
    assert_eq!(
        fields(parse_referral("R-1", &body, "").unwrap_err()),
        ["valid_until"]
    );
}

#[test]
fn clubs_and_attendance_items_have_their_paths() {
    let file = json!({
        "institution": "alm-sch-154", "group": "1 А", "opened_at": "2026-09-01",
        "clubs": [{"id": "c1", "name_kk": "Шахмат", "name_ru": "Шахматы", "teacher": "Т", "schedule": "Дс"},
                  {"id": "c1", "name_kk": "", "name_ru": "Шахматы", "teacher": "Т", "schedule": "Дс"}]
    });
    assert_eq!(
        fields(parse_child_file("190902622229", &file, "").unwrap_err()),
        ["clubs[1].name_kk", "clubs[1].id"]
    );
    let attendance = json!({"records": [{"date": "2026-11-02", "status": "present"}, {"date": "2026-11-31", "status": "late"}]});
    assert_eq!(
        fields(parse_attendance("190902622229", &attendance, "").unwrap_err()),
        ["records[1].date", "records[1].status"]
    );
}
