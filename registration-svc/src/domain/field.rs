//! Parse errors that name their field, as a path into the request
//! (`registration.customer_email`, `registration.line_items[2].quantity`).

use super::email::EmailError;
use super::identifier::{IdError, IdentifierError};
use super::number::NumberError;
use super::text::{TextError, UrlError};

/// What is wrong with one field. The message completes "invalid <field>: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is required")]
    Required,
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Number(#[from] NumberError),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("must be between 1 and {max}, got {got}")]
    Quantity { got: i32, max: i32 },
    #[error("must have {min} to {max} entries, got {len}")]
    Count { len: usize, min: usize, max: usize },
    #[error("keys must be 1-{max} characters without control characters (a key of {len} characters)")]
    Key { len: usize, max: usize },
    #[error("repeats {0}")]
    Repeated(String),
    #[error("{0} is not a field that can be updated")]
    NotUpdatable(String),
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {problem}")]
pub struct FieldError {
    /// The path of the field in the request, e.g. `registration.line_items[2].quantity`.
    pub field: String,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<Problem>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }

    /// The same error inside the message at `prefix`, e.g. `requests[3]` turns
    /// `registration.customer_email` into `requests[3].registration.customer_email`.
    pub fn within(self, prefix: &str) -> Self {
        Self { field: format!("{prefix}.{}", self.field), problem: self.problem }
    }
}

/// Collects every field error of a request, so the caller learns about all of them at once.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// The parsed value, or `None` after recording why `field` is invalid.
    pub fn check<T, E: Into<Problem>>(
        &mut self,
        field: impl Into<String>,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(err) => {
                self.errors.push(FieldError::new(field, err));
                None
            }
        }
    }

    /// Records a problem that no parser produced.
    pub fn add(&mut self, field: impl Into<String>, problem: Problem) {
        self.errors.push(FieldError::new(field, problem));
    }

    /// Takes the errors of a nested parse.
    pub fn extend(&mut self, errors: Vec<FieldError>) {
        self.errors.extend(errors);
    }

    /// `build()` when no error was recorded, else every error.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        // Every `None` from `check` recorded an error, so `build` has all its parts here.
        build().ok_or_else(|| vec![FieldError::new("registration", Problem::Required)])
    }
}
