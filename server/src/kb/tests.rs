use super::*;

#[test]
fn user_text_is_quoted_never_read_as_fts_syntax() {
    let terms: Vec<String> = ["PSK", "a\"b", "NEAR(x", "col:val", "*", "^start", "OR"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(
        match_expression(&terms),
        r#""PSK" OR "a""b" OR "NEAR(x" OR "col:val" OR "*" OR "^start" OR "OR""#
    );
}

#[test]
fn an_empty_data_dir_indexes_the_catalogue_and_hostile_queries_search_safely() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnomalyStore::open(dir.path()).unwrap();
    let mut kb = KnowledgeBase::open(dir.path()).unwrap();
    let first = kb.sync(&store).unwrap();
    assert!(first.catalogue >= 60, "{first:?}");
    // Nothing changed: nothing is indexed again.
    let second = kb.sync(&store).unwrap();
    assert_eq!(second.catalogue, 0);
    assert_eq!(second.documents, first.documents);
    let query = |q: &str| mcp_train_core::knowledge::SearchParams::from_pairs([("q", q)]).unwrap();
    let hits = kb.search(&query("PSK mismatch")).unwrap();
    assert_eq!(hits[0].source.id, "wifi/AP-STA-POSSIBLE-PSK-MISMATCH");
    assert_eq!(hits[0].rank, 1);
    let hits = kb.search(&query("DPT=445")).unwrap();
    assert_eq!(hits[0].source.id, "firewall/DPT-445");
    for hostile in [
        "a\"b",
        "NEAR(a b)",
        "title:x",
        "a AND OR",
        "x*",
        "' OR 1=1 --",
        "((a",
    ] {
        kb.search(&query(hostile)).unwrap();
    }
    let rebuilt = kb.rebuild(&store).unwrap();
    assert_eq!(rebuilt.documents, first.documents);
}
