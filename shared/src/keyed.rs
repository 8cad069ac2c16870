//! Text kept as it was written, with the lowercase key that lookups and uniqueness match on
//! (serial numbers, email addresses).

use std::fmt;

use serde::{Deserialize, Serialize};

/// `display` as written and its lowercase `key`. Serialized as `{"display", "key"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Keyed {
    display: String,
    key: String,
}

impl Keyed {
    /// `display`, keyed by `key` (its lowercase form, by the caller's rule).
    pub fn new(display: String, key: String) -> Self {
        Self { display, key }
    }

    /// The text as it was written.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lowercase form that uniqueness, lookups and filters use.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for Keyed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// `$name` as a newtype of [`Keyed`]: `as_str`, `key` and `Display` come with it.
#[macro_export]
macro_rules! keyed {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name($crate::keyed::Keyed);

        impl $name {
            /// As it was written.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The lowercase form that uniqueness, lookups and filters use.
            pub fn key(&self) -> &str {
                self.0.key()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
