use std::borrow::Cow;

use super::*;

fn rec(ts: &str, level: &str, process: &str, message: &str) -> String {
    serde_json::json!({"timestamp": ts, "log_level": level, "process_name": process, "message": message})
        .to_string()
}

fn object(records: &[String]) -> String {
    format!(
        "{{\"export_metadata\": {{\"total_records\": {}, \"export_id\": \"t\"}}, \"data\": [{}]}}",
        records.len(),
        records.join(",")
    )
}

fn good(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            rec(
                &format!("2024-01-01T12:00:{:02}Z", i % 60),
                "INFO",
                "hostapd",
                &format!("wlan0: AP-STA-CONNECTED 00:11:22:33:44:{:02x}", i % 256),
            )
        })
        .collect()
}

fn parse(text: &str) -> ParsedExport<'_> {
    match parse_export(text.as_bytes(), &ValidateOptions::default()) {
        Ok(parsed) => parsed,
        Err(e) => panic!("unexpected fatal error: {e}"),
    }
}

fn fatal(bytes: &[u8]) -> ExportError {
    match parse_export(bytes, &ValidateOptions::default()) {
        Ok(p) => panic!("expected a fatal error, got report {:?}", p.report),
        Err(e) => e,
    }
}

fn example(report: &ValidationReport, kind: IssueKind) -> Issue {
    report
        .errors
        .iter()
        .chain(report.warnings.iter())
        .chain(report.dropped.iter().flat_map(|d| d.reasons.iter()))
        .find(|g| g.kind == kind)
        .and_then(|g| g.examples.first().cloned())
        .unwrap_or_else(|| panic!("no {kind:?} in {report:#?}"))
}

#[test]
fn reads_the_three_shapes_alike() {
    let records = good(3);
    let as_object = object(&records);
    let as_array = format!("[{}]", records.join(","));
    let as_ndjson = records.join("\n") + "\n";
    for (text, format) in [
        (as_object.as_str(), ExportFormat::Object),
        (as_array.as_str(), ExportFormat::Array),
        (as_ndjson.as_str(), ExportFormat::Ndjson),
    ] {
        let parsed = parse(text);
        assert!(parsed.report.valid, "{format:?}: {:?}", parsed.report);
        assert_eq!(parsed.export.format, format);
        assert_eq!(parsed.export.records.len(), 3);
        assert_eq!(parsed.report.summary.records, 3);
        assert_eq!(
            parsed.report.warning_count(),
            0,
            "{:?}",
            parsed.report.warnings
        );
        assert_eq!(parsed.export.records[2].index, 2);
        assert_eq!(parsed.export.records[0].level, LogLevel::Info);
    }
}

#[test]
fn byte_order_mark_is_tolerated_and_utf16_is_named() {
    let text = format!("\u{feff}{}", object(&good(1)));
    assert!(parse(&text).report.valid);
    let e = fatal(b"\xFF\xFE{\x00");
    assert!(e.to_string().contains("UTF-16"), "{e}");
}

#[test]
fn messages_without_escapes_are_borrowed() {
    let text = format!(
        "[{},{}]",
        rec("2024-01-01T00:00:00Z", "INFO", "hostapd", "plain"),
        rec("2024-01-01T00:00:01Z", "INFO", "hostapd", "with \"quote\"")
    );
    let parsed = parse(&text);
    assert!(matches!(
        parsed.export.records[0].message,
        Cow::Borrowed("plain")
    ));
    assert_eq!(parsed.export.records[1].message, "with \"quote\"");
}

