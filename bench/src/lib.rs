//! Helpers shared by the benchmark binaries: percentiles and what `/proc` says about a
//! process (CPU time, resident memory). Linux only, like the measurements.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` CPU times (`getconf CLK_TCK`; 100 on
/// every Linux this runs on).
pub const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// The `p`-th percentile (0..=100) of `sorted` (ascending), nearest rank; 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// User + system CPU time of `pid` so far (`self` for this process).
pub fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / CLOCK_TICKS_PER_SECOND,
    ))
}

/// A `/proc/<pid>/status` memory figure in KiB: `VmRSS` (now) or `VmHWM` (peak).
pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&values, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(cpu_time("self").is_some());
        assert!(status_kib("self", "VmHWM").is_some_and(|kib| kib > 0));
    }
}
