package local_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

// TestInventory: the tries the executor runs, with their real process's
// pid, command line, start and output size; an adopted try (started by
// an earlier executor on the same folder) is listed too; a try that ended
// is not.
func TestInventory(t *testing.T) {
	dir := t.TempDir()
	ex := newExecutor(t, dir, local.Options{})
	ctx := ctxFor(t)
	before := time.Now()
	long := try("long", 1, "sh", "-c", "echo hello-from-the-task; sleep 60")
	if err := ex.Start(ctx, long); err != nil {
		t.Fatal(err)
	}
	if err := ex.Start(ctx, try("quick", 1, "true")); err != nil {
		t.Fatal(err)
	}
	var wls []scheduler.Workload
	deadline := time.Now().Add(wait)
	for {
		var err error
		wls, err = ex.Inventory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// quick ends and leaves; long's echo reaches its output.
		if len(wls) == 1 && wls[0].OutputBytes > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(wls) != 1 {
		t.Fatalf("inventory: %+v; want the long try only", wls)
	}
	w := wls[0]
	if w.Key != long.Key || w.Phase != "Running" || !w.Tracked || w.PID <= 0 || w.ExternalID == "" {
		t.Errorf("workload %+v; want try %s Running and tracked, with its pid", w, long.Key)
	}
	if want := []string{"sh", "-c", "echo hello-from-the-task; sleep 60"}; !reflect.DeepEqual(w.Command, want) {
		t.Errorf("command %q, want %q", w.Command, want)
	}
	if w.OutputBytes != int64(len("hello-from-the-task\n")) {
		t.Errorf("output %d bytes, want %d", w.OutputBytes, len("hello-from-the-task\n"))
	}
	if w.Created.Before(before.Add(-time.Second)) || w.Created.After(time.Now()) {
		t.Errorf("created %s, want about when the test started it (%s)", w.Created, before)
	}

	// A second executor on the folder finds the process it does not watch
	// (as after a crash, before the store's resync adopts it)...
	next := newExecutor(t, dir, local.Options{})
	found, err := next.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Tracked || found[0].Key != long.Key || found[0].PID != w.PID || found[0].Phase != "Running" ||
		!reflect.DeepEqual(found[0].Command, w.Command) {
		t.Errorf("inventory of an executor that does not watch the try: %+v; want %s, pid %d, not tracked", found, long.Key, w.PID)
	}
	// ...then adopts it and lists it as its own.
	if _, err := next.Adopt(ctx, long.Key, w.ExternalID); err != nil {
		t.Fatal(err)
	}
	adopted, err := next.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(adopted) != 1 || adopted[0].PID != w.PID || !adopted[0].Tracked || !reflect.DeepEqual(adopted[0].Command, w.Command) {
		t.Errorf("adopted inventory %+v; want the same process as %+v", adopted, w)
	}
}

// TestInventoryOddIDs: a try whose ids need escaping in folder names is
// found, untracked, under its real ids.
func TestInventoryOddIDs(t *testing.T) {
	dir := t.TempDir()
	ex := newExecutor(t, dir, local.Options{})
	ctx := ctxFor(t)
	k := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "etl/prod", RunID: "manual__2026-12-07T03:00:00+00:00", TaskID: ".load me"}, Try: 3}
	if err := ex.Start(ctx, scheduler.Try{Key: k, Spec: try("x", 1, "sleep", "60").Spec}); err != nil {
		t.Fatal(err)
	}
	other := newExecutor(t, dir, local.Options{})
	wls, err := other.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(wls) != 1 || wls[0].Key != k || wls[0].Tracked {
		t.Errorf("inventory: %+v; want %s untracked", wls, k)
	}
}
