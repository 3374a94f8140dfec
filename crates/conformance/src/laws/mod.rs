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

// Areas of sections 7-10, concurrency (A1) and clocks (T1, T2).
mod answers;
pub mod clock;
pub mod concurrency;
pub mod durability;
pub mod grant;
mod grant_setup;
pub mod lease;
pub mod session;
pub mod transfer;
pub mod worklist;

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
            grant {
                regrant_replaces_descriptor("H1"),
                unknown_process_is_rejected("H1", "P1"),
                blank_session_is_invalid_request("H1", "B1"),
                terminal_process_may_be_granted("H1", "H3"),
                revoke_is_idempotent_also_for_unknown_ids("H2"),
                list_holds_exactly_the_scope("H3", "O1", "V2"),
                live_list_excludes_terminal_processes("H4"),
                has_handle_grant_is_exact("H5"),
                grants_for_process_ascend_by_scope_id("H6", "O1"),
                grants_never_touch_events_leases_or_records("H8", "R7"),
            }
            transfer {
                transfer_moves_grants_keeping_descriptors("H7"),
                missing_grant_moves_nothing("H7", "P1", "A2"),
                duplicate_id_beats_missing_grant("H7", "P1"),
                blank_session_is_invalid_request("H7", "B1", "P1"),
                empty_list_and_same_scope_change_nothing("H7"),
                terminal_processes_move("H7"),
                frame_scopes_are_distinct_from_session_scope("H7", "V2"),
                repeated_transfer_is_handle_not_granted("H7"),
            }
            session {
                deletion_removes_session_and_frame_grants_never_by_prefix("S1", "V2"),
                lost_grants_are_cancelled_or_preserved("S2", "O1"),
                pending_wakes_of_the_session_stop_pending("S3"),
                deletion_changes_nothing_else("S4"),
                unknown_or_repeated_deletion_reports_nothing("S5", "B1"),
                later_state_in_a_deleted_session_is_new("S6", "S5"),
            }
            lease {
                first_claim_gets_fence_one("L2", "V1") [Clock],
                claim_checks_follow_precedence("L1", "P1", "B1"),
                lease_held_names_holder_and_expiry("L1"),
                same_owner_reclaim_supersedes_earlier_lease("L2", "L3"),
                lease_expires_exactly_at_expires_at("V1", "L1", "L2", "L4") [Clock],
                zero_ttl_lease_is_born_expired("V1", "L2", "L4"),
                renew_checks_owner_and_both_tokens("L4", "P1"),
                renew_extends_from_now_keeping_claim_and_tokens("L4") [Clock],
                expired_lease_cannot_renew("L4", "V1") [Clock],
                renew_with_zero_ttl_leaves_lease_expired("L4", "V1"),
                release_needs_current_token_and_is_idempotent("L5", "B1"),
                release_keeps_the_fencing_counter("L5", "L6", "L2"),
                lease_tokens_never_repeat_per_process("L6", "L2"),
                terminal_event_leaves_lease_untouched("L8", "C5"),
                leases_are_advisory("L7", "C5"),
            }
            worklist {
                worklist_holds_running_records_leased_or_not("N1"),
                worklist_ascends_by_byte_order("N1", "O1"),
                worklist_empties_as_processes_end("N1"),
            }
            durability {
                grants_and_refs_survive_reopen("D2", "D1", "H6", "X1") [Durable],
                pending_wakes_survive_reopen("D6", "E12", "E13") [Durable],
                deleted_sessions_stay_deleted_after_reopen("S5", "D2") [Durable],
                tokens_are_never_reused_after_reopen("D3", "L6") [Durable],
                keyed_appends_replay_after_reopen("D3", "E2", "C2") [Durable],
                lease_state_survives_reopen("D6", "L1", "L3", "L4", "L5") [Durable],
            }
            concurrency {
                racing_claims_have_one_winner("A1", "L1", "L2"),
                racing_keyed_appends_share_one_sequence("A1", "E2"),
                racing_equal_completions_append_one_terminal_event("A1", "C2"),
                racing_different_completions_have_one_winner("A1", "C3"),
                transfer_racing_session_deletion_is_all_or_nothing("A1", "H7", "S1", "S2"),
                racing_appends_get_distinct_dense_sequences("A1", "E8"),
            }
            clock {
                each_call_writes_one_reading("T1") [Clock],
                timestamps_come_from_the_injected_clock("T2") [Clock],
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
