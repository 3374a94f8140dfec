//! The laws: each a `pub async fn(Ctx) -> LawResult` whose doc comment names the rule ids it
//! checks, grouped by area (one module per area, one generated test module per area).
//!
//! # How to add a law
//!
//! 1. Write it in `laws/<area>.rs`, named as a claim, its doc comment starting with the rule ids:
//!
//!    ```ignore
//!    /// L3: a superseded lease can no longer renew.
//!    pub async fn superseded_lease_cannot_renew(ctx: Ctx) -> LawResult {
//!        let reg = ctx.fresh().await?;
//!        ctx.ok("register_process(p1)", reg.register_process(standard("p1"))).await?;
//!        // ... every call through ctx.ok / ctx.err, every check through ctx.same / ctx.ensure
//!        Ok(())
//!    }
//!    ```
//!
//! 2. Add one line to the list in [`for_each_law!`](crate::for_each_law) under its area:
//!    `superseded_lease_cannot_renew("L3") [Clock],` — the rule ids, then the capabilities it
//!    needs ([`Need`](crate::Need) variants), if any.
//!
//! That is all: the catalogue row, the generated test, `procreg laws` and the rule-coverage
//! check follow from the list. A new area is a new `pub mod` here plus its block in the list.
//! The unit tests below check that every listed rule id exists in the contract and appears in
//! the law's doc comment.
//!
//! Laws never sleep on the wall clock: time moves only through [`Ctx::advance_ms`]. A law that
//! reads exact timestamps or moves time needs [`Need::Clock`](crate::Need::Clock).

use crate::ctx::Ctx;
use crate::law::{Law, LawFuture, Need};

pub mod awaiting;
pub mod completion;
pub mod event;
pub mod external_ref;
pub mod fixtures;
pub mod harness;
pub mod provided;
pub mod registration;
pub mod validation;
pub mod wait;
pub mod wake;

/// The one list of laws. Calls `$callback! { $args <area> { <name>(<rules>) [<needs>], ... } ... }`
/// (the catalogue and the `laws!` tests are both built from it).
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_law {
    ([$($callback:tt)+] $args:tt) => {
        $($callback)+ ! { $args
            harness {
                fresh_registries_share_no_state("R6", "R3"),
                durability_tier_matches_declaration("D1"),
            }
            registration {
                new_registration_is_a_running_record("R3", "R6") [Clock],
                core_types_are_appended_in_order("R2"),
                registration_hash_is_hash_of_normalized_registration("R2", "J1", "V2"),
                same_registration_returns_current_record("R4", "R7") [Clock],
                reregistering_a_terminal_process_returns_it("R4"),
                different_registration_conflicts("R5", "J1"),
                blank_ids_are_invalid_registrations("R1", "B1"),
                malformed_event_types_are_invalid_registrations("R1"),
                invalid_registration_beats_conflict("R1", "R5", "P1"),
                ids_are_stored_verbatim("B1"),
                forbidden_characters_are_invalid_registrations("R1", "V2"),
                empty_frame_owner_is_normalized("V2", "R4"),
                unknown_ids_read_as_none("R6", "B1"),
                only_registration_refs_and_events_touch_updated_at("R7") [Clock],
            }
        }
    };
}

macro_rules! catalogue_table {
    (
        ()
        $( $area:ident {
            $( $name:ident ( $($rule:literal),* ) $([ $($need:ident),* ])? ),* $(,)?
        } )*
    ) => {
        /// Every law of the kit, by area, in list order.
        pub static CATALOGUE: &[Law] = &[
            $($(
                Law {
                    id: concat!(stringify!($area), "::", stringify!($name)),
                    area: stringify!($area),
                    rules: &[$($rule),*],
                    needs: &[$($(Need::$need),*)?],
                    run: |ctx: Ctx| -> LawFuture { Box::pin($area::$name(ctx)) },
                },
            )*)*
        ];
    };
}

crate::for_each_law!([catalogue_table]());

#[cfg(test)]
mod tests;
