//! Localisation: every text a parent sees comes from `locales/<lang>/*.ftl`, embedded in the
//! binary. A message missing in one language falls back to the other, then to its id, with a
//! warning in the log (tests make sure neither ever happens).

mod collate;
mod dates;
mod html;

use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use include_dir::{Dir, include_dir};

use crate::domain::Language;

pub use collate::collation_key;
pub use dates::{month_name, month_title, sms_date_time};
pub use html::{Arg, Html};

/// An ordinal as written with digits: «2-ші», «6-шы» in Kazakh (the suffix follows the
/// vowels of the number's last word), «2-й» in Russian.
pub fn ordinal(lang: Language, n: i64) -> String {
    match lang {
        Language::Ru => format!("{n}-й"),
        Language::Kk => {
            // The word the number's name ends with: its last non-zero part.
            let last = if n % 10 != 0 {
                n % 10
            } else if n % 100 != 0 {
                n % 100
            } else {
                100
            };
            // алты, тоғыз, он, жиырма, отыз, қырық, алпыс, тоқсан: back vowels.
            let back = matches!(last, 6 | 9 | 10 | 20 | 30 | 40 | 60 | 90);
            format!("{n}-{}", if back { "шы" } else { "ші" })
        }
    }
}

static LOCALES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/locales");

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("locales/{lang}/{file}: {problem}")]
    Resource {
        lang: &'static str,
        file: String,
        problem: String,
    },
    #[error("locales/{0}: the folder is missing")]
    MissingLanguage(&'static str),
}

/// The embedded `.ftl` sources: language, file name, text.
pub fn embedded_sources() -> Vec<(Language, String, &'static str)> {
    let mut out = Vec::new();
    for lang in Language::ALL {
        if let Some(dir) = LOCALES.get_dir(lang.code()) {
            for file in dir.files() {
                if file.path().extension().is_some_and(|e| e == "ftl") {
                    let name = file
                        .path()
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    out.push((lang, name, file.contents_utf8().unwrap_or_default()));
                }
            }
        }
    }
    out.sort_by(|a, b| (a.0.code(), &a.1).cmp(&(b.0.code(), &b.1)));
    out
}

type Bundle = FluentBundle<FluentResource>;

/// Texts in both languages. Cheap to share (`Arc`) across the bot, the API and the sender.
pub struct Localizer {
    kk: Bundle,
    ru: Bundle,
    /// Variables each message uses, per language, for the consistency tests.
    variables: BTreeMap<(Language, String), BTreeSet<String>>,
}

impl Localizer {
    /// The localiser over the texts embedded in the binary.
    pub fn embedded() -> Result<Self, I18nError> {
        Self::from_sources(&embedded_sources())
    }

