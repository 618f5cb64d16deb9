package stacks_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/stacks"
)

func TestTracker(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	frame := func(fn string) []stacks.Frame { return []stacks.Frame{{Func: fn, File: "/x.go", Line: 1}} }
	group := func(fn string, n int, labels map[string]string) stacks.Group {
		return stacks.Group{Count: n, Stack: frame(fn), Labels: labels}
	}
	type obs struct {
		at     time.Duration
		groups []stacks.Group
	}
	tests := []struct {
		name  string
		steps []obs
		want  map[string]stacks.Wait // by first function, after the last step
		len   int
	}{
		{
			name:  "first sight knows nothing",
			steps: []obs{{0, []stacks.Group{group("a", 1, nil)}}},
			want:  map[string]stacks.Wait{"a": {}},
			len:   1,
		},
		{
			name: "present throughout",
			steps: []obs{
				{0, []stacks.Group{group("a", 2, nil)}},
				{10 * time.Second, []stacks.Group{group("a", 2, nil)}},
				{30 * time.Second, []stacks.Group{group("a", 3, nil)}},
			},
			want: map[string]stacks.Wait{"a": {Min: 30 * time.Second, Source: stacks.WaitSeen}},
			len:  1,
		},
		{
			name: "count dropped resets",
			steps: []obs{
				{0, []stacks.Group{group("a", 2, nil)}},
				{10 * time.Second, []stacks.Group{group("a", 1, nil)}},
				{15 * time.Second, []stacks.Group{group("a", 1, nil)}},
			},
			want: map[string]stacks.Wait{"a": {Min: 5 * time.Second, Source: stacks.WaitSeen}},
			len:  1,
		},
		{
			name: "absence forgets",
			steps: []obs{
				{0, []stacks.Group{group("a", 1, nil), group("b", 1, nil)}},
				{10 * time.Second, []stacks.Group{group("b", 1, nil)}},
				{20 * time.Second, []stacks.Group{group("a", 1, nil), group("b", 1, nil)}},
			},
			want: map[string]stacks.Wait{"a": {}, "b": {Min: 20 * time.Second, Source: stacks.WaitSeen}},
			len:  2,
		},
		{
			name: "labels make another group",
			steps: []obs{
				{0, []stacks.Group{group("a", 1, map[string]string{"dag": "x"})}},
				{10 * time.Second, []stacks.Group{group("a", 1, map[string]string{"dag": "y"})}},
			},
			want: map[string]stacks.Wait{"a": {}},
			len:  1,
		},
		{
			name: "an exact wait is kept",
			steps: []obs{
				{0, []stacks.Group{group("a", 1, nil)}},
				{10 * time.Second, []stacks.Group{{Count: 1, Stack: frame("a"), Wait: stacks.Wait{Exact: true, Min: 3 * time.Second, Max: 3 * time.Second, Source: stacks.WaitInflight}}}},
			},
			want: map[string]stacks.Wait{"a": {Exact: true, Min: 3 * time.Second, Max: 3 * time.Second, Source: stacks.WaitInflight}},
			len:  1,
		},
		{
			name: "an older snapshot changes nothing",
			steps: []obs{
				{0, []stacks.Group{group("a", 1, nil)}},
				{20 * time.Second, []stacks.Group{group("a", 1, nil)}},
				{10 * time.Second, []stacks.Group{group("b", 1, nil), group("a", 1, nil)}},
			},
			want: map[string]stacks.Wait{"a": {Min: 10 * time.Second, Source: stacks.WaitSeen}, "b": {}},
			len:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := stacks.NewTracker()
			var last *stacks.Snapshot
			for _, st := range tt.steps {
				last = &stacks.Snapshot{Taken: t0.Add(st.at), Groups: st.groups}
				tr.Observe(last)
			}
			for _, g := range last.Groups {
				if want := tt.want[g.Stack[0].Func]; g.Wait != want {
					t.Errorf("group %s wait = %+v, want %+v", g.Stack[0].Func, g.Wait, want)
				}
			}
			if tr.Len() != tt.len {
				t.Errorf("tracker remembers %d groups, want %d", tr.Len(), tt.len)
			}
		})
	}
}

func TestTrackerConcurrent(t *testing.T) {
	tr := stacks.NewTracker()
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				snap := &stacks.Snapshot{Taken: t0.Add(time.Duration(j) * time.Second)}
				for k := range 5 {
					snap.Groups = append(snap.Groups, stacks.Group{Count: 1, Stack: []stacks.Frame{{Func: fmt.Sprint("f", (i+k)%7)}}})
				}
				tr.Observe(snap)
			}
		})
	}
	wg.Wait()
	if n := tr.Len(); n > 5 {
		t.Errorf("tracker remembers %d groups, more than one snapshot holds", n)
	}
}
