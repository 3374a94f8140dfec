//! Checks of the catalogue itself: ids, rule ids, doc comments.

use crate::law::{CATALOGUE, Need, uncovered_rules};
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

#[test]
fn laws_reading_the_injected_clock_need_it() {
    // T2: against a registry on its own clock, `ctx.now_ms()` says nothing about its timestamps.
    for law in CATALOGUE {
        let path = format!("{}/src/laws/{}.rs", env!("CARGO_MANIFEST_DIR"), law.area);
        let source = std::fs::read_to_string(&path).unwrap();
        let body = body_of(&source, law.name()).unwrap();
        if body.contains("ctx.now_ms()") {
            assert!(
                law.needs.contains(&Need::Clock),
                "{} reads the clock without [Clock]",
                law.id
            );
        }
    }
}

#[test]
fn rules_of_registration_events_and_completion_are_all_covered() {
    let uncovered = uncovered_rules();
    let owned = [
        "R1", "R2", "R3", "R4", "R5", "R6", "R7", "X1", "X2", "X3", "E1", "E2", "E3", "E4", "E5",
        "E6", "E7", "E8", "E9", "E10", "E11", "E12", "E13", "E14", "E15", "C1", "C2", "C3", "C4",
        "C5", "B1", "V2", "V3", "J1", "O1", "M1", "P1", "D1",
    ];
    for rule in owned {
        assert!(!uncovered.contains(&rule), "no law names {rule}");
    }
}

fn body_of<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let start = source.find(&format!("pub async fn {name}("))?;
    let rest = &source[start..];
    let end = rest[1..].find("\n/// ").map_or(rest.len(), |i| i + 1);
    Some(&rest[..end])
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
