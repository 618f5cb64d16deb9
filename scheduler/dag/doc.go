// Package dag reads DAG files: YAML documents that declare a workflow's
// tasks, their dependencies and its schedule.
//
// Parse turns one file into a typed, validated DAG; every error names the
// file, line and column and says what to do, and all of a file's problems
// come back at once as an ErrorList. LoadDir parses a folder of DAG files,
// so that one broken file never stops the others; a Loader does the same
// again and again, parsing only the files that changed. Encode writes the one
// canonical encoding of a DAG, so Parse(Encode(d)) equals d for every valid
// DAG (a fuzz test holds this). A task's effective configuration (its own
// fields, the DAG defaults and the resource preset merged) is a TaskSpec,
// from DAG.Spec; EncodeSpec and DecodeSpec give the versioned form the
// store keeps.
//
// # The file format
//
// Keys are snake_case; an unknown key is an error that suggests the closest
// known one. The examples/dags folder of the repository teaches the format
// by example. In short:
//
//	id: etl_daily               # required: [a-z0-9][a-z0-9_.-]*, ending in a letter or digit, ≤ 63 chars
//	description: free text
//	schedule: "30 2 * * *"      # cron (5 fields), @hourly ... @yearly, "@every 5m"; absent: manual only
//	timezone: Europe/Berlin     # IANA zone the schedule's times are in; absent: UTC
//	start_date: 2026-01-01      # RFC 3339, or a date meaning midnight UTC
//	catchup: false
//	max_active_runs: 16
//	max_active_tasks: 16
//	run_timeout: 2h             # fail the run and stop its tries after 2h; absent: no bound
//	max_catchup_runs: 4         # at most 4 runs active while catching up; absent: the scheduler's
//	on_failure: [ops-slack]     # receivers (the scheduler's config) told of failures; also on_retry, on_success
//	sla: 1h                     # every task should end within 1h of its run's start; absent: none
//	on_sla_miss: [pager]        # told once per task instance not ended by then
//	params:                     # a run's conf overlays these defaults (see ApplyConf)
//	  region: eu-west-1         # name: default (a string, a number or true/false)
//	  limit: {default: 100, description: rows per batch}
//	defaults:                   # for every task that does not set the field
//	  retries: 0
//	  retry_delay: 30s
//	  retry_exponential: false
//	  max_retry_delay: 10m      # caps every retry delay; 0s: no cap
//	  execution_timeout: 0s     # 0s: none
//	  resources: {preset: small}
//	  pool: warehouse           # the pool whose slots tasks take; absent: default_pool
//	  pool_slots: 1             # slots taken while queued or running
//	  priority: 0               # higher first among the tasks ready to run
//	tasks:
//	  - id: extract
//	    depends_on: [other_task]
//	    trigger_rule: all_done  # default all_success; see TriggerRule
//	    command: [sh, -c, "echo hi"]
//	    args: [x]
//	    env: {FOO: bar}
//	    image: busybox:1.36     # for the Kubernetes executor
//	    retries: 3              # any of the defaults' settings
//	    resources: {preset: large, memory: 4Gi}
//	    on_failure: [pager]     # replaces the DAG's on_failure for this task; [] turns it off
//	    sla: 20m                # replaces the DAG's sla; 0s: none
//
// Values are normalised: depends_on sorted without duplicates, trigger_rule
// all_success the same as none, env sorted
// by name, quantities in canonical form (1000m reads as 1), an empty list
// or mapping the same as none. Top-level keys starting with "x-" are
// ignored, to hold YAML anchors that tasks merge with "<<: *name".
//
// # Resources
//
// A task's resources are resolved in layers, each overriding the one before
// field by field. A task that names its own preset gets that preset's
// values, then its own fields. A task that does not gets the defaults'
// preset, then the defaults' fields, then its own fields: the defaults'
// fields customise the default preset, not a preset a task chose. Presets
// come from the config;
// DefaultPresets has small, medium and large. Parse checks that a limit is
// not below its request once the layers are merged.
//
// # Schedules
//
// Schedules are in UTC. A cron expression has the classic crontab(5)
// meaning, including its rule that when both day of month and day of week
// are restricted a day matching either one fires.
package dag
