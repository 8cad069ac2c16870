//! The flags of the limits, each with an environment fallback; every limit is off by default
//! except the connection age.

use std::time::Duration;

use anyhow::bail;

/// The default `--max-connection-age`.
pub const DEFAULT_MAX_CONNECTION_AGE: &str = "5m";

#[derive(Clone, Debug, clap::Args)]
pub struct LimitArgs {
    /// Calls per second each organization may make to this replica (a token bucket refilled at
    /// this rate; fractions allowed, such as 0.5). Off when unset.
    #[arg(long, env = "RATE_LIMIT_RPS", value_name = "RPS")]
    pub rate_limit_rps: Option<f64>,
    /// Calls an organization may make at once before the rate applies (the bucket's size);
    /// default: the rate rounded up, at least 1. Needs --rate-limit-rps.
    #[arg(long, env = "RATE_LIMIT_BURST", value_name = "CALLS", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: Option<u32>,
    /// Calls this replica runs at once (health and reflection aside); more are refused at once
    /// with UNAVAILABLE `OVERLOADED`. Off when unset.
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", value_name = "CALLS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_requests: Option<u32>,
    /// How long a client connection may live before the server asks the client to reconnect
    /// (HTTP/2 GOAWAY), so that connections spread over new replicas, such as `5m` or `90s`.
    #[arg(long, env = "MAX_CONNECTION_AGE", value_name = "DURATION", default_value = DEFAULT_MAX_CONNECTION_AGE, value_parser = humantime::parse_duration)]
    pub max_connection_age: Duration,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            rate_limit_rps: None,
            rate_limit_burst: None,
            max_concurrent_requests: None,
            max_connection_age: humantime::parse_duration(DEFAULT_MAX_CONNECTION_AGE)
                .unwrap_or(Duration::from_secs(300)),
        }
    }
}

impl LimitArgs {
    /// Checks the values clap cannot, with messages naming the flag and the bad value.
    pub fn validate(&self) -> anyhow::Result<()> {
        match self.rate_limit_rps {
            Some(rps) if !(rps.is_finite() && rps > 0.0) => {
                bail!("--rate-limit-rps (RATE_LIMIT_RPS) must be a number above 0, got {rps}")
            }
            // One call every ~31 years at the very least: what a Duration of the period holds.
            Some(rps) if 1.0 / rps > 1e9 => {
                bail!("--rate-limit-rps (RATE_LIMIT_RPS) must be at least 1e-9, got {rps}")
            }
            None if self.rate_limit_burst.is_some() => {
                bail!("--rate-limit-burst (RATE_LIMIT_BURST) needs --rate-limit-rps (RATE_LIMIT_RPS)")
            }
            _ => {}
        }
        if self.max_connection_age.is_zero() {
            bail!("--max-connection-age (MAX_CONNECTION_AGE) must be above 0, got 0s");
        }
        Ok(())
    }

    /// The bucket's size: `--rate-limit-burst`, else the rate rounded up (at least 1).
    pub fn burst(&self) -> Option<u32> {
        let rps = self.rate_limit_rps?;
        Some(self.rate_limit_burst.unwrap_or_else(|| (rps.ceil() as u32).max(1)))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        limits: LimitArgs,
    }

    fn parse(args: &[&str]) -> Result<LimitArgs, String> {
        let cli = Cli::try_parse_from(std::iter::once("svc").chain(args.iter().copied()))
            .map_err(|err| err.to_string())?;
        cli.limits.validate().map_err(|err| err.to_string())?;
        Ok(cli.limits)
    }

    #[test]
    fn every_limit_is_off_by_default_but_the_connection_age() {
        let limits = parse(&[]).unwrap();
        assert_eq!(
            (limits.rate_limit_rps, limits.burst(), limits.max_concurrent_requests),
            (None, None, None)
        );
        assert_eq!(limits.max_connection_age, Duration::from_secs(300));
        assert_eq!(LimitArgs::default().max_connection_age, Duration::from_secs(300));
    }

    #[test]
    fn fractional_rates_humantime_ages_and_a_default_burst_are_accepted() {
        let limits = parse(&["--rate-limit-rps", "0.5", "--max-connection-age", "90s"]).unwrap();
        assert_eq!((limits.rate_limit_rps, limits.burst()), (Some(0.5), Some(1)));
        assert_eq!(limits.max_connection_age, Duration::from_secs(90));
        let limits = parse(&["--rate-limit-rps", "12.5", "--rate-limit-burst", "40"]).unwrap();
        assert_eq!(limits.burst(), Some(40));
        assert_eq!(parse(&["--rate-limit-rps", "12.5"]).unwrap().burst(), Some(13));
    }

    #[test]
    fn bad_values_are_refused_naming_the_flag() {
        for (args, flag) in [
            (&["--rate-limit-rps", "0"][..], "--rate-limit-rps"),
            (&["--rate-limit-rps=-3"], "--rate-limit-rps"),
            (&["--rate-limit-rps", "NaN"], "--rate-limit-rps"),
            (&["--rate-limit-burst", "5"], "--rate-limit-burst"),
            (&["--rate-limit-rps", "1", "--rate-limit-burst", "0"], "--rate-limit-burst"),
            (&["--max-concurrent-requests", "0"], "--max-concurrent-requests"),
            (&["--max-connection-age", "0s"], "--max-connection-age"),
            (&["--max-connection-age", "5 parsecs"], "--max-connection-age"),
        ] {
            let err = parse(args).expect_err("refused");
            assert!(err.contains(flag), "{args:?}: {err}");
        }
    }
}
