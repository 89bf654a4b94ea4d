//! Text every backend can store. Postgres refuses U+0000 (NUL) in a `text` value, and its
//! escape `\u0000` in `jsonb`; SQLite keeps it. It is the one character a Rust string can
//! hold that a statement cannot carry on both backends, so this module is the one place that
//! says what is storable.
//!
//! Requests carrying such text are refused at the HTTP edge (`api::hygiene`, 422 on every
//! backend). Text the service keeps from other parties that is no request of theirs — a
//! webhook receiver's answer, a plugin's log — is stored [`storable`]: the character
//! replaced, so recording it never fails.

use std::borrow::Cow;

/// The character no backend-portable text may contain.
pub const UNSTORABLE: char = '\0';

/// What an unstorable character becomes in [`storable`] text.
const REPLACEMENT: &str = "\u{FFFD}";

/// Whether `text` can be stored on every backend as it is.
pub fn is_storable(text: &str) -> bool {
    !text.contains(UNSTORABLE)
}

/// `text` with every unstorable character replaced by U+FFFD; borrowed (no copy) when there
/// is none.
pub fn storable(text: &str) -> Cow<'_, str> {
    if is_storable(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.replace(UNSTORABLE, REPLACEMENT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nul_is_replaced_and_clean_text_is_not_copied() {
        assert!(matches!(storable("plain ✓ text"), Cow::Borrowed("plain ✓ text")));
        assert_eq!(storable("a\0b\0"), "a\u{FFFD}b\u{FFFD}");
        assert!(!is_storable("\0") && is_storable("\\u0000"));
    }
}
