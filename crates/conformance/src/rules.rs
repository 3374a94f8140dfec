//! The rule ids of the contract (docs/CONTRACT.md), so the catalogue can be checked against them:
//! every id a law names exists, and [`crate::uncovered_rules`] lists the ones no law names yet.

/// Every rule id of the contract, in the order the contract defines them.
pub const CONTRACT_RULES: &[&str] = &[
    "V1", "V2", "V3", "T1", "T2", "B1", "O1", "J1", "M1", "A1", "A2", "P1", //
    "R1", "R2", "R3", "R4", "R5", "R6", "R7", "X1", "X2", "X3", //
    "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10", "E11", "E12", "E13", "E14",
    "E15", //
    "C1", "C2", "C3", "C4", "C5", //
    "H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8", //
    "S1", "S2", "S3", "S4", "S5", "S6", //
    "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "N1", //
    "D1", "D2", "D3", "D4", "D5", "D6", "D7", //
    "W1", "W2", "W3", "W4", "W5",
];

/// Rules no conformance law can check black-box, each with the reason. The W rules are the
/// simulator's and are not listed: [`crate::uncovered_rules`] leaves them out.
pub const UNCHECKED: &[(&str, &str)] = &[(
    "D4",
    "faithful read-back needs damaged bytes, and a law cannot damage a backend's substrate; \
     checked where the kit controls the bytes: FileRegistry's corruption tests and \
     procreg_reference::storage::check_storage",
)];

/// Whether `id` is a rule of the contract (or a `Z<n>` decision of the project's copy).
pub fn is_rule_id(id: &str) -> bool {
    CONTRACT_RULES.contains(&id)
        || id
            .strip_prefix('Z')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::{CONTRACT_RULES, UNCHECKED};
    use crate::law::uncovered_rules;

    #[test]
    fn every_rule_is_covered_by_a_law_or_unchecked_with_a_reason() {
        let unchecked: Vec<&str> = UNCHECKED.iter().map(|(rule, _)| *rule).collect();
        assert_eq!(uncovered_rules(), unchecked);
        for (rule, reason) in UNCHECKED {
            assert!(
                CONTRACT_RULES.contains(rule),
                "{rule} is not a contract rule"
            );
            assert!(reason.len() > 20, "{rule} needs a reason");
        }
    }
}
