//! Human-readable rendering of reports for the terminal.

use std::fmt::Write;

use mcp_train_core::display::percent;
/// Counts in the terminal read as everywhere else: `1,234,567`.
pub use mcp_train_core::display::thousands;
use mcp_train_core::evaluate::{ClassificationMetrics, ThresholdCheck};
use mcp_train_core::export::{IssueGroup, ValidationReport};

fn duration(seconds: f64) -> String {
    if seconds >= 86_400.0 {
        format!("{:.1} days", seconds / 86_400.0)
    } else if seconds >= 3_600.0 {
        format!("{:.1} h", seconds / 3_600.0)
    } else if seconds >= 60.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{seconds:.1} s")
    }
}

fn groups(out: &mut String, title: &str, groups: &[IssueGroup]) {
    if groups.is_empty() {
        return;
    }
    let total: usize = groups.iter().map(|g| g.count).sum();
    let _ = writeln!(
        out,
        "\n{title} ({} kind{}, {} occurrence{})",
        groups.len(),
        if groups.len() == 1 { "" } else { "s" },
        thousands(total),
        if total == 1 { "" } else { "s" }
    );
    for group in groups {
        let _ = writeln!(
            out,
            "  {} ×{} — {}",
            group.kind.as_str(),
            thousands(group.count),
            group.description
        );
        for example in &group.examples {
            let _ = writeln!(out, "      {example}");
        }
        if group.count > group.examples.len() {
            let _ = writeln!(
                out,
                "      … and {} more",
                thousands(group.count - group.examples.len())
            );
        }
    }
}

/// The whole report as text.
pub fn report(name: &str, report: &ValidationReport) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = if report.valid { "valid" } else { "INVALID" };
    let format = report
        .format
        .map(|f| format!("{f:?}").to_lowercase())
        .unwrap_or_else(|| "unreadable".into());
    let _ = writeln!(
        out,
        "{name}: {verdict} ({format}, {} usable of {} records, {} error{}, {} warning{})",
        thousands(s.records),
        thousands(report.records_seen),
        thousands(report.error_count()),
        if report.error_count() == 1 { "" } else { "s" },
        thousands(report.warning_count()),
        if report.warning_count() == 1 { "" } else { "s" },
    );
    if let Some(dropped) = &report.dropped {
        let reasons: Vec<String> = dropped
            .reasons
            .iter()
            .map(|g| format!("{} {}", thousands(g.count), g.kind.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "Dropped    {} invalid record{}{}",
            thousands(dropped.count),
            if dropped.count == 1 { "" } else { "s" },
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            }
        );
    }
    if s.records > 0 {
        if let Some(range) = &s.time_range {
            let _ = writeln!(
                out,
                "Time       {} → {} ({})",
                range.start,
                range.end,
                duration(range.span_seconds)
            );
        }
        let levels: Vec<String> = s
            .levels
            .iter()
            .filter(|c| c.count > 0)
            .map(|c| format!("{} {} ({})", c.name, thousands(c.count), percent(c.share)))
            .collect();
        let _ = writeln!(out, "Levels     {}", levels.join(" · "));
        let shown = 6;
        let mut processes: Vec<String> = s
            .processes
            .iter()
            .take(shown)
            .map(|c| {
                let name = if c.name.is_empty() {
                    "(empty)"
                } else {
                    &c.name
                };
                format!("{name} {} ({})", thousands(c.count), percent(c.share))
            })
            .collect();
        if s.distinct_processes > shown {
            processes.push(format!("+{} more", s.distinct_processes - shown));
        }
        let _ = writeln!(out, "Processes  {}", processes.join(" · "));
        let _ = writeln!(
            out,
            "WiFi       {} of records from WiFi processes",
            percent(s.wifi_share)
        );
        let m = &s.message_length;
        let _ = writeln!(
            out,
            "Messages   length min {} · mean {:.1} · p50 {} · p95 {} · max {} characters",
            thousands(m.min),
            m.mean,
            thousands(m.p50),
            thousands(m.p95),
            thousands(m.max)
        );
        if s.labelled > 0 {
            let _ = writeln!(
                out,
                "Labels     {} labelled, {} anomalies ({})",
                thousands(s.labelled),
                thousands(s.anomalies),
                percent(s.anomalies as f64 / s.labelled as f64)
            );
        } else {
            let _ = writeln!(out, "Labels     none (unsupervised evaluation only)");
        }
    }
    groups(&mut out, "Errors", &report.errors);
    if let Some(dropped) = &report.dropped {
        groups(&mut out, "Dropped records", &dropped.reasons);
    }
    groups(&mut out, "Warnings", &report.warnings);
    out
}

/// Classification metrics on one line.
pub fn metrics_line(m: &ClassificationMetrics) -> String {
    let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.3}"));
    format!(
        "accuracy {:.3} · precision {:.3} · recall {:.3} · F1 {:.3} · ROC AUC {} · AP {} (TP {} FP {} FN {} TN {})",
        m.accuracy,
        m.precision,
        m.recall,
        m.f1,
        opt(m.roc_auc),
        opt(m.average_precision),
        m.confusion_matrix.true_positive,
        m.confusion_matrix.false_positive,
        m.confusion_matrix.false_negative,
        m.confusion_matrix.true_negative
    )
}

/// Threshold checks on one line: each metric, its value, the bound and pass or FAIL.
pub fn checks_line(checks: &[ThresholdCheck]) -> String {
    checks
        .iter()
        .map(|c| {
            let mark = match c.passed {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "n/a",
            };
            let value = c.value.map_or("n/a".to_owned(), |v| format!("{v:.3}"));
            format!(
                "{} {value} {} {} {mark}",
                c.metric, c.comparison, c.threshold
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}
