package dag

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePoolKeys(t *testing.T) {
	src := `
id: etl
defaults:
  pool: warehouse
  priority: 5
tasks:
  - id: a
    command: [echo]
  - id: b
    command: [echo]
    pool: api
    pool_slots: 3
    priority: -2
  - id: c
    command: [echo]
    pool: default_pool
    pool_slots: 1
`
	d, err := Parse("etl.yaml", []byte(src), DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	specs, err := d.Specs(DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		task, pool  string
		slots, prio int
	}{
		{"a", "warehouse", 1, 5},
		{"b", "api", 3, -2},
		{"c", DefaultPool, 1, 5},
	} {
		s := specs[tt.task]
		if s.PoolName() != tt.pool || s.Slots() != tt.slots || s.Priority != tt.prio {
			t.Errorf("task %s: pool %q, %d slots, priority %d; want %q, %d, %d", tt.task, s.PoolName(), s.Slots(), s.Priority, tt.pool, tt.slots, tt.prio)
		}
		b, err := EncodeSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeSpec(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("task %s: spec does not round-trip:\n got %+v\nwant %+v", tt.task, back, s)
		}
	}
	enc, err := Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("etl.yaml", enc, DefaultPresets())
	if err != nil {
		t.Fatalf("parse the encoding: %v\n%s", err, enc)
	}
	if !reflect.DeepEqual(again, d) {
		t.Errorf("Parse(Encode(d)) differs:\n%s", enc)
	}
}

func TestParsePoolErrors(t *testing.T) {
	for _, tt := range []struct{ name, task, want string }{
		{"bad name", "pool: \"my pool\"", `bad pool name "my pool"`},
		{"zero slots", "pool_slots: 0", "pool_slots must be at least 1, got 0"},
		{"priority not a number", "priority: high", "priority must be a whole number"},
		{"misspelt", "pool_slot: 2", `unknown field "pool_slot" in a task; did you mean "pool_slots"?`},
		{"misspelt priority", "priorty: 2", `did you mean "priority"?`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "id: d\ntasks:\n  - id: a\n    command: [echo]\n    " + tt.task + "\n"
			_, err := Parse("d.yaml", []byte(src), DefaultPresets())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse: %v; want an error containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "d.yaml:5:") {
				t.Errorf("error %q does not point at line 5", err)
			}
		})
	}
}

func TestCheckPoolName(t *testing.T) {
	for name, ok := range map[string]bool{"etl": true, "API_pool-2": true, "a": true, "-x": false, "": false, "a b": false, strings.Repeat("p", 64): false} {
		if err := CheckPoolName(name); (err == nil) != ok {
			t.Errorf("CheckPoolName(%q) = %v", name, err)
		}
	}
}
