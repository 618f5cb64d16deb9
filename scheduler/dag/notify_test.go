package dag

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const notifyDAG = `id: n
on_failure: [ops-slack, ops-hook]
on_success: [ops-hook]
on_sla_miss: [pager]
sla: 1h
tasks:
  - id: a
    command: [true]
  - id: b
    command: [true]
    on_failure: [pager]
    on_success: []
    sla: 10m
`

// TestNotifyKeys: a task's on_* list replaces the DAG's for that event,
// an empty one turns it off, and the keys round-trip through Encode.
func TestNotifyKeys(t *testing.T) {
	d, err := ParseChecked("n.yaml", []byte(notifyDAG), DefaultPresets(), []string{"ops-hook", "ops-slack", "pager"})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := d.Specs(DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		task string
		want Notify
		sla  time.Duration
	}{
		{"a", Notify{OnFailure: []string{"ops-hook", "ops-slack"}, OnSuccess: []string{"ops-hook"}, OnSLAMiss: []string{"pager"}}, time.Hour},
		{"b", Notify{OnFailure: []string{"pager"}, OnSLAMiss: []string{"pager"}}, 10 * time.Minute},
	} {
		t.Run(tt.task, func(t *testing.T) {
			if got := specs[tt.task].Notify; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("notify = %+v, want %+v", got, tt.want)
			}
			if got := specs[tt.task].SLA; got != tt.sla {
				t.Errorf("sla = %s, want %s", got, tt.sla)
			}
			b, err := EncodeSpec(specs[tt.task])
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeSpec(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Notify, tt.want) || back.SLA != tt.sla {
				t.Errorf("decoded notify = %+v, want %+v", back.Notify, tt.want)
			}
		})
	}
	enc, err := Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("n.yaml", enc, DefaultPresets())
	if err != nil {
		t.Fatalf("parse encoding: %v\n%s", err, enc)
	}
	again.File = d.File
	if !reflect.DeepEqual(again, d) {
		t.Errorf("round trip changed the DAG:\n%s", enc)
	}
}

// TestUnknownReceiver: a receiver the config does not declare is an error
// at its line that lists the receivers and suggests the nearest.
func TestUnknownReceiver(t *testing.T) {
	_, err := ParseChecked("n.yaml", []byte(notifyDAG), DefaultPresets(), []string{"ops-hook", "ops-slak"})
	if err == nil {
		t.Fatal("ParseChecked accepted unknown receivers")
	}
	want := []string{
		`n.yaml:2:14: receiver "ops-slack" is not declared in the scheduler's config (notifications.receivers); did you mean "ops-slak"?; the receivers are ops-hook, ops-slak`,
		`n.yaml:4:15: receiver "pager" is not declared in the scheduler's config (notifications.receivers); the receivers are ops-hook, ops-slak`,
		`n.yaml:11:18: task "b": receiver "pager" is not declared in the scheduler's config (notifications.receivers); the receivers are ops-hook, ops-slak`,
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Parse("n.yaml", []byte(notifyDAG), DefaultPresets()); err != nil {
		t.Errorf("Parse (no receivers to check against): %v", err)
	}
}