#[test]
fn the_host_comes_from_device_id_hostname_or_host() {
    let text = concat!(
        r#"[{"timestamp":"2024-01-01T00:00:00Z","log_level":"INFO","process_name":"sshd","message":"a","device_id":"web-01"},"#,
        r#"{"timestamp":"2024-01-01T00:00:01Z","log_level":"INFO","process_name":"sshd","message":"b","hostname":"LabSZ","host":"other"},"#,
        r#"{"timestamp":"2024-01-01T00:00:02Z","log_level":"INFO","process_name":"sshd","message":"c","host":7},"#,
        r#"{"timestamp":"2024-01-01T00:00:03Z","log_level":"INFO","process_name":"sshd","message":"d"}]"#
    );
    let parsed = parse(text);
    assert!(parsed.report.valid);
    assert!(parsed.report.errors.is_empty());
    assert!(parsed
        .report
        .warnings
        .iter()
        .all(|g| g.kind != IssueKind::DuplicateField));
    let hosts: Vec<Option<&str>> = parsed
        .export
        .records
        .iter()
        .map(|r| r.host.as_deref())
        .collect();
    assert_eq!(hosts, [Some("web-01"), Some("LabSZ"), None, None]);
}

#[test]
fn empty_input_is_an_error() {
    assert_eq!(fatal(b""), ExportError::Empty);
    assert_eq!(fatal(b" \n\t "), ExportError::Empty);
    assert_eq!(fatal(b"\xEF\xBB\xBF"), ExportError::Empty);
}

