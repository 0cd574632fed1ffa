//! HTML that is safe to send to Telegram, by type. An [`Html`] is made only by escaping
//! plain text, from Kabinet's own markup (`&'static str` literals), or by the localiser,
//! whose messages are Kabinet's own and whose text arguments it escapes itself
//! ([`crate::i18n::Localizer::html`]). A string from the portal or a parent is a `String`,
//! not an `Html`: it cannot reach a message without being escaped on the way.

use std::fmt;

/// A piece of Telegram HTML whose every value was escaped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Html(String);

impl Html {
    /// Plain text, escaped (`&`, `<`, `>`, `"`).
    pub fn text(plain: &str) -> Html {
        Html(escape(plain))
    }

    /// Kabinet's own markup, written in the code (a tag, a separator).
    pub fn markup(markup: &'static str) -> Html {
        Html(markup.to_owned())
    }

    /// Made by the localiser from a trusted pattern and escaped arguments.
    pub(super) fn from_localizer(html: String) -> Html {
        Html(html)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, other: &Html) -> &mut Html {
        self.0.push_str(&other.0);
        self
    }

    pub fn push_markup(&mut self, markup: &'static str) -> &mut Html {
        self.0.push_str(markup);
        self
    }

    pub fn push_text(&mut self, plain: &str) -> &mut Html {
        self.0.push_str(&escape(plain));
        self
    }

    /// `<b>…</b>`.
    pub fn bold(inner: &Html) -> Html {
        Html(format!("<b>{}</b>", inner.0))
    }

    /// `<i>…</i>`.
    pub fn italic(inner: &Html) -> Html {
        Html(format!("<i>{}</i>", inner.0))
    }

    /// `<pre>…</pre>`: a fixed-width block, where columns stay aligned.
    pub fn pre(inner: &Html) -> Html {
        Html(format!("<pre>{}</pre>", inner.0))
    }

    /// The pieces with `separator` between them.
    pub fn join<'a>(pieces: impl IntoIterator<Item = &'a Html>, separator: &'static str) -> Html {
        let mut out = Html::default();
        for (i, piece) in pieces.into_iter().enumerate() {
            if i > 0 {
                out.0.push_str(separator);
            }
            out.0.push_str(&piece.0);
        }
        out
    }

    /// The text a reader sees: tags dropped, the entities Telegram's HTML uses turned back
    /// (for an e-mail's plain body).
    pub fn to_plain(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        let mut in_tag = false;
        for c in self.0.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
}

/// The four characters Telegram's HTML needs escaped (the quote, for attribute values).
pub(super) fn escape(plain: &str) -> String {
    let mut out = String::with_capacity(plain.len());
    for c in plain.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for Html {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An argument of a localised HTML message: plain text (escaped by the localiser), HTML
/// already safe, or a number (plural rules select on numbers).
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(&'a str),
    Html(&'a Html),
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a Html> for Arg<'a> {
    fn from(h: &'a Html) -> Self {
        Arg::Html(h)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_markup_is_kept() {
        let mut h = Html::bold(&Html::text("Робо & Код <Junior>"));
        h.push_markup(" · ").push_text("\"a\"");
        assert_eq!(
            h.as_str(),
            "<b>Робо &amp; Код &lt;Junior&gt;</b> · &quot;a&quot;"
        );
        assert_eq!(h.to_plain(), "Робо & Код <Junior> · \"a\"");
    }
}
