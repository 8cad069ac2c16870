//! Resident memory of a process, from `/proc/<pid>/status`.

use anyhow::{Context, bail};

/// Resident set now (`VmRSS`) and its high-water mark (`VmHWM`), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resident {
    pub now: u64,
    pub peak: u64,
}

pub fn read(pid: u32) -> anyhow::Result<Resident> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse(&status).with_context(|| format!("unexpected contents of {path}"))
}

fn parse(status: &str) -> anyhow::Result<Resident> {
    Ok(Resident { now: field_bytes(status, "VmRSS")?, peak: field_bytes(status, "VmHWM")? })
}

/// A `Name:   1234 kB` line, in bytes (the kernel's kB are KiB).
fn field_bytes(status: &str, name: &str) -> anyhow::Result<u64> {
    let Some(line) = status.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':')) else {
        bail!("no {name} line");
    };
    let mut words = line.split_whitespace();
    let (Some(value), Some("kB")) = (words.next(), words.next()) else {
        bail!("{name} is not in kB: {line:?}");
    };
    let kib: u64 = value.parse().with_context(|| format!("{name} is not a number: {value:?}"))?;
    Ok(kib * 1024)
}

/// Bytes as decimal megabytes, the unit of the targets.
pub fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_its_high_water_mark_are_read_in_bytes() -> anyhow::Result<()> {
        let status = "Name:\tserial-svc\nVmPeak:\t  900000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse(status)?, Resident { now: 10_485_760, peak: 20_971_520 });
        Ok(())
    }

    #[test]
    fn a_missing_field_is_an_error() {
        assert!(parse("VmRSS:\t 1 kB\n").is_err());
    }

    #[test]
    fn this_process_has_a_resident_set() -> anyhow::Result<()> {
        let resident = read(std::process::id())?;
        assert!(resident.now > 0 && resident.peak >= resident.now);
        Ok(())
    }
}
