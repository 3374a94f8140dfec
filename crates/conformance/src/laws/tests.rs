//! Checks of the catalogue itself: ids, rule ids, doc comments.

use crate::law::CATALOGUE;
use crate::rules::is_rule_id;

#[test]
fn every_law_names_known_rule_ids() {
    for law in CATALOGUE {
        assert!(!law.rules.is_empty(), "{} names no rule", law.id);
        for rule in law.rules {
            assert!(is_rule_id(rule), "{} names unknown rule {rule}", law.id);
        }
    }
}

#[test]
fn law_ids_are_unique_and_no_id_contains_another() {
    // `cargo test <id>` filters by substring: it must select exactly one law.
    for a in CATALOGUE {
        for b in CATALOGUE {
            if !std::ptr::eq(a, b) {
                assert!(
                    !b.id.contains(a.id),
                    "`cargo test {}` also runs {}",
                    a.id,
                    b.id
                );
            }
        }
        assert_eq!(a.id, format!("{}::{}", a.area, a.name()));
    }
}

#[test]
fn every_law_doc_comment_names_its_rule_ids() {
    for law in CATALOGUE {
        let path = format!("{}/src/laws/{}.rs", env!("CARGO_MANIFEST_DIR"), law.area);
        let source = std::fs::read_to_string(&path).unwrap();
        let doc = doc_comment_of(&source, law.name())
            .unwrap_or_else(|| panic!("{}: no documented `pub async fn` in {path}", law.id));
        for rule in law.rules {
            assert!(
                names_rule(&doc, rule),
                "{}: doc comment does not name {rule}",
                law.id
            );
        }
    }
}

fn doc_comment_of(source: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let signature = format!("pub async fn {name}(");
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&signature))?;
    let doc: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .take_while(|l| l.trim_start().starts_with("///"))
        .copied()
        .collect();
    (!doc.is_empty()).then(|| doc.join("\n"))
}

fn names_rule(doc: &str, rule: &str) -> bool {
    doc.match_indices(rule).any(|(i, _)| {
        let before = doc[..i].chars().next_back();
        let after = doc[i + rule.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}
