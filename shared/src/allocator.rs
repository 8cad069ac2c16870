//! The global allocator of every regserial binary, and how soon it gives freed memory back.
//!
//! The workspace's only `unsafe`: two calls into mimalloc's C API that read and set an integer.
#![allow(unsafe_code)]

use std::ffi::c_long;

use libmimalloc_sys::{mi_option_set, mi_option_t};

/// The global allocator of every regserial binary, each `main.rs` declaring
/// `#[global_allocator] static ALLOCATOR: shared::Allocator = shared::Allocator;` and calling
/// [`configure`] first.
///
/// A point read allocates a few dozen small blocks (h2 frames, headers, the row, the message)
/// on one worker thread and frees many of them on another; glibc's malloc and free were 10-12%
/// of serial-svc's CPU under read load, and mimalloc's per-thread free lists raised GetSerial
/// throughput by 15-35% in the same runs (README, Benchmarks).
pub use mimalloc::MiMalloc as Allocator;

/// mimalloc's `mi_option_purge_delay`: the sixteenth of `mi_option_e` in the `mimalloc.h` (v3)
/// that libmimalloc-sys builds, which names the options around it but not this one. The test
/// below checks that this index holds v3's default purge delay.
const PURGE_DELAY: mi_option_t = 15;

/// How long memory freed by a thread stays committed before mimalloc gives it back: 50 ms
/// instead of mimalloc's 1 s. A 10,000-serial batch allocates and frees about 60 MB across
/// threads; with a second's delay serial-svc's peak held the freed memory of earlier batches as
/// well (136-146 MB on SQLite, `regserial-bench batch`), with 50 ms 105-108 MB at the same
/// throughput. Immediate purging (0) peaked at 76 MB but cost a quarter of the batch throughput:
/// every batch faulted its pages in again.
const PURGE_DELAY_MS: c_long = 50;

/// The environment variable mimalloc reads the purge delay from; when set, it wins.
const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";

/// Sets the allocator's purge delay to [`PURGE_DELAY_MS`] unless `MIMALLOC_PURGE_DELAY` is set.
pub fn configure() {
    if std::env::var_os(PURGE_DELAY_ENV).is_none() {
        // SAFETY: a plain setter of a process-wide integer option, valid at any time.
        unsafe { mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The purge delay in effect, in milliseconds.
    fn purge_delay_ms() -> c_long {
        // SAFETY: a plain getter of a process-wide integer option.
        unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
    }

    /// One test, so that nothing else in this binary sets the option between its two steps.
    #[test]
    fn the_option_is_the_purge_delay_and_configure_sets_it() {
        if let Some(value) = std::env::var_os(PURGE_DELAY_ENV) {
            let value = value.to_string_lossy().parse::<c_long>().expect("a number");
            configure();
            assert_eq!(purge_delay_ms(), value, "{PURGE_DELAY_ENV} wins over the default");
            return;
        }
        assert_eq!(
            purge_delay_ms(),
            1000,
            "option {PURGE_DELAY} is mimalloc v3's purge delay (1 s by default)"
        );
        configure();
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
    }
}
