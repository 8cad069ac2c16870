//! Where the CPU goes during a run: the cores used by each process of interest, by the
//! PostgreSQL backends serving the run's databases, and by the whole machine (the rest is
//! h2load and whatever else shares it), from `/proc`.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, bail};

/// Linux reports process and machine times in USER_HZ ticks, 100 per second on every mainstream
/// configuration (it cannot be asked for without libc).
const TICKS_PER_SEC: f64 = 100.0;

/// Cumulative CPU times at one instant.
#[derive(Debug, Clone)]
pub struct Sample {
    at: Instant,
    /// user + system ticks of each watched process, in the order given.
    processes: Vec<u64>,
    /// user + system ticks of each PostgreSQL backend connected to one of the run's databases.
    postgres: HashMap<u32, u64>,
    machine_busy: u64,
    machine_total: u64,
    cpus: usize,
}

/// Average cores used between two samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    /// One per watched process, in the order given.
    pub processes: Vec<f64>,
    /// The PostgreSQL backends of the run's databases (0 on SQLite).
    pub postgres: f64,
    /// Everything the machine did.
    pub machine: f64,
}

impl Usage {
    /// What the machine did besides the watched processes and databases.
    pub fn rest(&self) -> f64 {
        (self.machine - self.processes.iter().sum::<f64>() - self.postgres).max(0.0)
    }
}

/// Samples `pids`, and the PostgreSQL backends whose command line names one of `databases`
/// (a backend shows `postgres: [<cluster>: ]<user> <database> <client> <state>`).
pub fn sample(pids: &[u32], databases: &[String]) -> anyhow::Result<Sample> {
    let processes = pids.iter().map(|&pid| process_ticks(pid)).collect::<anyhow::Result<_>>()?;
    let postgres = if databases.is_empty() { HashMap::new() } else { postgres_backends(databases) };
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let (machine_busy, machine_total) = machine_ticks(&stat)?;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(Sample { at: Instant::now(), processes, postgres, machine_busy, machine_total, cpus })
}

impl Sample {
    pub fn usage_since(&self, earlier: &Sample) -> Usage {
        let secs = (self.at - earlier.at).as_secs_f64().max(1e-9);
        let processes = self
            .processes
            .iter()
            .zip(&earlier.processes)
            .map(|(now, then)| now.saturating_sub(*then) as f64 / TICKS_PER_SEC / secs)
            .collect();
        // A backend that started meanwhile counts from zero; one that ended is lost (the pools
        // keep their connections, so neither happens much).
        let postgres_ticks: u64 = self
            .postgres
            .iter()
            .map(|(pid, now)| now.saturating_sub(earlier.postgres.get(pid).copied().unwrap_or(0)))
            .sum();
        let postgres = postgres_ticks as f64 / TICKS_PER_SEC / secs;
        let busy = self.machine_busy.saturating_sub(earlier.machine_busy) as f64;
        let total = self.machine_total.saturating_sub(earlier.machine_total) as f64;
        let machine = if total > 0.0 { busy / total * self.cpus as f64 } else { 0.0 };
        Usage { processes, postgres, machine }
    }
}

/// Ticks of every `postgres` process serving one of `databases`; processes that vanish while
/// being read are skipped.
fn postgres_backends(databases: &[String]) -> HashMap<u32, u64> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return HashMap::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.starts_with("postgres: ")
                && cmdline
                    .split(|c: char| c.is_whitespace() || c == '\0')
                    .any(|word| databases.iter().any(|database| database == word))
        })
        .filter_map(|pid| Some((pid, process_ticks(pid).ok()?)))
        .collect()
}

fn process_ticks(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_process(&stat).with_context(|| format!("unexpected contents of {path}"))
}

/// utime + stime: fields 14 and 15, counted after the command name, which may hold spaces.
fn parse_process(stat: &str) -> anyhow::Result<u64> {
    let Some((_, after_name)) = stat.rsplit_once(')') else { bail!("no command name") };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // fields[0] is field 3 (state).
    let tick = |index: usize| -> anyhow::Result<u64> {
        fields.get(index).context("too few fields")?.parse().context("a time is not a number")
    };
    Ok(tick(11)? + tick(12)?)
}

/// (busy, total) ticks of all CPUs from the `cpu` line: idle and iowait are not busy; guest
/// time is already inside user time.
fn machine_ticks(stat: &str) -> anyhow::Result<(u64, u64)> {
    let line = stat.lines().find(|line| line.starts_with("cpu ")).context("no cpu line in /proc/stat")?;
    let ticks: Vec<u64> =
        line.split_whitespace().skip(1).take(8).map(str::parse).collect::<Result<_, _>>()?;
    if ticks.len() < 5 {
        bail!("short cpu line in /proc/stat: {line:?}");
    }
    let total: u64 = ticks.iter().sum();
    let idle = ticks[3] + ticks[4];
    Ok((total - idle, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_times_are_read_after_a_name_with_spaces() -> anyhow::Result<()> {
        let stat = "42 (tokio runtime) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_process(stat)?, 280);
        Ok(())
    }

    #[test]
    fn machine_busy_time_leaves_out_idle_and_iowait() -> anyhow::Result<()> {
        let stat = "cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n";
        assert_eq!(machine_ticks(stat)?, (160, 1000));
        Ok(())
    }

    #[test]
    fn this_process_can_be_sampled() -> anyhow::Result<()> {
        let first = sample(&[std::process::id()], &["no_such_database".to_owned()])?;
        let usage = sample(&[std::process::id()], &[])?.usage_since(&first);
        assert_eq!(usage.processes.len(), 1);
        assert!(usage.machine >= 0.0 && usage.rest() >= 0.0 && usage.postgres == 0.0);
        Ok(())
    }
}
