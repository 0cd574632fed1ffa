//! Texts the portal keeps as it likes (SPEC §3): an address, a group, a schedule, a comment
//! may come as one string, or as `{"kk": …, "ru": …}`. The parent reads the one in their
//! language, or the other where one is missing.

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::Language;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalText {
    /// One text for both languages.
    One(String),
    /// A text per language; at least one of the two is there.
    Each {
        kk: Option<String>,
        ru: Option<String>,
    },
}

impl PortalText {
    /// The text a parent reading `lang` sees.
    pub fn get(&self, lang: Language) -> &str {
        match self {
            PortalText::One(text) => text,
            PortalText::Each { kk, ru } => {
                let (first, other) = match lang {
                    Language::Kk => (kk, ru),
                    Language::Ru => (ru, kk),
                };
                first.as_deref().or(other.as_deref()).unwrap_or_default()
            }
        }
    }

    /// As the portal would send it: a string, or an object of the languages there are.
    pub fn to_json(&self) -> Value {
        match self {
            PortalText::One(text) => Value::String(text.clone()),
            PortalText::Each { kk, ru } => {
                let mut object = serde_json::Map::new();
                if let Some(kk) = kk {
                    object.insert("kk".into(), json!(kk));
                }
                if let Some(ru) = ru {
                    object.insert("ru".into(), json!(ru));
                }
                Value::Object(object)
            }
        }
    }

    /// Back from [`PortalText::to_json`]; anything else reads as no text.
    pub fn from_json(value: &Value) -> Option<PortalText> {
        match value {
            Value::String(text) => Some(PortalText::One(text.clone())),
            Value::Object(object) => {
                let get = |lang: &str| object.get(lang).and_then(Value::as_str).map(str::to_owned);
                let (kk, ru) = (get("kk"), get("ru"));
                (kk.is_some() || ru.is_some()).then_some(PortalText::Each { kk, ru })
            }
            _ => None,
        }
    }

    /// How it is kept in a text column: a single text as itself, texts per language as their
    /// JSON object. A single text that itself looks like such an object is kept as the same
    /// text in both languages, so reading it back is never ambiguous.
    pub fn to_stored(&self) -> String {
        match self {
            PortalText::One(text) if Self::looks_like_object(text) => PortalText::Each {
                kk: Some(text.clone()),
                ru: Some(text.clone()),
            }
            .to_json()
            .to_string(),
            PortalText::One(text) => text.clone(),
            each => each.to_json().to_string(),
        }
    }

    /// Back from [`PortalText::to_stored`].
    pub fn from_stored(stored: &str) -> PortalText {
        if Self::looks_like_object(stored)
            && let Ok(value) = serde_json::from_str::<Value>(stored)
            && let Some(text) = PortalText::from_json(&value)
        {
            return text;
        }
        PortalText::One(stored.to_owned())
    }

    fn looks_like_object(text: &str) -> bool {
        text.starts_with('{')
    }
}

impl From<&str> for PortalText {
    fn from(text: &str) -> Self {
        PortalText::One(text.to_owned())
    }
}

impl Serialize for PortalText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl crate::storage::Column for PortalText {
    fn column(value: rusqlite::types::ValueRef<'_>) -> Result<Self, crate::storage::DecodeError> {
        Ok(PortalText::from_stored(value.as_str()?))
    }
}

impl<DB: sqlx::Database> sqlx::Type<DB> for PortalText
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for PortalText
where
    &'r str: sqlx::Decode<'r, DB>,
{
    fn decode(
        value: <DB as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let stored = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(PortalText::from_stored(stored))
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for PortalText
where
    String: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, DB>>::encode(self.to_stored(), buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn each(kk: Option<&str>, ru: Option<&str>) -> PortalText {
        PortalText::Each {
            kk: kk.map(str::to_owned),
            ru: ru.map(str::to_owned),
        }
    }

    #[test]
    fn the_parent_reads_their_language_or_the_other() {
        let both = each(Some("Дс, Ср"), Some("Пн, Ср"));
        assert_eq!(both.get(Language::Kk), "Дс, Ср");
        assert_eq!(both.get(Language::Ru), "Пн, Ср");
        let kk_only = each(Some("Дәрігерде"), None);
        assert_eq!(kk_only.get(Language::Ru), "Дәрігерде");
        assert_eq!(
            PortalText::from("1 «Ә» сынып").get(Language::Ru),
            "1 «Ә» сынып"
        );
    }

    #[test]
    fn what_is_stored_reads_back_the_same() {
        for text in [
            PortalText::from("Абай даңғылы, 10"),
            PortalText::from("{not json"),
            PortalText::from(r#"{"kk": "a trick"}"#),
            each(Some("қазақша"), Some("по-русски")),
            each(None, Some("только по-русски")),
        ] {
            let back = PortalText::from_stored(&text.to_stored());
            for lang in Language::ALL {
                assert_eq!(back.get(lang), text.get(lang), "{text:?}");
            }
        }
        assert_eq!(
            PortalText::from_stored("Абай даңғылы, 10"),
            PortalText::from("Абай даңғылы, 10")
        );
    }
}
