package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTimezoneLogicalDate runs `vigil run` with an hourly DAG in
// Asia/Kathmandu (UTC+05:45, so its hours start at a quarter past in UTC)
// that leaves its run's dates in a file: the run covers the latest tick,
// at minute 15 UTC, its interval is the hour before, and the variables
// are in UTC.
func TestTimezoneLogicalDate(t *testing.T) {
	e := newEnv(t, map[string]string{"ktm.yaml": `
id: ktm
schedule: "0 * * * *"
timezone: Asia/Kathmandu
start_date: 2026-01-01
tasks:
  - id: x
    command: [sh, -c, 'echo "$VIGIL_RUN_ID $VIGIL_LOGICAL_DATE $VIGIL_DATA_INTERVAL_START $VIGIL_DATA_INTERVAL_END" > RAN_DIR/x']
`})
	before := time.Now()
	e.start()
	e.waitFor("the scheduled run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("ktm"), 1) })
	if out := e.mustVigil("dags", "list"); !strings.Contains(out, "0 * * * * (Asia/Kathmandu)") {
		t.Errorf("dags list does not show the schedule's zone:\n%s", out)
	}
	f := e.executions("x")
	if len(f) != 4 {
		t.Fatalf("the task wrote %q, want the run id and three dates", f)
	}
	logical, err := time.Parse(time.RFC3339, f[1])
	if err != nil || !strings.HasSuffix(f[1], "Z") {
		t.Fatalf("VIGIL_LOGICAL_DATE = %q, want an RFC 3339 time in UTC (%v)", f[1], err)
	}
	if f[0] != "scheduled__"+f[1] {
		t.Errorf("VIGIL_RUN_ID = %s, want scheduled__ and the logical date %s", f[0], f[1])
	}
	if logical.Minute() != 15 || logical.Second() != 0 {
		t.Errorf("VIGIL_LOGICAL_DATE = %s, want a quarter past an hour in UTC: the top of an hour in Asia/Kathmandu", f[1])
	}
	if logical.After(before.Add(time.Minute)) || before.Sub(logical) > time.Hour+time.Minute {
		t.Errorf("VIGIL_LOGICAL_DATE = %s, want the latest tick before %s", f[1], before.UTC().Format(time.RFC3339))
	}
	if want := logical.Add(-time.Hour).Format(time.RFC3339); f[2] != want {
		t.Errorf("VIGIL_DATA_INTERVAL_START = %s, want the tick before, %s", f[2], want)
	}
	if f[3] != f[1] {
		t.Errorf("VIGIL_DATA_INTERVAL_END = %s, want the logical date %s", f[3], f[1])
	}
}

// TestTimezoneUnknown: dags validate names the file, line and column of a
// timezone that is not an IANA name.
func TestTimezoneUnknown(t *testing.T) {
	e := newEnv(t, nil)
	bad := "id: bad\nschedule: '@daily'\ntimezone: Europe/Berln\ntasks:\n  - id: x\n    command: [\"true\"]\n"
	if err := os.WriteFile(filepath.Join(e.dags, "bad.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := e.vigil("dags", "validate", e.dags)
	if err == nil || !strings.Contains(out, `bad.yaml:3:11: unknown timezone "Europe/Berln"`) {
		t.Errorf("dags validate (err %v) does not name the file, line and zone:\n%s", err, out)
	}
}
