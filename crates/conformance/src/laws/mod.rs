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
//!        let reg = standard_p1(&ctx).await?; // a fresh registry holding p1 (fixtures)
//!        let lease = ctx.ok("claim_process_lease(p1, w1)", reg.claim_process_lease("p1", "w1", 1_000)).await?;
//!        ctx.ok("claim_process_lease(p1, w1) again", reg.claim_process_lease("p1", "w1", 1_000)).await?;
//!        ctx.err("renew_process_lease(first)", reg.renew_process_lease(&lease, 1_000), ErrorKind::LeaseLost).await
//!        // every call goes through ctx.ok / ctx.err, every check through ctx.same / ctx.ensure;
//!        // time moves only through ctx.advance_ms
//!    }
//!    ```
//!
//! 2. Add one line to the list in [`for_each_law!`](crate::for_each_law) under its area:
//!    `superseded_lease_cannot_renew("L3") [Clock],` — the rule ids, then the capabilities it
//!    needs ([`Need`] variants), if any.
//!
//! That is all: the catalogue row, the generated test, `procreg laws` and the rule-coverage
//! check follow from the list. A new area is a new `pub mod` here plus its block in the list.
//! The unit tests below check that every listed rule id exists in the contract and appears in
//! the law's doc comment.
//!
//! Laws never sleep on the wall clock: time moves only through [`Ctx::advance_ms`]. A law that
//! reads exact timestamps or moves time needs [`Need::Clock`].

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
pub mod replay;
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
                reopened_registry_holds_acknowledged_state("D2", "D7") [Durable],
            }
            registration {
                new_registration_is_a_running_record("R3", "R6") [Clock],
                core_types_are_appended_in_order("R2"),
                registration_hash_is_hash_of_normalized_registration("R2", "J1", "V2"),
                same_registration_returns_current_record("R4", "R7"),
                reregistering_a_terminal_process_returns_it("R4"),
                different_registration_conflicts("R5", "J1"),
                blank_ids_are_invalid_registrations("R1", "B1"),
                malformed_event_types_are_invalid_registrations("R1"),
                invalid_registration_beats_conflict("R1", "R5", "P1"),
                ids_are_stored_verbatim("B1"),
                forbidden_characters_are_invalid_registrations("R1", "V2", "Z4"),
                empty_frame_owner_is_normalized("V2", "R4"),
                unknown_ids_read_as_none("R6", "B1"),
                only_registration_refs_and_events_touch_updated_at("R7") [Clock],
            }
            external_ref {
                unknown_process_is_rejected("X1"),
                first_assignment_stores_ref_and_touches_record("X1") [Clock],
                equal_ref_returns_record_unchanged("X2", "J1"),
                different_ref_conflicts("X3", "J1"),
                ref_may_be_set_on_terminal_process("X1"),
                blank_backend_or_id_is_invalid_request("X1", "B1", "P1"),
            }
            event {
                unknown_process_is_rejected("E1", "E11", "B1"),
                sequences_are_dense_from_one("E8") [Clock],
                events_after_lists_later_events_ascending("E11"),
                undeclared_type_is_rejected("E3", "E10"),
                terminal_payload_must_match_state("E5", "E10"),
                second_terminal_event_is_rejected("E6"),
                terminal_event_sets_status_in_same_step("E8"),
                rejected_appends_leave_no_trace("E10", "R7"),
                append_checks_follow_precedence("P1", "E15", "E4", "E5", "E6", "E7"),
                terminal_payload_extra_fields_are_kept_in_event("E5", "E8", "Z6"),
            }
            replay {
                replayed_append_returns_stored_event("E2", "J1"),
                replay_ignores_wake_target("E2", "E9"),
                reused_replay_key_with_other_content_conflicts("E2", "J1", "E10"),
                replay_precedes_every_other_check("E2", "P1", "E6"),
                terminal_and_cancel_request_need_replay_key("E4", "B1"),
                terminal_replay_key_is_reserved("E15", "P1"),
            }
            wake {
                identity_wake_materializes_with_its_delivery("E7", "E9"),
                falsy_when_suppresses_wake_and_target("E7"),
                wake_values_render_strings_raw_and_json_canonical("E7", "J1"),
                missing_wake_pointer_value_is_invalid_event("E7", "E10"),
                materialized_wake_needs_a_target("E7"),
                equal_targets_and_keys_give_equal_wake_ids("E9", "E12"),
                pending_wakes_are_listed_ascending("E12"),
                acked_wake_stops_pending("E13", "R7"),
                ack_checks_process_then_event("E13", "P1"),
                replayed_wake_append_returns_its_delivery("E2", "E9"),
            }
            wait {
                existing_event_is_returned_at_once("E14"),
                later_append_of_its_type_wakes_waiting_task("E14"),
                racing_appends_are_never_missed("E14"),
                dropped_wait_has_no_effect("E14"),
                wait_errors_return_at_once("E14", "P1"),
                append_through_other_handle_wakes_wait("E14", "D5") [SecondHandle],
            }
            completion {
                complete_appends_terminal_core_event("C1", "E8") [Clock],
                each_output_selects_its_core_type("C1"),
                repeated_complete_returns_first_record("C2"),
                retried_output_is_compared_as_json("C2", "C3", "J1"),
                retry_after_custom_terminal_event_is_harmless("C2"),
                different_output_is_already_terminal("C3"),
                unknown_process_is_rejected("C1", "P1"),
                completion_ignores_leases("C5"),
                completion_replays_as_terminal_append("C1", "E2"),
            }
            awaiting {
                terminal_process_returns_output_at_once("C4"),
                completion_wakes_awaiting_task("C4"),
                dropped_await_has_no_effect("C4"),
                unknown_process_is_rejected("C4"),
            }
            validation {
                stored_json_round_trips_canonically("J1"),
                null_metadata_is_normalized_to_none("J1", "X2"),
                forbidden_characters_in_requests_are_invalid("V2"),
                empty_frame_wake_target_is_normalized("V2", "E9"),
                lease_expiry_saturates_below_2_pow_63("V3"),
                blank_ids_read_as_unknown("B1"),
                id_ordered_lists_use_byte_order("O1", "N1", "H3", "H6"),
            }
            provided {
                live_grants_match_default("M1", "H4"),
                has_grant_matches_default("M1", "H5"),
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
