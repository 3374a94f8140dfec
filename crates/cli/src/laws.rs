//! `procreg laws`: the conformance catalogue (id, area, rule ids, needs) as a table or JSON.
//!
//! Why it exists: a backend author wants to see what `cargo test` will check and which laws
//! need a capability (crash-and-reopen, a second handle) before writing a harness; CI tools
//! want the same list as data (`schema: "procreg-laws/1"`, documented in the README).

use std::fmt::Write;

use procreg_conformance::{Law, catalogue};
use serde::Serialize;

use crate::args::LawsArgs;
use crate::{CliError, emit};

/// The catalogue as JSON.
#[derive(Debug, Serialize)]
struct LawsJson {
    /// Always `procreg-laws/1`.
    schema: &'static str,
    /// How many laws follow.
    count: usize,
    /// The laws, in catalogue order.
    laws: Vec<LawJson>,
}

/// One law.
#[derive(Debug, Serialize)]
struct LawJson {
    id: &'static str,
    area: &'static str,
    rules: &'static [&'static str],
    needs: Vec<&'static str>,
}

/// Runs `procreg laws`.
pub fn laws(args: &LawsArgs) -> Result<(), CliError> {
    let laws = selected(args.area.as_deref())?;
    if args.json {
        let json = LawsJson {
            schema: "procreg-laws/1",
            count: laws.len(),
            laws: laws
                .iter()
                .map(|law| LawJson {
                    id: law.id,
                    area: law.area,
                    rules: law.rules,
                    needs: law.needs.iter().map(|n| n.name()).collect(),
                })
                .collect(),
        };
        let text = serde_json::to_string_pretty(&json)
            .map_err(|e| CliError::Io(format!("cannot write the JSON list: {e}")))?;
        emit(&format!("{text}\n"));
    } else {
        emit(&table(&laws));
    }
    Ok(())
}

/// The laws of `area` (every law when `None`); an unknown area is an error listing the areas.
fn selected(area: Option<&str>) -> Result<Vec<&'static Law>, CliError> {
    let all = catalogue();
    let Some(area) = area else {
        return Ok(all.iter().collect());
    };
    let laws: Vec<&Law> = all.iter().filter(|law| law.area == area).collect();
    if laws.is_empty() {
        let mut areas: Vec<&str> = Vec::new();
        for law in all {
            if !areas.contains(&law.area) {
                areas.push(law.area);
            }
        }
        return Err(CliError::Usage(format!(
            "--area {area}: no such area (areas: {})",
            areas.join(", ")
        )));
    }
    Ok(laws)
}

fn table(laws: &[&Law]) -> String {
    let id_width = laws.iter().map(|l| l.id.len()).max().unwrap_or(0).max(2);
    let area_width = laws.iter().map(|l| l.area.len()).max().unwrap_or(0).max(4);
    let rules_width = laws
        .iter()
        .map(|l| l.rules.join(" ").len())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<id_width$}  {:<area_width$}  {:<rules_width$}  needs",
        "id", "area", "rules"
    );
    for law in laws {
        let needs: Vec<&str> = law.needs.iter().map(|n| n.name()).collect();
        let line = format!(
            "{:<id_width$}  {:<area_width$}  {:<rules_width$}  {}",
            law.id,
            law.area,
            law.rules.join(" "),
            needs.join(" ")
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(out, "{} laws", laws.len());
    out
}