    pub fn from_sources(sources: &[(Language, String, &str)]) -> Result<Self, I18nError> {
        let mut kk = new_bundle(Language::Kk);
        let mut ru = new_bundle(Language::Ru);
        let mut variables = BTreeMap::new();
        for lang in Language::ALL {
            if !sources.iter().any(|(l, _, _)| *l == lang) {
                return Err(I18nError::MissingLanguage(lang.code()));
            }
        }
        for (lang, file, text) in sources {
            let error = |problem: String| I18nError::Resource {
                lang: lang.code(),
                file: file.clone(),
                problem,
            };
            let resource = FluentResource::try_new((*text).to_owned()).map_err(|(_, errors)| {
                error(
                    errors
                        .iter()
                        .map(|e| format!("{e:?}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
            for entry in resource.entries() {
                if let ast::Entry::Message(msg) = entry {
                    let mut vars = BTreeSet::new();
                    if let Some(p) = &msg.value {
                        collect_pattern_vars(p, &mut vars);
                    }
                    for attr in &msg.attributes {
                        collect_pattern_vars(&attr.value, &mut vars);
                    }
                    variables.insert((*lang, msg.id.name.to_owned()), vars);
                }
            }
            let bundle = match lang {
                Language::Kk => &mut kk,
                Language::Ru => &mut ru,
            };
            bundle.add_resource(resource).map_err(|errors| {
                error(
                    errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        }
        Ok(Localizer { kk, ru, variables })
    }

    fn bundle(&self, lang: Language) -> &Bundle {
        match lang {
            Language::Kk => &self.kk,
            Language::Ru => &self.ru,
        }
    }

    /// The message `id` in `lang`, without arguments.
    pub fn text(&self, lang: Language, id: &str) -> String {
        self.format(lang, id, &[])
    }

    /// The message `id` in `lang` with its arguments. Plural selectors take numbers
    /// (`FluentValue::from(3)`), so «3 өтініш» and «3 заявления» come out right.
    pub fn format(&self, lang: Language, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        for candidate in [lang, lang.other()] {
            let bundle = self.bundle(candidate);
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                if candidate != lang {
                    tracing::warn!(
                        id,
                        lang = lang.code(),
                        "message missing; using the other language"
                    );
                }
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                if !errors.is_empty() {
                    tracing::warn!(
                        id,
                        lang = candidate.code(),
                        ?errors,
                        "message formatted with errors"
                    );
                }
                return text.into_owned();
            }
        }
        tracing::warn!(id, "message missing in every language");
        id.to_owned()
    }

    /// The message `id` as HTML: the pattern is Kabinet's own, and every text argument is
    /// escaped here, so a value from the portal or a parent cannot change the markup.
    pub fn html(&self, lang: Language, id: &str, args: &[(&str, Arg<'_>)]) -> Html {
        let values: Vec<(&str, FluentValue<'_>)> = args
            .iter()
            .map(|(name, arg)| {
                let value = match arg {
                    Arg::Text(text) => FluentValue::from(html::escape(text)),
                    Arg::Html(html) => FluentValue::from(html.as_str()),
                    Arg::Number(n) => FluentValue::from(*n),
                };
                (*name, value)
            })
            .collect();
        Html::from_localizer(self.format(lang, id, &values))
    }

    /// The message `id` as HTML, without arguments.
    pub fn html_text(&self, lang: Language, id: &str) -> Html {
        self.html(lang, id, &[])
    }

    /// Whether `lang` has its own text for `id` (no fallback).
    pub fn has(&self, lang: Language, id: &str) -> bool {
        self.bundle(lang).has_message(id)
    }

    /// Every message id of `lang`.
    pub fn message_ids(&self, lang: Language) -> BTreeSet<String> {
        self.variables
            .keys()
            .filter(|(l, _)| *l == lang)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// The variables the message `id` uses in `lang`.
    pub fn variables(&self, lang: Language, id: &str) -> BTreeSet<String> {
        self.variables
            .get(&(lang, id.to_owned()))
            .cloned()
            .unwrap_or_default()
    }
}

fn new_bundle(lang: Language) -> Bundle {
    let langid = lang
        .code()
        .parse()
        .expect("kk and ru are valid language identifiers");
    let mut bundle = FluentBundle::new_concurrent(vec![langid]);
    // Isolation marks (U+2068/U+2069) show up as boxes or garble copy-paste in Telegram.
    bundle.set_use_isolating(false);
    bundle
}

fn collect_pattern_vars(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            collect_expression_vars(expression, out);
        }
    }
}

fn collect_expression_vars(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            collect_inline_vars(selector, out);
            for v in variants {
                collect_pattern_vars(&v.value, out);
            }
        }
        ast::Expression::Inline(inline) => collect_inline_vars(inline, out),
    }
}

fn collect_inline_vars(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                collect_inline_vars(a, out);
            }
            for a in &arguments.named {
                collect_inline_vars(&a.value, out);
            }
        }
        ast::InlineExpression::Placeable { expression } => collect_expression_vars(expression, out),
        _ => {}
    }
}
