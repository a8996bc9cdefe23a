//! Reading `/metrics` in tests: one scrape's samples, the series it holds, the metric names it
//! exports.

use std::collections::BTreeSet;

use crate::TestApp;

/// One scrape of `/metrics` (Prometheus text format).
#[derive(Debug, Clone)]
pub struct Scrape(pub String);

impl Scrape {
    /// The value of one series, written exactly as the text format writes it
    /// (`name{label="value",…}`, labels in name order), or `None` when absent.
    #[must_use]
    pub fn value(&self, series: &str) -> Option<f64> {
        self.0.lines().find_map(|line| {
            let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
            rest.trim().parse().ok()
        })
    }

    /// The value of one series, 0 when absent.
    #[must_use]
    pub fn value_or_zero(&self, series: &str) -> f64 {
        self.value(series).unwrap_or(0.0)
    }

    /// How many series (sample lines) the scrape holds.
    #[must_use]
    pub fn series(&self) -> usize {
        self.0
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count()
    }

    /// Every metric name a query can use: each family's name, and for a histogram its
    /// `_bucket`, `_sum` and `_count` series.
    #[must_use]
    pub fn names(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for line in self.0.lines() {
            let Some(rest) = line.strip_prefix("# TYPE ") else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let (Some(name), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            match kind {
                "histogram" => {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                }
                "summary" => {
                    for suffix in ["", "_sum", "_count"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                }
                _ => {
                    names.insert(name.to_owned());
                }
            }
        }
        names
    }
}

impl TestApp {
    /// Scrapes `/metrics`.
    pub async fn scrape(&self) -> Scrape {
        Scrape(self.get_text("/metrics").await)
    }
}
