//! The bodies the API takes, described once in code: the OpenAPI document is generated from
//! these descriptions, and a test feeds each example through the parser that really reads
//! the body and drops each required field and spoils each enum in turn, so the document
//! cannot drift from what the API accepts.

use serde_json::{Value, json};

use crate::domain::{
    ApplicationKind, ApplicationStatus, AttendanceStatus, CommentRule, InstitutionKind,
    LocalityCode, MAX_OPTIONS, MIN_OPTIONS, OptionCode, PortalId, Privilege, QuestionKind,
    ReferralStatus,
};
use crate::ingest::{
    ADDRESS_MAX, ANNOUNCEMENT_MAX, COMMENT_MAX, GROUP_MAX, IF_UNANSWERED_MAX,
    MAX_ATTENDANCE_RECORDS, MAX_AUDIENCE_INSTITUTIONS, MAX_PREFERENCES, NAME_MAX, NOTE_MAX,
    OPTION_LABEL_MAX, QUESTION_TEXT_MAX,
};

/// The shape of one value.
#[derive(Debug, Clone)]
pub enum Shape {
    Text {
        max: usize,
    },
    /// Text in one language or per language (SPEC §3): a string, or `{"kk", "ru"}`.
    PortalText {
        max: usize,
    },
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 with an offset.
    Time,
    Iin,
    /// A Kazakh mobile number in any common spelling.
    Phone,
    Email,
    /// A portal id: letters, digits, `-`, `_`, `.`.
    Id,
    Locality,
    /// `YYYY-MM`.
    Month,
    /// An option's code: `a-z`, `0-9`, `_`, `-`.
    OptionCode,
    Enum(Vec<&'static str>),
    Int {
        min: i64,
    },
    Bool,
    Object(Vec<Field>),
    Array {
        item: Box<Shape>,
        min: usize,
        max: Option<usize>,
    },
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    pub shape: Shape,
    pub about: &'static str,
}

fn req(name: &'static str, shape: Shape, about: &'static str) -> Field {
    Field {
        name,
        required: true,
        shape,
        about,
    }
}
fn opt(name: &'static str, shape: Shape, about: &'static str) -> Field {
    Field {
        name,
        required: false,
        shape,
        about,
    }
}
fn text(max: usize) -> Shape {
    Shape::Text { max }
}
fn portal_text(max: usize) -> Shape {
    Shape::PortalText { max }
}
fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Shape {
    Shape::Enum(all.iter().map(|v| name(*v)).collect())
}

/// A request body: its name in the document, its fields, and an example that the API takes.
pub struct Body {
    pub name: &'static str,
    pub fields: Vec<Field>,
    pub example: Value,
}

pub fn locality() -> Body {
    Body {
        name: "Locality",
        fields: vec![
            req("name_kk", text(NAME_MAX), "the name in Kazakh"),
            req("name_ru", text(NAME_MAX), "the name in Russian"),
        ],
        example: json!({"name_kk": "Алматы", "name_ru": "Алматы"}),
    }
}

pub fn institution() -> Body {
    Body {
        name: "Institution",
        fields: vec![
            req("locality", Shape::Locality, "the locality's code"),
            req(
                "kind",
                names(InstitutionKind::ALL, InstitutionKind::as_str),
                "",
            ),
            req("name_kk", text(NAME_MAX), ""),
            req("name_ru", text(NAME_MAX), ""),
            req("address", portal_text(ADDRESS_MAX), ""),
        ],
        example: json!({
            "locality": "almaty", "kind": "kindergarten",
            "name_kk": "№12 «Балапан» балабақшасы", "name_ru": "Детский сад №12 «Балапан»",
            "address": {"kk": "Алматы, Жандосов көшесі, 58", "ru": "Алматы, улица Жандосова, 58"}
        }),
    }
}

pub fn application() -> Body {
    Body {
        name: "Application",
        fields: vec![
            req(
                "locality",
                Shape::Locality,
                "the locality whose cabinet shows it",
            ),
            req(
                "parent",
                Shape::Object(vec![
                    req("iin", Shape::Iin, "the parent's IIN: the cabinet's login"),
                    req("full_name", text(NAME_MAX), ""),
                    req("phone", Shape::Phone, "where confirmation codes go"),
                    opt("email", Shape::Email, ""),
                ]),
                "the cabinet is created for this parent if it does not exist",
            ),
            req(
                "child",
                Shape::Object(vec![
                    req("iin", Shape::Iin, ""),
                    req("full_name", text(NAME_MAX), ""),
                    req("birth_date", Shape::Date, "must agree with the child's IIN"),
                ]),
                "",
            ),
            req(
                "kind",
                names(ApplicationKind::ALL, ApplicationKind::as_str),
                "",
            ),
            req(
                "institutions",
                Shape::Array {
                    item: Box::new(Shape::Id),
                    min: 1,
                    max: Some(MAX_PREFERENCES),
                },
                "institution ids, by preference",
            ),
            req("desired_date", Shape::Date, ""),
            req(
                "language",
                Shape::Enum(vec!["kk", "ru"]),
                "the language of instruction",
            ),
            opt("privilege", names(Privilege::ALL, Privilege::as_str), ""),
            req("submitted_at", Shape::Time, ""),
            req(
                "status",
                names(ApplicationStatus::ALL, ApplicationStatus::as_str),
                "the first status only: a later PUT never changes it (post status changes, so a retried old PUT cannot undo a newer status)",
            ),
            opt("queue_position", Shape::Int { min: 1 }, ""),
        ],
        example: json!({
            "locality": "almaty",
            "parent": {"iin": "900315412348", "full_name": "Сейітова Айгерім Нұрланқызы",
                       "phone": "+77011234545", "email": "aigerim.seitova@example.kz"},
            "child": {"iin": "210610511117", "full_name": "Сейітов Әли Ерболұлы", "birth_date": "2021-06-10"},
            "kind": "kindergarten",
            "institutions": ["alm-ds-12", "alm-ds-45"],
            "desired_date": "2027-09-01",
            "language": "kk",
            "privilege": "priority",
            "submitted_at": "2026-03-10T10:15:00+05:00",
            "status": "submitted",
            "queue_position": 12
        }),
    }
}

pub fn status_change() -> Body {
    Body {
        name: "StatusChange",
        fields: vec![
            req(
                "event_id",
                Shape::Id,
                "the portal's id of this change: a replay records nothing new",
            ),
            req(
                "status",
                names(ApplicationStatus::ALL, ApplicationStatus::as_str),
                "",
            ),
            req(
                "changed_at",
                Shape::Time,
                "an older change goes into the history without overwriting a newer status",
            ),
            opt("comment", portal_text(COMMENT_MAX), "shown to the parent"),
            opt("queue_position", Shape::Int { min: 1 }, ""),
        ],
        example: json!({
            "event_id": "evt-000981", "status": "queued", "changed_at": "2026-11-25T09:30:00+05:00",
            "comment": {"kk": "Кезекке қойылды", "ru": "Поставлено в очередь"}, "queue_position": 12
        }),
    }
}

pub fn referral() -> Body {
    Body {
        name: "Referral",
        fields: vec![
            req("application", Shape::Id, "the application's number"),
            req("institution", Shape::Id, ""),
            req("group", portal_text(GROUP_MAX), ""),
            req("issued_at", Shape::Time, ""),
            req(
                "valid_until",
                Shape::Time,
                "after issued_at; the parent is reminded before it",
            ),
            req(
                "status",
                names(ReferralStatus::ALL, ReferralStatus::as_str),
                "",
            ),
        ],
        example: json!({
            "application": "ALM-2026-004512", "institution": "alm-sch-154", "group": {"kk": "1 «Ә» сынып", "ru": "1 «Ә» класс"},
            "issued_at": "2026-11-24T09:00:00+05:00", "valid_until": "2026-11-26T18:00:00+05:00",
            "status": "active"
        }),
    }
}

pub fn child_file() -> Body {
    Body {
        name: "ChildFile",
        fields: vec![
            req("institution", Shape::Id, "where the child is placed"),
            req("group", portal_text(GROUP_MAX), ""),
            req("opened_at", Shape::Date, ""),
            req(
                "clubs",
                Shape::Array {
                    item: Box::new(Shape::Object(vec![
                        req("id", Shape::Id, ""),
                        req("name_kk", text(NAME_MAX), ""),
                        req("name_ru", text(NAME_MAX), ""),
                        req("teacher", text(NAME_MAX), ""),
                        req("schedule", portal_text(NAME_MAX), ""),
                    ])),
                    min: 0,
                    max: None,
                },
                "the child's clubs now; a new one is pushed to the parent",
            ),
        ],
        example: json!({
            "institution": "alm-ds-45", "group": "Ортаңғы топ «Күншуақ»", "opened_at": "2024-09-02",
            "clubs": [{"id": "club-7", "name_kk": "Шахмат", "name_ru": "Шахматы",
                       "teacher": "Ахметов Б.", "schedule": {"kk": "Дс, Ср 16:00", "ru": "Пн, Ср 16:00"}}]
        }),
    }
}

pub fn attendance() -> Body {
    Body {
        name: "Attendance",
        fields: vec![req(
            "records",
            Shape::Array {
                item: Box::new(Shape::Object(vec![
                    req(
                        "date",
                        Shape::Date,
                        "one record per day: a later post for the day replaces it",
                    ),
                    req(
                        "status",
                        names(AttendanceStatus::ALL, AttendanceStatus::as_str),
                        "",
                    ),
                    opt("note", portal_text(NOTE_MAX), ""),
                ])),
                min: 0,
                max: Some(MAX_ATTENDANCE_RECORDS),
            },
            "",
        )],
        example: json!({"records": [
            {"date": "2026-11-24", "status": "present"},
            {"date": "2026-11-25", "status": "excused", "note": {"kk": "Дәрігерде", "ru": "У врача"}}
        ]}),
    }
}

pub fn announcement() -> Body {
    Body {
        name: "Announcement",
        fields: vec![
            req(
                "text_kk",
                text(ANNOUNCEMENT_MAX),
                "the words in Kazakh, plain text (line breaks kept)",
            ),
            req("text_ru", text(ANNOUNCEMENT_MAX), "the words in Russian"),
            req(
                "audience",
                Shape::Object(vec![
                    opt(
                        "locality",
                        Shape::Locality,
                        "parents whose cabinet is in this locality",
                    ),
                    opt(
                        "institutions",
                        Shape::Array {
                            item: Box::new(Shape::Id),
                            min: 0,
                            max: Some(MAX_AUDIENCE_INSTITUTIONS),
                        },
                        "parents whose application lists one of these, or whose child holds a referral to one or attends one",
                    ),
                    opt(
                        "application_kind",
                        names(ApplicationKind::ALL, ApplicationKind::as_str),
                        "parents with an application of this kind",
                    ),
                    opt(
                        "application_status",
                        names(ApplicationStatus::ALL, ApplicationStatus::as_str),
                        "parents with an application in this status (the same application as application_kind, when both are given)",
                    ),
                ]),
                "who gets it: every criterion given must hold, and at least one is given; only logged-in chats receive it, each once, in its language; other keys are refused",
            ),
            opt(
                "silent",
                Shape::Bool,
                "true: arrives without a sound at any hour (otherwise only from 22:00 to 08:00)",
            ),
        ],
        example: json!({
            "text_kk": "Ертең аяз −35 °C: 1–5 сынып оқушылары үшін актіленген күн, сабақ қашықтан өтеді.",
            "text_ru": "Завтра мороз −35 °C: для учащихся 1–5 классов актированный день, занятия пройдут дистанционно.",
            "audience": {"locality": "astana", "institutions": ["ast-sch-65"]},
            "silent": false
        }),
    }
}

pub fn question() -> Body {
    Body {
        name: "Question",
        fields: vec![
            req(
                "kind",
                names(QuestionKind::ALL, QuestionKind::as_str),
                "what it is about: the title the parent reads, and what a destructive option gives up",
            ),
            opt(
                "application",
                Shape::Id,
                "the application it concerns: put to the cabinet the application belongs to (give this or child)",
            ),
            opt(
                "child",
                Shape::Iin,
                "the child it concerns: put to every cabinet that shows the child, the first answer winning (give this or application)",
            ),
            opt(
                "month",
                Shape::Month,
                "with child: the month of the attendance sheet (required for attendance_approval); the card shows its calendar",
            ),
            req("text_kk", text(QUESTION_TEXT_MAX), "the question in Kazakh"),
            req(
                "text_ru",
                text(QUESTION_TEXT_MAX),
                "the question in Russian",
            ),
            req(
                "deadline",
                Shape::Time,
                "until when an answer is taken; in the future; reminders go ANSWER_REMINDER_HOURS before it",
            ),
            opt(
                "if_unanswered_kk",
                text(IF_UNANSWERED_MAX),
                "what happens without an answer, in Kazakh",
            ),
            opt(
                "if_unanswered_ru",
                text(IF_UNANSWERED_MAX),
                "what happens without an answer, in Russian",
            ),
            req(
                "options",
                Shape::Array {
                    item: Box::new(Shape::Object(vec![
                        req(
                            "code",
                            Shape::OptionCode,
                            "what the portal gets back; unique within the question",
                        ),
                        req("label_kk", text(OPTION_LABEL_MAX), "the button in Kazakh"),
                        req("label_ru", text(OPTION_LABEL_MAX), "the button in Russian"),
                        opt(
                            "destructive",
                            Shape::Bool,
                            "true: it gives something up; the parent is asked «are you sure?» with the consequence first",
                        ),
                        opt(
                            "comment",
                            names(CommentRule::ALL, CommentRule::as_str),
                            "whether the parent adds a comment (up to 500 characters); none by default",
                        ),
                    ])),
                    min: MIN_OPTIONS,
                    max: Some(MAX_OPTIONS),
                },
                "the answers the parent may give, as buttons, in this order",
            ),
        ],
        example: json!({
            "kind": "place_offer",
            "application": "ALM-2026-000137",
            "text_kk": "Кезегіңіз келді: №12 «Балапан» балабақшасында орын бар. Орынды растайсыз ба?",
            "text_ru": "Подошла ваша очередь: в детском саду №12 «Балапан» есть место. Подтверждаете?",
            "deadline": "2030-09-03T18:00:00+05:00",
            "if_unanswered_kk": "Орын кезектегі келесі балаға беріледі.",
            "if_unanswered_ru": "Место перейдёт следующему ребёнку в очереди.",
            "options": [
                {"code": "confirm", "label_kk": "Растаймын", "label_ru": "Подтверждаю"},
                {"code": "decline", "label_kk": "Бас тартамын", "label_ru": "Отказываюсь",
                 "destructive": true, "comment": "optional"}
            ]
        }),
    }
}

/// The JSON Schema of a shape.
pub fn json_schema(shape: &Shape) -> Value {
    match shape {
        Shape::Text { max } => json!({"type": "string", "minLength": 1, "maxLength": max}),
        Shape::PortalText { max } => {
            let one = json!({"type": "string", "minLength": 1, "maxLength": max});
            json!({
                "description": "one text for both languages, or a text per language; the parent reads the one in their language, or the other where one is missing",
                "oneOf": [one, {
                    "type": "object",
                    "properties": {"kk": one, "ru": one},
                    "minProperties": 1,
                    "additionalProperties": false,
                }],
            })
        }
        Shape::Date => json!({"type": "string", "format": "date"}),
        Shape::Time => json!({"type": "string", "format": "date-time"}),
        Shape::Iin => json!({"type": "string", "pattern": "^[0-9]{12}$",
            "description": "12 digits: birth date, century and sex, serial number, control digit (checked)"}),
        Shape::Phone => json!({"type": "string", "example": "+77011234567",
            "description": "a Kazakh mobile number; 87011234567, 8 (701) 123-45-67 and the like are accepted"}),
        Shape::Email => json!({"type": "string", "format": "email"}),
        Shape::Id => json!({"type": "string", "minLength": 1, "maxLength": PortalId::MAX_LEN,
            "pattern": "^[A-Za-z0-9._-]+$"}),
        Shape::Locality => {
            json!({"type": "string", "minLength": 1, "maxLength": LocalityCode::MAX_LEN,
            "pattern": "^[a-z0-9_-]+$"})
        }
        Shape::Month => json!({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$",
            "description": "a month, YYYY-MM"}),
        Shape::OptionCode => json!({"type": "string", "minLength": 1,
            "maxLength": OptionCode::MAX_LEN, "pattern": "^[a-z0-9_-]+$"}),
        Shape::Enum(values) => json!({"type": "string", "enum": values}),
        Shape::Int { min } => json!({"type": "integer", "minimum": min}),
        Shape::Bool => json!({"type": "boolean"}),
        Shape::Object(fields) => object_schema(fields),
        Shape::Array { item, min, max } => {
            let mut s = json!({"type": "array", "items": json_schema(item), "minItems": min});
            if let Some(max) = max {
                s["maxItems"] = json!(max);
            }
            s
        }
    }
}

pub fn object_schema(fields: &[Field]) -> Value {
    let mut properties = serde_json::Map::new();
    for f in fields {
        let mut s = json_schema(&f.shape);
        if !f.about.is_empty() {
            s["description"] = json!(f.about);
        }
        properties.insert(f.name.to_owned(), s);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    json!({"type": "object", "properties": properties, "required": required})
}

#[cfg(test)]
mod tests {
    //! The document against the parsers: what it calls valid is taken, what it calls
    //! required or enumerated is enforced, and nothing taken is left undocumented.

    use super::*;
    use crate::ingest::{self, Invalid};

    fn parse(body: &str, value: &Value) -> Result<(), Invalid> {
        match body {
            "Locality" => ingest::parse_locality("almaty", value, "").map(drop),
            "Institution" => ingest::parse_institution("alm-ds-1", value, "").map(drop),
            "Application" => ingest::parse_application("ALM-1", value, "").map(drop),
            "StatusChange" => ingest::parse_status_change(value, "").map(drop),
            "Referral" => ingest::parse_referral("ALM-R-1", value, "").map(drop),
            "ChildFile" => ingest::parse_child_file("230415500016", value, "").map(drop),
            "Attendance" => ingest::parse_attendance("230415500016", value, "").map(drop),
            "Announcement" => ingest::parse_announcement("frost-1", value, "").map(drop),
            "Question" => {
                ingest::parse_question("offer-1", value, "", Some(crate::clock::now())).map(drop)
            }
            other => panic!("no parser for {other}"),
        }
    }

    /// Every field of the example with its path and description: `(path, pointer, field)`.
    fn walk<'a>(
        fields: &'a [Field],
        path: &str,
        pointer: &[String],
        out: &mut Vec<(String, Vec<String>, &'a Field)>,
    ) {
        for f in fields {
            let p = if path.is_empty() {
                f.name.to_owned()
            } else {
                format!("{path}.{}", f.name)
            };
            let mut ptr = pointer.to_vec();
            ptr.push(f.name.to_owned());
            out.push((p.clone(), ptr.clone(), f));
            match &f.shape {
                Shape::Object(inner) => walk(inner, &p, &ptr, out),
                Shape::Array { item, .. } => {
                    if let Shape::Object(inner) = item.as_ref() {
                        let mut ptr0 = ptr.clone();
                        ptr0.push("0".into());
                        walk(inner, &format!("{p}[0]"), &ptr0, out);
                    }
                }
                _ => {}
            }
        }
    }

    fn at<'v>(value: &'v mut Value, pointer: &[String]) -> Option<&'v mut Value> {
        let mut v = value;
        for part in pointer {
            v = match v {
                Value::Object(m) => m.get_mut(part)?,
                Value::Array(a) => a.get_mut(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }

    fn fields_of(result: Result<(), Invalid>) -> Vec<String> {
        result
            .err()
            .map(|i| i.0.into_iter().map(|e| e.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn every_example_is_taken() {
        for (_, _, body) in crate::api::openapi::bodies() {
            assert_eq!(parse(body.name, &body.example), Ok(()), "{}", body.name);
        }
    }

    #[test]
    fn required_fields_and_enums_are_enforced_as_documented() {
        for (_, _, body) in crate::api::openapi::bodies() {
            let mut all = Vec::new();
            walk(&body.fields, "", &[], &mut all);
            for (path, pointer, field) in &all {
                let mut spoiled = body.example.clone();
                let Some(parent) = at(&mut spoiled, &pointer[..pointer.len() - 1]) else {
                    continue; // an array item the example does not have
                };
                if parent.get(field.name).is_none() {
                    assert!(
                        !field.required,
                        "{}: the example lacks required {path}",
                        body.name
                    );
                    continue;
                }
                if field.required {
                    parent.as_object_mut().unwrap().remove(field.name);
                    assert_eq!(
                        fields_of(parse(body.name, &spoiled)),
                        vec![path.clone()],
                        "{}: {path} is required",
                        body.name
                    );
                }
                if matches!(field.shape, Shape::Enum(_)) {
                    let mut spoiled = body.example.clone();
                    *at(&mut spoiled, pointer).unwrap() = json!("zzz");
                    assert_eq!(
                        fields_of(parse(body.name, &spoiled)),
                        vec![path.clone()],
                        "{}: {path} is an enum",
                        body.name
                    );
                }
            }
        }
    }

    #[test]
    fn nothing_in_an_example_is_undocumented() {
        fn check(value: &Value, fields: &[Field], path: &str) {
            let Value::Object(map) = value else { return };
            for (key, v) in map {
                let field = fields
                    .iter()
                    .find(|f| f.name == key)
                    .unwrap_or_else(|| panic!("{path}{key} is not documented"));
                match &field.shape {
                    Shape::Object(inner) => check(v, inner, &format!("{path}{key}.")),
                    Shape::Array { item, .. } => {
                        if let Shape::Object(inner) = item.as_ref() {
                            for item in v.as_array().into_iter().flatten() {
                                check(item, inner, &format!("{path}{key}[]."));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        for (_, _, body) in crate::api::openapi::bodies() {
            check(&body.example, &body.fields, "");
        }
    }

    #[test]
    fn what_a_pattern_refuses_the_parser_refuses_too() {
        let pattern = |shape: &Shape| {
            let p = json_schema(shape)["pattern"].as_str().unwrap().to_owned();
            regex::Regex::new(&p).unwrap()
        };
        let samples = [
            "061211600012",
            " 061211600012",
            "0612 1160 0012",
            "061211-600012",
            "almaty",
            "Almaty",
            "almaty ",
            "ALM-2026-000137",
            "ALM 2026",
            " ALM-1",
            "alm.ds_12",
            "",
            "алматы",
            "12345678901",
            "0612116000123",
        ];
        type Parses = fn(&str) -> bool;
        let checks: [(&str, Shape, Parses); 3] = [
            ("iin", Shape::Iin, |s| ingest::iin(s).is_ok()),
            ("id", Shape::Id, |s| ingest::portal_id(s).is_ok()),
            ("locality", Shape::Locality, |s| {
                ingest::locality_code(s).is_ok()
            }),
        ];
        for (name, shape, parses) in checks {
            let pattern = pattern(&shape);
            for sample in samples {
                if parses(sample) {
                    assert!(
                        pattern.is_match(sample),
                        "{name}: {sample:?} is taken but the document's pattern refuses it"
                    );
                }
            }
        }
    }
}
