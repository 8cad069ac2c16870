//! A serial's history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    Created,
    Claimed,
    Released,
    Swapped,
    Revoked,
    Allocated,
}

impl EventKind {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Claimed => "claimed",
            Self::Released => "released",
            Self::Swapped => "swapped",
            Self::Revoked => "revoked",
            Self::Allocated => "allocated",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        [Self::Created, Self::Claimed, Self::Released, Self::Swapped, Self::Revoked, Self::Allocated]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialEvent {
    /// Position in the org's history: events of one serial are ordered by it.
    pub id: i64,
    pub kind: EventKind,
    pub time: DateTime<Utc>,
    pub claimant: Option<String>,
    /// The `sub` of the token that made the change.
    pub actor: String,
    /// Revocation reason, or for a swap the serial number that replaced this one.
    pub detail: Option<String>,
}
