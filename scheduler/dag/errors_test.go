package dag

import (
	"strings"
	"testing"
)

// oneTask completes a DAG file whose subject is elsewhere.
const oneTask = "tasks:\n  - {id: a, command: [echo]}\n"

// TestParseErrors has one case per check Parse makes; each asserts the
// whole message, position included.
func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		want []string
	}{
		// The file as a whole.
		{"empty file", "", []string{
			`t.yaml: the file holds no DAG; write at least id: and tasks:`}},
		{"only comments", "# nothing\n", []string{
			`t.yaml: the file holds no DAG; write at least id: and tasks:`}},
		{"syntax", "id: x\ntasks: [\n", []string{
			`t.yaml:2: invalid YAML: did not find expected node content; check the indentation and quoting here`}},
		{"two documents", "id: x\n" + oneTask + "---\nid: y\n", []string{
			`t.yaml:5:1: a second YAML document starts here; a DAG file holds one DAG, so move it to its own file`}},
		{"not a mapping", "- id: x\n", []string{
			`t.yaml:1:1: the DAG must be a mapping of keys to values, got a list`}},

		// run_timeout.
		{"run timeout zero", "id: x\nrun_timeout: 0s\n" + oneTask, []string{
			`t.yaml:2:14: run_timeout must be more than 0s; write it like 30m or 2h, or leave it out for no bound`}},
		{"run timeout negative", "id: x\nrun_timeout: -1h\n" + oneTask, []string{
			`t.yaml:2:14: run_timeout must not be negative, got -1h`}},
		{"run timeout not a duration", "id: x\nrun_timeout: 30\n" + oneTask, []string{
			`t.yaml:2:14: run_timeout: bad duration "30"; write it like 30s, 5m or 1h30m`}},

		// Keys.
		{"unknown field suggested", "id: x\nschedul: '@daily'\n" + oneTask, []string{
			`t.yaml:2:1: unknown field "schedul" in the DAG; did you mean "schedule"?`}},
		{"unknown field listed", "id: x\nowner: me\n" + oneTask, []string{
			`t.yaml:2:1: unknown field "owner" in the DAG; known fields are id, description, schedule, timezone, start_date, catchup, max_active_runs, max_active_tasks, run_timeout, max_catchup_runs, params, defaults, tasks, on_failure, on_retry, on_success, on_sla_miss, sla`}},
		{"unknown task field camel case", "id: x\ntasks:\n  - {id: a, command: [echo], dependsOn: [b]}\n", []string{
			`t.yaml:3:30: task "a": unknown field "dependsOn" in a task; did you mean "depends_on"?`}},
		{"duplicate key", "id: x\nid: y\n" + oneTask, []string{
			`t.yaml:2:1: duplicate key "id" in the DAG (first at line 1); remove one of them`}},
		{"key not a name", "id: x\n[a]: 1\n" + oneTask, []string{
			`t.yaml:2:1: a key in the DAG must be a plain name, got a list`}},
		{"merge of a scalar", "id: x\ntasks:\n  - {<<: 1, id: a, command: [echo]}\n", []string{
			`t.yaml:3:10: task "a": << merges mappings, got the number 1; merge an anchored mapping like <<: *common`}},

		// DAG fields.
		{"missing id", oneTask, []string{
			`t.yaml:1:1: the DAG has no id; add id: followed by a name of lowercase letters, digits, '_', '.' and '-'`}},
		{"bad id", "id: ETL Daily\n" + oneTask, []string{
			`t.yaml:1:5: bad id "ETL Daily": use lowercase letters, digits, '_', '.' and '-', starting and ending with a letter or digit, at most 63 characters (ids become part of Kubernetes names), for example "etl_daily"`}},
		{"id too long", "id: " + strings.Repeat("a", 64) + "\n" + oneTask, []string{
			`t.yaml:1:5: bad id "` + strings.Repeat("a", 64) + `": use lowercase letters, digits, '_', '.' and '-', starting and ending with a letter or digit, at most 63 characters (ids become part of Kubernetes names), for example "` + strings.Repeat("a", 63) + `"`}},
		{"id ends with a dash", "id: etl-\n" + oneTask, []string{
			`t.yaml:1:5: bad id "etl-": use lowercase letters, digits, '_', '.' and '-', starting and ending with a letter or digit, at most 63 characters (ids become part of Kubernetes names), for example "etl"`}},
		{"id not a string", "id: [x]\n" + oneTask, []string{
			`t.yaml:1:5: id must be a string, got a list`}},
		{"description tagged", "id: x\ndescription: !secret abc\n" + oneTask, []string{
			`t.yaml:2:14: description must be a string, got a value tagged !secret; remove the tag`}},
		{"schedule bad cron", "id: x\nschedule: '61 * * * *'\n" + oneTask, []string{
			`t.yaml:2:11: bad schedule "61 * * * *": end of range (61) above maximum (59): "61"; write 5 fields: minute hour day-of-month month day-of-week, like "30 2 * * *"`}},
		{"schedule six fields", "id: x\nschedule: '0 0 3 * * *'\n" + oneTask, []string{
			`t.yaml:2:11: schedule "0 0 3 * * *" has 6 fields; a cron expression has 5: minute hour day-of-month month day-of-week, like "30 2 * * *"`}},
		{"schedule unknown descriptor", "id: x\nschedule: '@reboot'\n" + oneTask, []string{
			`t.yaml:2:11: unknown schedule "@reboot"; use @hourly, @daily, @weekly, @monthly, @yearly, "@every <duration>" or a cron expression`}},
		{"schedule bad every", "id: x\nschedule: '@every 5'\n" + oneTask, []string{
			`t.yaml:2:11: schedule "@every 5": bad interval "5"; write it like 30s, 5m or 1h30m`}},
		{"schedule never fires", "id: x\nschedule: '0 0 30 2 *'\n" + oneTask, []string{
			`t.yaml:2:11: schedule "0 0 30 2 *" never fires; check the day of month against the month`}},
		{"schedule time zone", "id: x\nschedule: 'TZ=Europe/Paris 0 3 * * *'\n" + oneTask, []string{
			`t.yaml:2:11: schedule "TZ=Europe/Paris 0 3 * * *" names a time zone; remove it and set the DAG's timezone: instead (an IANA name like Europe/Berlin)`}},
		{"timezone unknown", "id: x\ntimezone: Europe/Berln\n" + oneTask, []string{
			`t.yaml:2:11: unknown timezone "Europe/Berln"; write an IANA time zone name like Europe/Berlin or America/New_York, or leave timezone: out for UTC`}},
		{"timezone Local", "id: x\ntimezone: Local\n" + oneTask, []string{
			`t.yaml:2:11: timezone "Local" is not an IANA time zone name; write one like Europe/Berlin or America/New_York, or leave timezone: out for UTC`}},
		{"timezone not a string", "id: x\ntimezone: [a]\n" + oneTask, []string{
			`t.yaml:2:11: timezone must be a string, got a list`}},
		{"start_date", "id: x\nstart_date: 2026-13-01\n" + oneTask, []string{
			`t.yaml:2:13: start_date must be a time like 2026-01-01T00:00:00Z or a date like 2026-01-01, got the string "2026-13-01"`}},
		{"catchup not bool", "id: x\ncatchup: yes\n" + oneTask, []string{
			`t.yaml:2:10: catchup must be true or false, got the string "yes"`}},
		{"max_active_runs zero", "id: x\nmax_active_runs: 0\n" + oneTask, []string{
			`t.yaml:2:18: max_active_runs must be at least 1, got 0`}},
		{"max_active_tasks quoted", "id: x\nmax_active_tasks: '4'\n" + oneTask, []string{
			`t.yaml:2:19: max_active_tasks must be a whole number, got the string "4"`}},

		// Defaults.
		{"defaults not a mapping", "id: x\ndefaults: [1]\n" + oneTask, []string{
			`t.yaml:2:11: defaults must be a mapping of keys to values, got a list`}},
		{"defaults unknown field", "id: x\ndefaults: {timeout: 1h}\n" + oneTask, []string{
			`t.yaml:2:12: unknown field "timeout" in defaults; known fields are retries, retry_delay, retry_exponential, max_retry_delay, execution_timeout, resources, pool, pool_slots, priority`}},
		{"negative retries", "id: x\ndefaults: {retries: -1}\n" + oneTask, []string{
			`t.yaml:2:21: retries must be at least 0, got -1`}},
		{"duration without unit", "id: x\ndefaults: {retry_delay: 30}\n" + oneTask, []string{
			`t.yaml:2:25: retry_delay: bad duration "30"; write it like 30s, 5m or 1h30m`}},
		{"negative duration", "id: x\ndefaults: {execution_timeout: -1m}\n" + oneTask, []string{
			`t.yaml:2:31: execution_timeout must not be negative, got -1m`}},
		{"retry delay above cap", "id: x\ndefaults: {retry_delay: 1h}\n" + oneTask, []string{
			`t.yaml:2:25: retry_delay 1h is longer than max_retry_delay 10m, which caps every retry delay; raise max_retry_delay (0s means no cap) or shorten retry_delay`}},
		{"task retry delay above cap", "id: x\ntasks:\n  - {id: a, command: [echo], max_retry_delay: 1s}\n", []string{
			`t.yaml:3:47: task "a": retry_delay 30s is longer than max_retry_delay 1s, which caps every retry delay; raise max_retry_delay (0s means no cap) or shorten retry_delay`}},

		// Tasks.
		{"no tasks", "id: x\n", []string{
			`t.yaml:1:1: the DAG has no tasks; add a tasks: list with at least one task (id: and command:)`}},
		{"empty tasks", "id: x\ntasks: []\n", []string{
			`t.yaml:2:8: tasks is empty; add at least one task with id: and command:`}},
		{"tasks not a list", "id: x\ntasks: {a: 1}\n", []string{
			`t.yaml:2:8: tasks must be a list of tasks, each starting with "- id:", got a mapping`}},
		{"task not a mapping", "id: x\ntasks: [extract]\n", []string{
			`t.yaml:2:9: a task must be a mapping of keys to values, got the string "extract"`}},
		{"task without id", "id: x\ntasks:\n  - {command: [echo]}\n", []string{
			`t.yaml:3:5: the task has no id; add id: followed by a name of lowercase letters, digits, '_', '.' and '-'`}},
		{"bad task id", "id: x\ntasks:\n  - {id: Load, command: [echo]}\n", []string{
			`t.yaml:3:10: task "Load": bad id "Load": use lowercase letters, digits, '_', '.' and '-', starting and ending with a letter or digit, at most 63 characters (ids become part of Kubernetes names), for example "load"`}},
		{"duplicate task id", "id: x\ntasks:\n  - {id: a, command: [echo]}\n  - {id: a, command: [echo]}\n", []string{
			`t.yaml:4:10: task "a": duplicate task id "a" (first defined at line 3); give each task its own id`}},
		{"missing command", "id: x\ntasks:\n  - {id: a}\n", []string{
			`t.yaml:3:5: task "a": missing command; add the program and its arguments, like command: [sh, -c, "echo hi"]`}},
		{"empty command", "id: x\ntasks:\n  - {id: a, command: []}\n", []string{
			`t.yaml:3:22: task "a": command is empty; give the program and its arguments, like command: [sh, -c, "echo hi"]`}},
		{"command a string", "id: x\ntasks:\n  - {id: a, command: echo hi}\n", []string{
			`t.yaml:3:22: task "a": command must be a list, like command: [sh, -c, "echo hi"]; got the string "echo hi"`}},
		{"command element a mapping", "id: x\ntasks:\n  - {id: a, command: [echo, {x: 1}]}\n", []string{
			`t.yaml:3:29: task "a": command[1] must be a string, got a mapping`}},
		{"command program empty", "id: x\ntasks:\n  - {id: a, command: ['', x]}\n", []string{
			`t.yaml:3:23: task "a": command[0] is empty; it names the program to run`}},
		{"command NUL", "id: x\ntasks:\n  - {id: a, command: [\"a\\0b\"]}\n", []string{
			`t.yaml:3:23: task "a": command[0] contains a NUL byte, which no program can receive; remove it`}},
		{"args not a list", "id: x\ntasks:\n  - {id: a, command: [echo], args: -v}\n", []string{
			`t.yaml:3:36: task "a": args must be a list, like args: [--verbose, input.csv]; got the string "-v"`}},
		{"task retries float", "id: x\ntasks:\n  - {id: a, command: [echo], retries: 1.5}\n", []string{
			`t.yaml:3:39: task "a": retries must be a whole number, got the number 1.5`}},
		{"image with space", "id: x\ntasks:\n  - {id: a, command: [echo], image: busy box}\n", []string{
			`t.yaml:3:37: task "a": image "busy box" contains white space; write a reference like busybox:1.36`}},

		// Dependencies.
		{"depends_on a string", "id: x\ntasks:\n  - {id: a, command: [echo], depends_on: b}\n", []string{
			`t.yaml:3:42: task "a": depends_on must be a list, like depends_on: [extract, transform]; got the string "b"`}},
		{"unknown dependency suggested", "id: x\ntasks:\n  - {id: extract, command: [echo]}\n  - {id: b, command: [echo], depends_on: [extrct]}\n", []string{
			`t.yaml:4:43: task "b": depends on unknown task "extrct"; did you mean "extract"?`}},
		{"unknown dependency listed", "id: x\ntasks:\n  - {id: a, command: [echo]}\n  - {id: b, command: [echo], depends_on: [zzz]}\n", []string{
			`t.yaml:4:43: task "b": depends on unknown task "zzz"; the tasks are a, b`}},
		{"self dependency", "id: x\ntasks:\n  - {id: a, command: [echo], depends_on: [a]}\n", []string{
			`t.yaml:3:43: task "a": depends on itself; remove "a" from depends_on`}},
		{"cycle", `id: x
tasks:
  - {id: extract, command: [echo], depends_on: [load]}
  - {id: transform, command: [echo], depends_on: [extract]}
  - {id: load, command: [echo], depends_on: [transform]}
`, []string{
			`t.yaml:3:49: task "extract": dependency cycle extract → transform → load → extract; a task cannot wait for itself, so remove one of these depends_on entries`}},
		{"shortest cycle of a knot", `id: x
tasks:
  - {id: a, command: [echo], depends_on: [c, b]}
  - {id: b, command: [echo], depends_on: [a]}
  - {id: c, command: [echo], depends_on: [b]}
`, []string{
			`t.yaml:3:46: task "a": dependency cycle a → b → a; a task cannot wait for itself, so remove one of these depends_on entries`}},

		// Env.
		{"env not a mapping", "id: x\ntasks:\n  - {id: a, command: [echo], env: [A=1]}\n", []string{
			`t.yaml:3:35: task "a": env must be a mapping of keys to values, got a list`}},
		{"env bad name", "id: x\ntasks:\n  - {id: a, command: [echo], env: {1A: x}}\n", []string{
			`t.yaml:3:36: task "a": env name "1A" is not a valid variable name; use letters, digits, '_', '.' and '-', not starting with a digit`}},
		{"env reserved name", "id: x\ntasks:\n  - {id: a, command: [echo], env: {VIGIL_TRY: x}}\n", []string{
			`t.yaml:3:36: task "a": env name "VIGIL_TRY": VIGIL_ variables are set by vigil for every try; choose another name`}},
		{"env null value", "id: x\ntasks:\n  - {id: a, command: [echo], env: {A: }}\n", []string{
			`t.yaml:3:39: task "a": env A has no value; write A: "" for an empty one`}},

		// Resources.
		{"unknown preset", "id: x\ndefaults: {resources: {preset: huge}}\n" + oneTask, []string{
			`t.yaml:2:32: unknown preset "huge" (known: large, medium, small); use one of those or define it under presets: in the config`}},
		{"unknown task preset", "id: x\ntasks:\n  - {id: load, command: [echo], resources: {preset: huge}}\n", []string{
			`t.yaml:3:53: task "load": unknown preset "huge" (known: large, medium, small); use one of those or define it under presets: in the config`}},
		{"bad quantity", "id: x\ntasks:\n  - {id: a, command: [echo], resources: {memory: 4GB}}\n", []string{
			`t.yaml:3:50: task "a": memory: "4GB" is not a quantity; write CPU like 500m or 2 and memory like 256Mi or 4Gi`}},
		{"negative quantity", "id: x\ntasks:\n  - {id: a, command: [echo], resources: {cpu: -1}}\n", []string{
			`t.yaml:3:47: task "a": cpu: "-1" is negative; a resource amount must be zero or more`}},
		{"quantity too large", "id: x\ntasks:\n  - {id: a, command: [echo], resources: {memory: 1e21}}\n", []string{
			`t.yaml:3:50: task "a": memory: "1e21" is too large to be kept exactly; no node has that much`}},
		{"quantity capped", "id: x\ntasks:\n  - {id: a, command: [echo], resources: {memory: 8Ei}}\n", []string{
			`t.yaml:3:50: task "a": memory: "8Ei" is too large to be kept exactly; no node has that much`}},
		{"unknown resources field", "id: x\ntasks:\n  - {id: a, command: [echo], resources: {disk: 1Gi}}\n", []string{
			`t.yaml:3:42: task "a": unknown field "disk" in resources; known fields are preset, cpu, memory, cpu_limit, memory_limit, ephemeral_disk`}},
		{"limit below request", "id: x\ntasks:\n  - {id: a, command: [echo], resources: {cpu: 2, cpu_limit: 1500m}}\n", []string{
			`t.yaml:3:61: task "a": cpu_limit 1500m (from this task) is below cpu 2 (from this task); a limit must be at least its request, so raise cpu_limit or lower cpu`}},
		{"limit below preset request", "id: x\ndefaults: {resources: {memory_limit: 1Gi}}\ntasks:\n  - {id: a, command: [echo], resources: {preset: large}}\n", []string{
			`t.yaml:4:50: task "a": memory_limit 1Gi (from defaults) is below memory 4Gi (from preset "large"); a limit must be at least its request, so raise memory_limit or lower memory`}},
		{"limit below request in defaults", "id: x\ndefaults: {resources: {preset: small, memory_limit: 100Mi}}\n" + oneTask, []string{
			`t.yaml:2:53: memory_limit 100Mi (from defaults) is below memory 256Mi (from preset "small"); a limit must be at least its request, so raise memory_limit or lower memory`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("t.yaml", []byte(tt.src), DefaultPresets())
			if err == nil {
				t.Fatalf("Parse accepted the file: %+v", d)
			}
			if got := strings.Split(err.Error(), "\n"); !equalLines(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseUnknownPresetWithoutPresets(t *testing.T) {
	_, err := Parse("t.yaml", []byte("id: x\ndefaults: {resources: {preset: small}}\n"+oneTask), nil)
	want := `t.yaml:2:32: unknown preset "small" (known: none); use one of those or define it under presets: in the config`
	if err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %s", err, want)
	}
}

// TestParseAllErrors checks that one file's problems are all reported, in
// file order, not only the first.
func TestParseAllErrors(t *testing.T) {
	src := "id: X\ncatchup: 1\ntasks:\n  - {id: a, command: [echo], depends_on: [b]}\n"
	_, err := Parse("t.yaml", []byte(src), nil)
	list, ok := err.(ErrorList)
	if !ok || len(list) != 3 {
		t.Fatalf("Parse error = %v, want 3 errors", err)
	}
	for i, line := range []int{1, 2, 4} {
		if list[i].Line != line {
			t.Errorf("error %d at line %d, want %d", i, list[i].Line, line)
		}
	}
}
