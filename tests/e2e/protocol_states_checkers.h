// The checkers of docs/protocol.md section 5's state table, one per row;
// protocol_states_test.cc holds the table that pairs them with the rows. Each
// drives a real broker (BrokerFixture, with limits lowered where that makes
// an event fast) into each state its row names and through the input, with
// raw frames, asserts what the broker sends, then probes the state the
// session is in (state_of).
#pragma once

namespace tearline::protocol_states {

// Rows whose State holds NEW (protocol_states_new.cc).
void multi_part_message();
void bytes_over_max_frame_bytes();
void bytes_that_do_not_decode();
void server_frame();
void hello_of_another_version();
void hello_during_cooldown();
void hello_with_invalid_credential();
void hello_with_max_connections_ready();
void hello_welcome();
void new_other_client_frame();

// Rows whose State is READY, any or CLOSED (protocol_states_ready.cc).
void ready_hello();
void ready_admin();
void ready_subscribe();
void ready_unsubscribe();
void ready_list_subscriptions();
void ready_directory_changed();
void ready_publish();
void ready_ping();
void ready_ack_receipt_invalid();
void ready_ack();
void ready_report_judged();
void ready_max_failures();
void ready_rate_limited_flood();
void ready_credential_invalid();
void slow_consumer();
void session_timeout();
void bye_in_any_state();  // protocol_states_churn.cc
void closed_anything_else();

}  // namespace tearline::protocol_states
