// Package metrics owns the hotline's Prometheus metrics: call-centre figures
// (offered, answered, abandoned, service level, speed of answer, fallbacks,
// per-staff legs, ratings), live state (active calls, voicemails waiting) and
// health (ARI link, REST latency, events, routing time, directory, spool,
// database errors).
//
// Everything hangs off one *Metrics built by New from an injected
// prometheus.Registerer; nothing is global. A nil *Metrics is a valid no-op,
// so tests and tools can pass nil. Methods speak the call flow's language
// (CallOffered, Accepted, LegEnded, ...), take plain strings from the shared
// vocabulary and are safe for concurrent use.
//
// # Label values and cardinality
//
// A label never carries a caller ID, a channel ID, a café code or any other
// per-call value. Every label value comes from a small fixed set, from the
// directory (region, staff and province codes), or from names chosen in code or
// configuration (ARI operations, Asterisk node names, database operations,
// trunk names), which are admitted only while they look like names (no
// digits for operations) and only up to a fixed count. A value outside its
// set is replaced by "other" (or, for per-staff series and ratings, dropped)
// and counted in hotline_metrics_label_rejected_total{label}, which should
// stay at 0. Region "" (a call not identified) is "none"; carrier "" is
// "unknown"; trunk "" is "default".
//
// Known label combinations are created at 0 by New, SetRegions and SetStaff,
// so rate() and increase() see the first event. When the directory reloads,
// SetRegions and SetStaff create the series of new codes and delete those of
// codes that left. With R regions, S staff members and the fixed sets below,
// the series count is about (R+1)·(4+24+12+15+56+5+1) + 11·S + 600:
//
//	hotline_calls_offered_total{method,region}            4 methods × (R+1)
//	hotline_calls_ended_total{outcome,method,region}       6 outcomes × 4 × (R+1)
//	hotline_answer_wait_seconds{region}                    histogram, buckets 5,10,15,20,30,45,60,90,120 s
//	hotline_abandon_wait_seconds{region}                   histogram, buckets 5 s … 600 s
//	hotline_talk_seconds{region,role}                      histogram, (R+1) × 4 roles
//	hotline_legs_total{role,carrier,trunk,result}          4 × 8 × 7 created (trunk = the carrier's own,
//	                                                       or default); other trunks ≤ 24 names
//	hotline_fallbacks_total{from_role,to_role}             4 × 4
//	hotline_ratings_total{region,score}                    (R+1) × 5
//	hotline_complaints_total{region}                       R+1
//	hotline_calls_active{state}                            ivr, ringing, bridged, transferring
//	hotline_staff_legs_total{staff,result}                 S × 7
//	hotline_staff_unanswered_streak{staff}                 S
//	hotline_staff_complaints_total{staff}                  S
//	hotline_staff_ratings_total{staff}                     S
//	hotline_staff_rating_points_total{staff}               S
//	hotline_voicemails_waiting                             1
//	hotline_voicemail_oldest_waiting_timestamp_seconds     1
//	hotline_ari_connected{node}                            ≤ 8 nodes (+ other)
//	hotline_ari_reconnects_total{node}                     ≤ 8 nodes (+ other)
//	hotline_ari_request_duration_seconds{op}               histogram, ≤ 64 operations (+ other)
//	hotline_ari_requests_total{op,status}                  ≤ 65 × 2xx,3xx,4xx,5xx,none
//	hotline_ari_events_total{type}                         46 Asterisk event types + other
//	hotline_ari_event_queue_overflows_total                1
//	hotline_routing_decision_seconds                       histogram, 5 µs … 100 ms
//	hotline_directory_entries{kind}                        8 kinds
//	hotline_directory_last_load_timestamp_seconds          1
//	hotline_cdr_spooled                                    1
//	hotline_db_errors_total{op}                            ≤ 32 operations (+ other)
//	hotline_reconcile_failures_total                       1
//	hotline_calls_adopted_total{state}                     ivr, ringing, bridged
//	hotline_adoption_fallbacks_total                       1
//	hotline_call_state_save_failures_total                 1
//	hotline_ari_application_replaced{node}                 ≤ 8 nodes (+ other)
//	hotline_coverage_gap_hours{region,province}            provinces with an active café (≤ 63)
//	hotline_coverage_cafes{region,problem}                 (R+1) × 2 problems
//	hotline_transfers_requested_total{to}                  province, operators, invalid
//	hotline_transfers_ended_total{result}                  6 results (TransferResults)
//	hotline_metrics_label_rejected_total{label}            17 label names
//	hotline_build_info{version}                            1, when Options.Version is set
//
// Per-staff series are bounded by the number of staff in the directory. The
// unanswered streak is kept per process: with several instances, each counts
// the legs it dialled.
//
// New also registers the Go runtime (go_*) and process (process_*)
// collectors unless Options.NoRuntimeCollectors is set.
package metrics
