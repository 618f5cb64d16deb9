package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

const paramsDAG = `
id: etl
params:
  region: eu-west-1
  limit: {default: 100, description: rows per batch}
  dry-run: false
tasks:
  - id: x
    command: [sh, -c, 'echo "$VIGIL_RUN_ID|$VIGIL_PARAM_REGION|$VIGIL_PARAM_LIMIT|$VIGIL_PARAM_DRY_RUN|$VIGIL_CONF" >> RAN_DIR/x']
`

// TestTriggerConf runs a real `vigil run` with a DAG that declares
// params, triggers it with --conf and with --conf-file, and reads what
// its task saw: each VIGIL_PARAM_ from the conf, the default for one the
// conf leaves out, all of them in VIGIL_CONF; `vigil runs list -o json`
// shows each run's conf and params. A conf key the DAG does not declare,
// a malformed pair and both flags at once are refused, naming the
// problem, and make no run.
func TestTriggerConf(t *testing.T) {
	e := newEnv(t, map[string]string{"etl.yaml": paramsDAG})
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "etl")
	})
	seen := func(runID string) []string {
		data, _ := os.ReadFile(filepath.Join(e.ran, "x"))
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Split(line, "|"); f[0] == runID && len(f) == 5 {
				return f[1:]
			}
		}
		return nil
	}
	trigger := func(args ...string) string {
		t.Helper()
		out := e.mustVigil(append([]string{"dags", "trigger", "etl"}, args...)...)
		f := strings.Fields(out)
		if len(f) < 4 || f[0] != "triggered" {
			t.Fatalf("dags trigger said %q", out)
		}
		runID := f[3]
		e.waitFor("run "+runID+"'s task", 60*time.Second, func() bool { return seen(runID) != nil })
		return runID
	}

	byFlag := trigger("--conf", "region=us-east-1", "--conf", "dry-run=true")
	if got, want := seen(byFlag), []string{"us-east-1", "100", "true", `{"dry-run":true,"limit":100,"region":"us-east-1"}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("task of the run triggered with --conf saw REGION|LIMIT|DRY_RUN|VIGIL_CONF = %q, want %q", got, want)
	}

	file := filepath.Join(e.dir, "conf.json")
	if err := os.WriteFile(file, []byte(`{"limit": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	byFile := trigger("--conf-file", file)
	if got, want := seen(byFile), []string{"eu-west-1", "5", "false", `{"dry-run":false,"limit":5,"region":"eu-west-1"}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("task of the run triggered with --conf-file saw REGION|LIMIT|DRY_RUN|VIGIL_CONF = %q, want %q", got, want)
	}

	var runs []scheduler.Run
	if err := unmarshalPage(e.mustVigil("runs", "list", "--dag", "etl", "-o", "json"), &runs); err != nil {
		t.Fatal(err)
	}
	confs := map[string]dag.Values{}
	params := map[string]dag.Values{}
	for _, r := range runs {
		confs[r.RunID], params[r.RunID] = r.Conf, r.Params
	}
	if want := (dag.Values{"region": dag.String("us-east-1"), "dry-run": dag.String("true")}); !reflect.DeepEqual(confs[byFlag], want) {
		t.Errorf("runs list shows conf %v for the --conf run, want %v", confs[byFlag], want)
	}
	if got := params[byFile]["limit"]; got != (dag.Value{Kind: dag.KindNumber, Text: "5"}) || len(params[byFile]) != 3 {
		t.Errorf("runs list shows params %v for the --conf-file run, want limit 5 and the two defaults", params[byFile])
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--conf", "limt=3"}, `conf key "limt" is not a param of the DAG; did you mean "limit"?`},
		{[]string{"--conf", "limit=lots"}, `param "limit" takes a number (its default is 100): "lots" is not a number`},
		{[]string{"--conf", "region"}, `--conf "region" is not KEY=VALUE; write it like --conf region=eu-west-1`},
		{[]string{"--conf", "region=x", "--conf-file", file}, `--conf and --conf-file given together`},
		{[]string{"--conf-file", filepath.Join(e.dir, "nope.json")}, `--conf-file: open`},
	} {
		out, err := e.vigil(append([]string{"dags", "trigger", "etl"}, tt.args...)...)
		if err == nil || !strings.Contains(out, tt.want) {
			t.Errorf("dags trigger etl %s (err %v) said:\n%s\nwant it refused with %q", strings.Join(tt.args, " "), err, out, tt.want)
		}
	}
	var after []scheduler.Run
	if err := unmarshalPage(e.mustVigil("runs", "list", "--dag", "etl", "-o", "json"), &after); err != nil || len(after) != 2 {
		t.Errorf("%d runs after the refused triggers (%v), want the 2 triggered before", len(after), err)
	}
}
