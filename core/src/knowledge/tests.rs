use super::*;
use crate::agent::AGENTS;

/// The feature columns of each built-in agent (wifi with the default windows).
fn agent_features(log_type: &str) -> Vec<String> {
    let fixed: &[&str] = match log_type {
        "dns" => &crate::agent::dns::FEATURES,
        "firewall" => &crate::agent::firewall::FEATURES,
        "syslog" => &crate::agent::syslog::FEATURES,
        "wifi" => return crate::features::feature_names(&crate::features::FeatureConfig::default()),
        other => panic!("no feature list for {other}: add the new agent here"),
    };
    fixed.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn builtin_catalogue_parses_and_every_entry_is_complete() {
    let catalogue = Catalogue::parse(CATALOGUE_YAML).expect("catalogue.yaml");
    assert!(
        catalogue.entries().len() >= 60,
        "{}",
        catalogue.entries().len()
    );
    assert_eq!(
        Catalogue::builtin().entries().len(),
        catalogue.entries().len()
    );
    for entry in catalogue.entries() {
        assert!(!entry.features.is_empty(), "{} names no feature", entry.id);
        assert!(entry.meaning.len() > 60, "{}: meaning too short", entry.id);
    }
}

#[test]
fn every_agent_has_entries_and_every_feature_is_explained() {
    let catalogue = Catalogue::builtin();
    for agent in AGENTS {
        let log_type = agent.info().log_type;
        let entries = catalogue
            .entries()
            .iter()
            .filter(|e| e.log_type == log_type)
            .count();
        assert!(entries >= 5, "{log_type}: only {entries} catalogue entries");
        for feature in agent_features(log_type) {
            assert!(
                catalogue.feature_meaning(log_type, &feature).is_some(),
                "{log_type}: feature {feature} has no meaning in catalogue.yaml"
            );
        }
    }
    for log_type in catalogue.log_types() {
        assert!(
            AGENTS.iter().any(|a| a.info().log_type == log_type),
            "catalogue entries for {log_type}, which no agent reads"
        );
    }
}

#[test]
fn entries_name_only_features_their_agent_has() {
    let catalogue = Catalogue::builtin();
    for entry in catalogue.entries() {
        let features = agent_features(&entry.log_type);
        for f in &entry.features {
            assert!(
                features.iter().any(|g| g == f || base_feature(g) == f),
                "{}: feature {f} is not a {} feature",
                entry.id,
                entry.log_type
            );
        }
    }
}

#[test]
fn lookup_finds_events_in_real_messages() {
    let c = Catalogue::builtin();
    let ids = |log_type: &str, message: &str| -> Vec<String> {
        c.lookup(log_type, message)
            .into_iter()
            .map(|e| e.id.clone())
            .collect()
    };
    assert_eq!(
        ids(
            "wifi",
            "wlan0: AP-STA-POSSIBLE-PSK-MISMATCH 02:11:22:33:44:55"
        ),
        ["wifi/AP-STA-POSSIBLE-PSK-MISMATCH"]
    );
    let disconnected = ids(
        "wifi",
        "wlan0: CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=15 locally_generated=1",
    );
    assert!(
        disconnected.contains(&"wifi/reason-15".to_owned()),
        "{disconnected:?}"
    );
    assert!(
        !disconnected.contains(&"wifi/reason-1".to_owned()),
        "{disconnected:?}"
    );
    assert!(ids(
        "wifi",
        "wlan0: deauthenticated from 02:00:00:00:01:00 (Reason: 7=CLASS3_FRAME_FROM_NONASSOC_STA)"
    )
    .contains(&"wifi/reason-7".to_owned()));
    assert!(ids(
        "dns",
        "12 10.0.0.5/40000 reply x7f3k9.example.net is NXDOMAIN"
    )
    .contains(&"dns/NXDOMAIN".to_owned()));
    assert!(ids("dns", "config error is REFUSED").contains(&"dns/REFUSED".to_owned()));
    let drop = ids(
        "firewall",
        "DROP_IN IN=eth0 OUT= SRC=10.0.0.5 DST=10.0.0.1 LEN=60 PROTO=TCP SPT=40000 DPT=445 SYN",
    );
    assert!(drop.contains(&"firewall/DPT-445".to_owned()), "{drop:?}");
    assert!(drop.contains(&"firewall/DROP".to_owned()), "{drop:?}");
    assert!(!drop.contains(&"firewall/DPT-22".to_owned()));
    assert!(ids(
        "syslog",
        "Failed password for root from 1.2.3.4 port 22 ssh2"
    )
    .contains(&"syslog/sshd-failed-password".to_owned()));
    // Another log type's events are not looked at.
    assert!(ids("dns", "AP-STA-POSSIBLE-PSK-MISMATCH").is_empty());
}

#[test]
fn features_lead_to_entries_and_meanings_name_windows() {
    let c = Catalogue::builtin();
    let by: Vec<&str> = c
        .by_feature("dns", "client_nxdomain_share_5m")
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert!(by.contains(&"dns/NXDOMAIN-BURST"), "{by:?}");
    assert!(c
        .by_feature("wifi", "auth_failure_count_15m")
        .iter()
        .any(|e| e.id == "wifi/AP-STA-POSSIBLE-PSK-MISMATCH"));
    let m = c.feature_meaning("wifi", "deauth_count_15m").unwrap();
    assert!(m.contains("15 minutes"), "{m}");
    assert_eq!(c.feature_meaning("wifi", "nope"), None);
    assert_eq!(base_feature("client_queries_1m"), "client_queries");
    assert_eq!(base_feature("is_query"), "is_query");
}

#[test]
fn a_broken_catalogue_is_refused_with_the_entry_named() {
    let entry = |id: &str, pattern: &str| {
        format!(
            "  - id: {id}\n    log_type: wifi\n    event: E\n    title: T\n    match: ['{pattern}']\n    \
             meaning: M\n    check: C\n    features: [x]\n    source: S\n"
        )
    };
    let file = |entries: String| format!("entries:\n{entries}features: {{}}\n");
    let dup = file(entry("wifi/A", "a") + &entry("wifi/A", "b"));
    assert!(Catalogue::parse(&dup)
        .unwrap_err()
        .0
        .contains("wifi/A appears twice"));
    let prefix = file(entry("dns/A", "a"));
    assert!(Catalogue::parse(&prefix)
        .unwrap_err()
        .0
        .contains("must start with"));
    let regex = file(entry("wifi/B", "(unclosed"));
    assert!(Catalogue::parse(&regex).unwrap_err().0.contains("wifi/B"));
}

#[test]
fn search_parameters_are_checked_in_one_place() {
    let q = SearchParams::from_pairs([
        ("q", "PSK mismatch  ---  PSK"),
        ("kind", "catalogue,anomaly"),
        ("kind", "verdict"),
        ("log_type", "wifi"),
        ("limit", "5"),
    ])
    .unwrap();
    assert_eq!(q.terms, ["PSK", "mismatch"]);
    assert_eq!(
        q.kinds,
        [DocKind::Catalogue, DocKind::Anomaly, DocKind::Verdict]
    );
    assert_eq!(q.log_type.as_deref(), Some("wifi"));
    assert_eq!(q.limit, 5);
    assert_eq!(
        SearchParams::from_pairs([("q", "x")]).unwrap().limit,
        DEFAULT_RESULTS
    );
    let err = |pairs: &[(&str, &str)]| SearchParams::from_pairs(pairs.iter().copied()).unwrap_err();
    assert_eq!(err(&[("q", "  ")]).param, "q");
    assert_eq!(err(&[("q", "\" * ( )")]).param, "q");
    assert_eq!(err(&[]).param, "q");
    assert_eq!(err(&[("q", &"a".repeat(501))]).param, "q");
    assert_eq!(err(&[("q", "x"), ("kind", "models")]).param, "kind");
    assert!(err(&[("q", "x"), ("kind", "models")])
        .message
        .contains("catalogue, model"));
    assert_eq!(err(&[("q", "x"), ("limit", "0")]).param, "limit");
    assert_eq!(err(&[("q", "x"), ("limit", "101")]).param, "limit");
    assert_eq!(err(&[("q", "x"), ("limit", "ten")]).param, "limit");
    assert_eq!(err(&[("q", "x"), ("log_type", " ")]).param, "log_type");
    assert_eq!(err(&[("q", "x"), ("sort", "rank")]).param, "sort");
}
