//! Rounds of a comparison. On a shared machine the same code's ratio to its baseline moves by a
//! fifth or more from one run to the next, so each measured call runs in several rounds, every
//! round bracketed by runs of the baseline (`B M B M B`…), and the figure held against a target
//! is the median of the rounds' ratios, each round's measured rate over the mean of the two
//! baseline runs around it. Every round's ratio is printed beside it.

use std::future::Future;

/// A run's rate: requests or calls per second.
pub trait Rate {
    fn rate(&self) -> f64;
}

impl Rate for crate::h2load::Summary {
    fn rate(&self) -> f64 {
        self.requests_per_sec
    }
}

/// Rounds of each comparison (`--rounds`): the runs of each measured call.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct RoundsArgs {
    /// Rounds of each comparison: every measured run sits between two baseline runs, and the
    /// figure checked against its target is the median of the rounds' ratios.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub rounds: u32,
}

/// The rates of one measured call, one per round, against the baseline rates around them
/// (one more than the rounds).
#[derive(Debug, Clone)]
pub struct Compared {
    pub ratios: Vec<f64>,
}

impl Compared {
    /// The runs `measured` (one per round) against the runs `baseline` around them.
    pub fn of(measured: &[impl Rate], baseline: &[impl Rate]) -> Self {
        Self::new(&rates(measured), &rates(baseline))
    }

    /// `measured[i]` over the mean of `baseline[i]` and `baseline[i + 1]`.
    pub fn new(measured: &[f64], baseline: &[f64]) -> Self {
        assert_eq!(baseline.len(), measured.len() + 1, "every round lies between two baseline runs");
        let ratios =
            measured.iter().zip(baseline.windows(2)).map(|(m, b)| m / ((b[0] + b[1]) / 2.0)).collect();
        Self { ratios }
    }

    /// The median round's ratio: the figure a target is checked against.
    pub fn median(&self) -> f64 {
        median(&self.ratios)
    }

    /// `0.61 (rounds 0.55, 0.61, 0.66)`, or the one ratio of a single round.
    pub fn describe(&self) -> String {
        let median = format!("{:.2}", self.median());
        if self.ratios.len() == 1 {
            return median;
        }
        let rounds: Vec<String> = self.ratios.iter().map(|r| format!("{r:.2}")).collect();
        format!("{median} (rounds {})", rounds.join(", "))
    }
}

/// The middle value (the mean of the middle two of an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn rates(runs: &[impl Rate]) -> Vec<f64> {
    runs.iter().map(Rate::rate).collect()
}

/// The rates of `runs` as `1,234 / 1,300 / 1,190`, in run order.
pub fn list(runs: &[impl Rate]) -> String {
    let rates: Vec<String> = runs.iter().map(|run| thousands(run.rate().round() as u64)).collect();
    rates.join(" / ")
}

/// Runs `baseline`, then in each of `rounds` rounds every probe of `measured` and `baseline`
/// again, each with `run(probe, "<name>-<round>")`: the baseline's runs (one more than the
/// rounds) and each measured probe's (one per round), in `measured`'s order.
pub async fn alternate<'p, P, T, F, Fut>(
    rounds: u32,
    run: F,
    (baseline, baseline_name): (&'p P, &str),
    measured: &[(&'p P, &str)],
) -> anyhow::Result<(Vec<T>, Vec<Vec<T>>)>
where
    F: Fn(&'p P, String) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut baseline_runs = vec![run(baseline, format!("{baseline_name}-0")).await?];
    let mut measured_runs: Vec<Vec<T>> = measured.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        for ((probe, name), runs) in measured.iter().zip(&mut measured_runs) {
            runs.push(run(probe, format!("{name}-{round}")).await?);
        }
        baseline_runs.push(run(baseline, format!("{baseline_name}-{round}")).await?);
    }
    Ok((baseline_runs, measured_runs))
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_is_measured_against_the_baseline_runs_around_it() {
        let compared = Compared::new(&[50.0, 60.0], &[100.0, 100.0, 140.0]);
        assert_eq!(compared.ratios, [0.5, 0.5]);
    }

    #[test]
    fn the_median_resists_one_outlying_round() {
        let compared = Compared::new(&[60.0, 10.0, 62.0], &[100.0; 4]);
        assert!((compared.median() - 0.6).abs() < 1e-9);
        assert_eq!(compared.describe(), "0.60 (rounds 0.60, 0.10, 0.62)");
        assert_eq!(median(&[1.0, 3.0, 2.0, 10.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn one_round_is_described_by_its_ratio_alone() {
        assert_eq!(Compared::new(&[30.0], &[100.0, 50.0]).describe(), "0.40");
    }
}