#[test]
fn truncated_json_names_line_and_column() {
    let text = object(&good(2));
    let cut = &text[..text.len() - 10];
    match fatal(cut.as_bytes()) {
        ExportError::Syntax { line, column, .. } => {
            assert_eq!(line, 1);
            assert!(column >= cut.len() - 1, "column {column}");
        }
        other => panic!("{other:?}"),
    }
    let e = fatal(b"{\n  \"data\": [\n    {\"timestamp\": }\n  ]\n}");
    assert!(
        matches!(
            e,
            ExportError::Syntax {
                line: 3,
                column: 19,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn not_json_and_nan_are_syntax_errors() {
    for bad in [&b"hello world"[..], b"NaN", b"{\"data\": [NaN]}", b"<html>"] {
        let e = fatal(bad);
        assert!(matches!(e, ExportError::Syntax { line: 1, .. }), "{e:?}");
    }
}

#[test]
fn json_that_is_not_an_export_is_named() {
    let e = fatal(b"42");
    assert!(matches!(e, ExportError::NotAnExport { .. }), "{e:?}");
    let e = fatal(b"{\"data\": \"nope\"}");
    assert!(
        matches!(&e, ExportError::NotAnExport { line: 1, message, .. } if message.contains("array of records")),
        "{e:?}"
    );
    let e = fatal(b"{\"hello\": 1}");
    assert!(e.to_string().contains("no \"data\" array"), "{e}");
    let e = fatal(format!("{} trailing", object(&good(1))).as_bytes());
    assert!(matches!(e, ExportError::Syntax { .. }), "{e:?}");
}

#[test]
fn invalid_utf8_is_a_located_error() {
    let mut bytes = object(&good(1)).into_bytes();
    let at = bytes.windows(5).position(|w| w == b"wlan0").unwrap_or(0);
    bytes[at] = 0xFF;
    let e = fatal(&bytes);
    assert!(matches!(e, ExportError::Syntax { line: 1, .. }), "{e:?}");
}

#[test]
fn deep_nesting_neither_overflows_the_stack_nor_hangs() {
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // In a field nobody reads, the nesting is skipped without recursion.
    let text = format!(
        "{{\"data\": [{{\"timestamp\": \"2024-01-01T00:00:00Z\", \"log_level\": \"INFO\", \"process_name\": \"hostapd\", \"message\": \"m\", \"x\": {nested}}}]}}"
    );
    assert!(parse(&text).report.valid);
    // As a required field it is a wrong type; as a record, not an object.
    let text = format!("[{{\"timestamp\": {nested}}}, {nested}]");
    let report = parse(&text).report;
    assert_eq!(report.count_of(IssueKind::WrongType), 1);
    assert_eq!(report.count_of(IssueKind::NotAnObject), 1);
    // Metadata is read as a value: serde_json's recursion limit refuses it with a location.
    let text = format!("{{\"export_metadata\": {nested}, \"data\": []}}");
    let e = fatal(text.as_bytes());
    assert!(e.to_string().contains("recursion limit"), "{e}");
}

#[test]
fn empty_records_is_invalid() {
    for text in ["{\"data\": []}", "[]"] {
        let parsed = parse(text);
        assert!(!parsed.report.valid);
        assert_eq!(parsed.report.count_of(IssueKind::NoRecords), 1);
        let e = parsed.into_usable().map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("no records"), "{e}");
    }
}

#[test]
fn record_errors_name_index_and_field() {
    let mut records = good(5);
    records[1] =
        r#"{"timestamp": 17, "log_level": "INFO", "process_name": "x", "message": "m"}"#.into();
    records[2] =
        r#"{"timestamp": "2024-01-01T00:00:00Z", "log_level": "INFO", "process_name": "x"}"#.into();
    records[3] =
        r#"{"timestamp": "yesterday", "log_level": "LOUD", "process_name": null, "message": "m"}"#
            .into();
    records[4] = "\"just a string\"".into();
    let text = object(&records);
    let parsed = parse(&text);
    let r = &parsed.report;
    assert!(!r.valid);
    assert_eq!(r.records_seen, 5);
    assert_eq!(parsed.export.records.len(), 1);
    let wrong = example(r, IssueKind::WrongType);
    assert_eq!(
        (wrong.record, wrong.field.as_deref()),
        (Some(1), Some("timestamp"))
    );
    assert!(wrong.message.contains("found number"), "{}", wrong.message);
    let missing = example(r, IssueKind::MissingField);
    assert_eq!(
        (missing.record, missing.field.as_deref()),
        (Some(2), Some("message"))
    );
    let ts = example(r, IssueKind::BadTimestamp);
    assert_eq!(ts.record, Some(3));
    assert!(ts.message.contains("yesterday"));
    assert_eq!(example(r, IssueKind::BadLevel).record, Some(3));
    assert_eq!(
        r.count_of(IssueKind::WrongType),
        2,
        "timestamp 17 and process_name null"
    );
    assert_eq!(example(r, IssueKind::NotAnObject).record, Some(4));
    let e = parsed.into_usable().map(|_| ()).unwrap_err();
    assert!(
        e.to_string()
            .contains("first: record 1, field \"timestamp\""),
        "{e}"
    );
}

#[test]
fn drop_invalid_keeps_the_good_records_and_says_why() {
    let mut records = good(4);
    records[0] = r#"{"timestamp": "2024-02-30T00:00:00Z", "log_level": "INFO", "process_name": "x", "message": "m"}"#.into();
    records[2] = r#"{"timestamp": "2024-01-01T00:00:00Z", "log_level": "INFO", "process_name": "x", "message": "m", "label": 7}"#.into();
    let text = object(&records);
    let options = ValidateOptions {
        drop_invalid: true,
        ..ValidateOptions::default()
    };
    let parsed = parse_export(text.as_bytes(), &options).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.report.valid);
    assert!(parsed.report.errors.is_empty());
    let dropped = parsed
        .report
        .dropped
        .clone()
        .unwrap_or_else(|| panic!("no dropped section"));
    assert_eq!(dropped.count, 2);
    assert_eq!(
        example(&parsed.report, IssueKind::BadTimestamp).record,
        Some(0)
    );
    assert_eq!(example(&parsed.report, IssueKind::BadLabel).record, Some(2));
    let kept: Vec<usize> = parsed.export.records.iter().map(|r| r.index).collect();
    assert_eq!(kept, vec![1, 3]);
}

#[test]
fn ndjson_bad_line_is_located_and_reading_goes_on() {
    let records = good(3);
    let text = format!(
        "{}\n{{\"timestamp\": oops}}\n\n{}\n{}\n",
        records[0], records[1], records[2]
    );
    let parsed = parse(&text);
    assert!(!parsed.report.valid);
    let bad = example(&parsed.report, IssueKind::NotJson);
    assert_eq!((bad.record, bad.line), (Some(1), Some(2)));
    assert!(bad.column.is_some());
    assert_eq!(parsed.export.records.len(), 3);
    let options = ValidateOptions {
        drop_invalid: true,
        ..ValidateOptions::default()
    };
    let dropped = parse_export(text.as_bytes(), &options).unwrap_or_else(|e| panic!("{e}"));
    assert!(dropped.report.valid);
    assert_eq!(dropped.report.dropped.map(|d| d.count), Some(1));
}

#[test]
fn ndjson_record_errors_carry_their_line() {
    let text = format!(
        "{}\n\n{}\n",
        rec("2024-01-01T00:00:00Z", "INFO", "hostapd", "ok"),
        r#"{"timestamp": "2024-01-01T00:00:01Z", "log_level": "INFO", "message": "m"}"#
    );
    let parsed = parse(&text);
    let missing = example(&parsed.report, IssueKind::MissingField);
    assert_eq!(
        (missing.record, missing.line, missing.field.as_deref()),
        (Some(1), Some(3), Some("process_name"))
    );
}

#[test]
fn messy_but_usable_records_are_warnings() {
    let records = vec![
        rec(
            "2024-01-01T12:00:05",
            "warn",
            "hostapd",
            "no zone, alias level",
        ),
        rec("2024-01-01T12:00:01Z", "INFO", "hostapd", "time went back"),
        rec("2024-01-01T12:00:01Z", "INFO", "hostapd", "time went back"),
        rec(
            "2024-01-01T12:00:02Z",
            "INFO",
            "hostapd",
            "line one\nline two",
        ),
        rec("2024-01-01T12:00:03Z", "INFO", "hostapd", "café ☕"),
        rec("2024-01-01T12:00:04Z", "INFO", "", ""),
        rec(
            "1970-01-01T00:00:04Z",
            "INFO",
            "syslogd 1.4.1",
            "bell \u{7}",
        ),
    ];
    let text = object(&records);
    let parsed = parse(&text);
    let r = &parsed.report;
    assert!(r.valid, "{:?}", r.errors);
    assert_eq!(parsed.export.records.len(), 7);
    for (kind, count) in [
        (IssueKind::TimestampWithoutZone, 1),
        (IssueKind::LevelAlias, 1),
        (IssueKind::TimeGoesBackwards, 2),
        (IssueKind::DuplicateRecord, 1),
        (IssueKind::MultilineMessage, 1),
        (IssueKind::NonAscii, 1),
        (IssueKind::EmptyMessage, 1),
        (IssueKind::EmptyProcessName, 1),
        (IssueKind::UnusualProcessName, 1),
        (IssueKind::ImplausibleTimestamp, 1),
        (IssueKind::ControlCharacters, 1),
    ] {
        assert_eq!(r.count_of(kind), count, "{kind:?}");
    }
    assert_eq!(example(r, IssueKind::TimeGoesBackwards).record, Some(1));
    assert_eq!(parsed.export.records[0].level, LogLevel::Warning);
    assert_eq!(r.summary.message_length.max, 20);
    assert_eq!(r.summary.message_length.min, 0);
}

#[test]
fn labels_and_is_anomaly() {
    let base =
        r#""timestamp": "2024-01-01T00:00:00Z", "log_level": "INFO", "process_name": "hostapd""#;
    let text = format!(
        "[{{{base}, \"message\": \"a\", \"label\": 1}}, {{{base}, \"message\": \"b\", \"is_anomaly\": false}}, {{{base}, \"message\": \"c\", \"label\": 0, \"is_anomaly\": true}}, {{{base}, \"message\": \"d\"}}]"
    );
    let parsed = parse(&text);
    let labels: Vec<Option<bool>> = parsed.export.records.iter().map(|r| r.label).collect();
    assert_eq!(labels, vec![Some(true), Some(false), Some(false), None]);
    assert_eq!(parsed.report.count_of(IssueKind::ConflictingLabels), 1);
    assert_eq!(parsed.report.count_of(IssueKind::PartialLabels), 1);
    assert_eq!(
        (
            parsed.report.summary.labelled,
            parsed.report.summary.anomalies
        ),
        (3, 1)
    );
    assert!(parsed.export.has_labels());
}

#[test]
fn huge_message_is_a_warning_not_a_failure() {
    let message = "A".repeat(5 * 1024 * 1024);
    let text = object(&[rec("2024-01-01T00:00:00Z", "INFO", "hostapd", &message)]);
    let parsed = parse(&text);
    assert!(parsed.report.valid);
    assert!(example(&parsed.report, IssueKind::LongMessage)
        .message
        .contains("5242880 bytes"));
    assert_eq!(parsed.report.summary.message_length.max, 5 * 1024 * 1024);
}

#[test]
fn metadata_problems_are_warnings() {
    let text = format!(
        "{{\"export_metadata\": {{\"total_records\": 9, \"created_at\": \"soon\"}}, \"data\": [{}]}}",
        good(2).join(",")
    );
    let r = parse(&text).report;
    assert!(r.valid);
    assert_eq!(r.count_of(IssueKind::MetadataCountMismatch), 1);
    assert_eq!(r.count_of(IssueKind::BadMetadata), 1);
    let text = format!(
        "{{\"export_metadata\": [], \"data\": [{}]}}",
        good(1).join(",")
    );
    assert_eq!(parse(&text).report.count_of(IssueKind::BadMetadata), 1);
}

#[test]
fn summary_counts_processes_levels_and_wifi_share() {
    let records = vec![
        rec("2024-01-01T00:00:00Z", "INFO", "hostapd", "a"),
        rec("2024-01-01T00:00:10Z", "ERROR", "hostapd", "b"),
        rec("2024-01-01T00:01:00Z", "DEBUG", "dnsmasq", "c"),
        rec("2024-01-01T00:02:00Z", "INFO", "wpa_supplicant", "d"),
    ];
    let r = parse(&object(&records)).report;
    let s = &r.summary;
    assert_eq!(s.processes[0].name, "hostapd");
    assert_eq!(s.processes[0].count, 2);
    assert_eq!(s.distinct_processes, 3);
    assert_eq!(
        s.levels.iter().map(|c| c.count).collect::<Vec<_>>(),
        vec![1, 2, 0, 1, 0]
    );
    assert!((s.wifi_share - 0.75).abs() < 1e-12);
    let range = s.time_range.clone().unwrap_or_else(|| panic!("no range"));
    assert_eq!(range.start, "2024-01-01T00:00:00Z");
    assert_eq!(range.span_seconds, 120.0);
    assert_eq!(r.count_of(IssueKind::FewWifiRecords), 0);
    let non_wifi = object(&[rec("2024-01-01T00:00:00Z", "INFO", "sshd", "x")]);
    assert_eq!(
        parse(&non_wifi).report.count_of(IssueKind::FewWifiRecords),
        1
    );
}

#[test]
fn examples_are_capped_but_counts_are_not() {
    let records: Vec<String> = (0..50)
        .map(|i| rec(&format!("2024-01-01T00:00:{i:02}"), "INFO", "hostapd", "x"))
        .collect();
    let r = parse(&object(&records)).report;
    let group = r
        .warnings
        .iter()
        .find(|g| g.kind == IssueKind::TimestampWithoutZone);
    let group = group.unwrap_or_else(|| panic!("missing group"));
    assert_eq!(group.count, 50);
    assert_eq!(group.examples.len(), 5);
}

#[test]
fn fatal_errors_become_reports() {
    let report = ValidationReport::from_error(&fatal(b"{ nope"));
    assert!(!report.valid);
    let issue = report
        .first_error()
        .cloned()
        .unwrap_or_else(|| panic!("no error"));
    assert_eq!((issue.kind, issue.line), (IssueKind::NotJson, Some(1)));
    assert!(issue.column.is_some());
}

#[test]
fn progress_reports_record_counts() {
    let records = good(70_000);
    let text = format!("[{}]", records.join(","));
    let mut calls = Vec::new();
    let valid = parse_export_with_progress(text.as_bytes(), &ValidateOptions::default(), |n| {
        calls.push(n)
    })
    .map(|p| p.report.valid);
    assert_eq!(valid, Ok(true));
    assert_eq!(calls, vec![65_536, 70_000]);
}
