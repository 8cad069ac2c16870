//! Free-text fields, http(s) URLs and form slugs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest short text (names, phone, channel, order number, SKU, product ids), in characters.
pub const MAX_SHORT_TEXT: usize = 200;
/// Longest long text (custom field values, denial reasons), in characters.
pub const MAX_LONG_TEXT: usize = 2000;
/// Longest URL, in characters.
pub const MAX_URL_LEN: usize = 2048;
/// Longest form slug, in characters.
pub const MAX_SLUG_LEN: usize = 64;
/// The form slug of a registration that names none.
pub const DEFAULT_FORM_SLUG: &str = "product-registration";

/// Why a text is refused. The message completes "invalid <field>: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must be at most {max} characters, got {len}")]
    TooLong { len: usize, max: usize },
    #[error("must not contain control characters (at position {position})")]
    Control { position: usize },
    #[error("character {found:?} at position {position} is not allowed: use a-z 0-9 - _")]
    Character { found: char, position: usize },
}

/// Checks the length and that no control character but tab and line breaks is in `text`
/// (PostgreSQL cannot store NUL, and the rest has no business in customer data).
fn check(text: &str, max: usize) -> Result<(), TextError> {
    let len = text.chars().count();
    if len > max {
        return Err(TextError::TooLong { len, max });
    }
    match text.chars().position(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        Some(position) => Err(TextError::Control { position }),
        None => Ok(()),
    }
}

/// Free text: surrounding whitespace trimmed, not empty, at most its field's limit, no control
/// characters but tab and line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Text(String);

impl Text {
    /// `None` for empty or blank input: proto3 strings are empty when absent.
    pub fn parse(raw: &str, max: usize) -> Result<Option<Self>, TextError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        check(text, max)?;
        Ok(Some(Self(text.to_owned())))
    }

    /// Like [`Text::parse`] but keeps an empty text (custom field values may be empty).
    pub(crate) fn parse_value(raw: &str, max: usize) -> Result<String, TextError> {
        let text = raw.trim();
        check(text, max)?;
        Ok(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a URL is refused. The message completes "invalid <field>: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be at most {max} characters, got {len}")]
    TooLong { len: usize, max: usize },
    #[error("must be an absolute URL ({0})")]
    Malformed(String),
    #[error("must be an http or https URL, not {0}")]
    Scheme(String),
    #[error("must name a host")]
    NoHost,
}

/// An absolute `http://` or `https://` URL with a host, kept as written (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// `None` for empty input.
    pub fn parse(raw: &str) -> Result<Option<Self>, UrlError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        Self::parse_required(text).map(Some)
    }

    fn parse_required(text: &str) -> Result<Self, UrlError> {
        let len = text.chars().count();
        if len > MAX_URL_LEN {
            return Err(UrlError::TooLong { len, max: MAX_URL_LEN });
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::Malformed("whitespace or control characters".into()));
        }
        let url = url::Url::parse(text).map_err(|err| UrlError::Malformed(err.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlError::Scheme(url.scheme().to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(UrlError::NoHost);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The form a registration came from: 1-64 of `a-z 0-9 - _`, lowercased, default
/// [`DEFAULT_FORM_SLUG`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FormSlug(String);

impl FormSlug {
    /// `None` for empty input (the caller decides whether that means the default).
    pub fn parse(raw: &str) -> Result<Option<Self>, TextError> {
        let slug = raw.trim().to_ascii_lowercase();
        if slug.is_empty() {
            return Ok(None);
        }
        let len = slug.chars().count();
        if len > MAX_SLUG_LEN {
            return Err(TextError::TooLong { len, max: MAX_SLUG_LEN });
        }
        if let Some((position, found)) =
            slug.chars().enumerate().find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        {
            return Err(TextError::Character { found, position });
        }
        Ok(Some(Self(slug)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for FormSlug {
    fn default() -> Self {
        Self(DEFAULT_FORM_SLUG.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_blank_is_absent_and_control_characters_are_refused() {
        assert_eq!(Text::parse("  Ada  ", 10).unwrap().unwrap().as_str(), "Ada");
        assert_eq!(Text::parse("   ", 10), Ok(None));
        assert_eq!(Text::parse("a\u{0}b", 10), Err(TextError::Control { position: 1 }));
        assert!(Text::parse("two\nlines", 20).unwrap().is_some());
        assert_eq!(Text::parse("abcdef", 5), Err(TextError::TooLong { len: 6, max: 5 }));
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_are_accepted() {
        assert!(HttpUrl::parse("https://cdn.example.com/a.png").unwrap().is_some());
        assert!(HttpUrl::parse(" http://example.com ").unwrap().is_some());
        assert_eq!(HttpUrl::parse(""), Ok(None));
        assert_eq!(HttpUrl::parse("ftp://example.com/x"), Err(UrlError::Scheme("ftp".into())));
        assert!(matches!(HttpUrl::parse("example.com/x"), Err(UrlError::Malformed(_))));
        assert!(matches!(HttpUrl::parse("javascript:alert(1)"), Err(UrlError::Scheme(_))));
        assert!(matches!(HttpUrl::parse("https://exa mple.com"), Err(UrlError::Malformed(_))));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(matches!(HttpUrl::parse(&long), Err(UrlError::TooLong { .. })));
    }

    #[test]
    fn form_slugs_are_lowercased_and_limited_to_their_alphabet() {
        assert_eq!(FormSlug::parse(" Warranty-Form_2 ").unwrap().unwrap().as_str(), "warranty-form_2");
        assert_eq!(FormSlug::parse(""), Ok(None));
        assert!(matches!(FormSlug::parse("a b"), Err(TextError::Character { found: ' ', position: 1 })));
        assert_eq!(FormSlug::default().as_str(), "product-registration");
    }
}
