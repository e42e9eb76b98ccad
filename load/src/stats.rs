//! Percentiles of measured durations.

use serde::Serialize;
use std::time::Duration;

/// Returns the nearest-rank percentile `p` (0 to 100) of sorted values, or `None` when
/// there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50, p99 and maximum of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Summary {
    pub fn of(mut values: Vec<Duration>) -> Summary {
        values.sort_unstable();
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
        Summary {
            count: values.len(),
            p50_ms: ms(percentile(&values, 50.0)),
            p99_ms: ms(percentile(&values, 99.0)),
            max_ms: ms(values.last().copied()),
        }
    }
}

/// Formats milliseconds for the table; `-` without a value.
pub fn fmt_ms(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(ms) if ms < 10.0 => format!("{ms:.2}"),
        Some(ms) => format!("{ms:.1}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let values = ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(percentile(&values, 50.0), Some(Duration::from_millis(5)));
        assert_eq!(percentile(&values, 99.0), Some(Duration::from_millis(10)));
        assert_eq!(percentile(&values, 0.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&values, 100.0), Some(Duration::from_millis(10)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn percentile_of_one_value_is_that_value() {
        let values = ms(&[7]);
        assert_eq!(percentile(&values, 1.0), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&values, 99.0), Some(Duration::from_millis(7)));
    }

    #[test]
    fn summary_sorts_its_values() {
        let summary = Summary::of(ms(&[30, 10, 20]));
        assert_eq!(summary.count, 3);
        assert_eq!(summary.p50_ms, Some(20.0));
        assert_eq!(summary.max_ms, Some(30.0));
        assert_eq!(Summary::of(Vec::new()).p50_ms, None);
    }
}
