//! Telegram's HTML parse mode, as the Bot API checks it: the tags it supports, balanced;
//! `<`, `>` and `&` escaped everywhere else. Returns the visible text, whose length is what
//! Telegram limits.

/// Tags Telegram accepts under `parse_mode=HTML`.
const TAGS: [&str; 17] = [
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
    "tg-time",
];

/// Parses `text`; `Ok(visible text)` or `Err(description)` in Telegram's words.
pub fn parse(text: &str) -> Result<String, String> {
    let fail = |what: String| Err(format!("Bad Request: can't parse entities: {what}"));
    let bytes = text.as_bytes();
    let mut visible = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let starts_tag = bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/');
                if !starts_tag {
                    return fail(format!("Unexpected end of name token at byte offset {i}"));
                }
                let Some(end) = text[i..].find('>').map(|e| i + e) else {
                    return fail(format!("Unclosed start tag at byte offset {i}"));
                };
                let inner = &text[i + 1..end];
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim();
                    match open.pop() {
                        Some(expected) if expected == name => {}
                        Some(expected) => {
                            return fail(format!(
                                "Unmatched end tag at byte offset {i}, expected \"</{expected}>\", found \"</{name}>\""
                            ));
                        }
                        None => return fail(format!("Unexpected end tag at byte offset {i}")),
                    }
                } else {
                    let name: String = inner
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    if name.is_empty() {
                        return fail(format!("Unexpected end of name token at byte offset {i}"));
                    }
                    if !TAGS.contains(&name.as_str()) {
                        return fail(format!(
                            "Unsupported start tag \"{name}\" at byte offset {i}"
                        ));
                    }
                    open.push(name);
                }
                i = end + 1;
            }
            b'>' => {
                return fail(format!(
                    "Character '>' is reserved and must be escaped at byte offset {i}"
                ));
            }
            b'&' => {
                let rest = &text[i..];
                let Some(semi) = rest.find(';').filter(|s| *s <= 10) else {
                    return fail(format!(
                        "Character '&' is reserved and must be escaped at byte offset {i}"
                    ));
                };
                let entity = &rest[1..semi];
                let decoded = match entity {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    _ => entity
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32),
                };
                match decoded {
                    Some(c) => visible.push(c),
                    None => {
                        return fail(format!(
                            "Unsupported HTML entity \"&{entity};\" at byte offset {i}"
                        ));
                    }
                }
                i += semi + 1;
            }
            _ => {
                let c = text[i..].chars().next().expect("inside the text");
                visible.push(c);
                i += c.len_utf8();
            }
        }
    }
    if let Some(tag) = open.pop() {
        return fail(format!(
            "Can't find end tag corresponding to start tag \"{tag}\""
        ));
    }
    Ok(visible)
}

/// Telegram's length of a text: UTF-16 code units.
pub fn telegram_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_telegram_accepts() {
        assert_eq!(
            parse("<b>Жеке</b> кабинет &lt;3 &amp; &#1179;").unwrap(),
            "Жеке кабинет <3 & қ"
        );
        assert_eq!(
            parse("<a href=\"https://example.kz\">link</a>").unwrap(),
            "link"
        );
    }

    #[test]
    fn refuses_what_telegram_refuses() {
        assert!(
            parse("<div>x</div>")
                .unwrap_err()
                .contains("Unsupported start tag \"div\"")
        );
        assert!(
            parse("<b>x")
                .unwrap_err()
                .contains("Can't find end tag corresponding to start tag \"b\"")
        );
        assert!(parse("<b>x</i>").unwrap_err().contains("Unmatched end tag"));
        assert!(
            parse("a < b")
                .unwrap_err()
                .contains("Unexpected end of name token")
        );
        assert!(
            parse("Робо & Код")
                .unwrap_err()
                .contains("Character '&' is reserved")
        );
        assert!(parse("x</b>").unwrap_err().contains("Unexpected end tag"));
    }
}
