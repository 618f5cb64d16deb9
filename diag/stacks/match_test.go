package stacks

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

// frames builds a stack from "func:line" pairs, innermost first.
func frames(spec ...string) []Frame {
	out := make([]Frame, len(spec))
	for i, s := range spec {
		var fn string
		var line int64
		if _, err := fmt.Sscanf(s, "%s %d", &fn, &line); err != nil {
			panic(s)
		}
		out[i] = Frame{Func: fn, File: "/src/" + fn + ".go", Line: line}
	}
	return out
}

// callStack renders frames as inflight does, "function file:line".
func callStack(fs []Frame) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return out
}

func TestMatchCalls(t *testing.T) {
	// A goroutine of the scheduler's dispatch, blocked reading a response
	// inside a call begun in executor.Start at line 198.
	blocked := frames("runtime.gopark 462", "internal/poll.runtime_pollWait 351", "net.(*conn).Read 196",
		"kube.(*Executor).Start 201", "scheduler.(*Loop).dispatch.func1 77", "runtime/pprof.Do 51", "scheduler.(*Loop).dispatch.func2 70")
	begun := append(frames("kube.(*Executor).Start 198"), blocked[4:]...)
	begun = append(begun, Frame{Func: "runtime.goexit", File: "/asm.s", Line: 1771})
	// The same code before Begin: waiting on a lock at line 190.
	before := append(frames("runtime.gopark 462", "sync.(*Mutex).Lock 46", "kube.(*Executor).Start 190"), blocked[4:]...)
	// Another caller of Start.
	other := append(frames("runtime.gopark 462", "net.(*conn).Read 196", "kube.(*Executor).Start 201"), frames("scheduler.retry 12", "scheduler.loop 5")...)

	call := func(id uint64, age time.Duration, stack []Frame, labels map[string]string) inflight.Call {
		return inflight.Call{ID: id, Age: age, Stack: callStack(stack), Labels: labels}
	}
	etl := map[string]string{"loop": "scheduler", "dag": "etl"}
	tests := []struct {
		name   string
		groups []Group
		calls  []inflight.Call
		want   [][]uint64 // calls per group
	}{
		{
			name:   "suffix with Begin's caller at a later line",
			groups: []Group{{Count: 1, Stack: blocked}, {Count: 1, Stack: other}},
			calls:  []inflight.Call{call(1, time.Second, begun, nil)},
			want:   [][]uint64{{1}, nil},
		},
		{
			name:   "an outer frame at another line does not match",
			groups: []Group{{Count: 1, Stack: blocked}},
			calls:  []inflight.Call{call(1, time.Second, append(slices.Clone(begun[:2]), frames("runtime/pprof.Do 52", "scheduler.(*Loop).dispatch.func2 70")...), nil)},
			want:   [][]uint64{nil},
		},
		{
			name:   "labels must agree",
			groups: []Group{{Count: 1, Stack: blocked, Labels: map[string]string{"loop": "scheduler", "dag": "other"}}, {Count: 1, Stack: blocked, Labels: etl}},
			calls:  []inflight.Call{call(1, time.Second, begun, map[string]string{"dag": "etl"})},
			want:   [][]uint64{nil, {1}},
		},
		{
			name:   "labels sharing no key do not match",
			groups: []Group{{Count: 1, Stack: blocked, Labels: map[string]string{"task": "x"}}},
			calls:  []inflight.Call{call(1, time.Second, begun, etl)},
			want:   [][]uint64{nil},
		},
		{
			name:   "a group takes at most Count calls, oldest first",
			groups: []Group{{Count: 2, Stack: blocked}},
			calls:  []inflight.Call{call(1, time.Second, begun, nil), call(2, 3*time.Second, begun, nil), call(3, 2*time.Second, begun, nil)},
			want:   [][]uint64{{2, 3}},
		},
		{
			name:   "prefer the group past Begin's line",
			groups: []Group{{Count: 1, Stack: before}, {Count: 1, Stack: blocked}},
			calls:  []inflight.Call{call(1, time.Second, begun, nil)},
			want:   [][]uint64{nil, {1}},
		},
		{
			name:   "a truncated call stack matches the goroutine's outer part",
			groups: []Group{{Count: 1, Stack: blocked}},
			calls:  []inflight.Call{call(1, time.Second, begun[:3], nil)},
			want:   [][]uint64{{1}},
		},
		{
			name:   "too few shared frames",
			groups: []Group{{Count: 1, Stack: frames("runtime.gopark 462", "main.f 3", "main.g 4")}},
			calls:  []inflight.Call{call(1, time.Second, frames("main.f 2", "main.h 9", "main.g 4"), nil)},
			want:   [][]uint64{nil},
		},
		{
			name:   "no stack",
			groups: []Group{{Count: 1, Stack: blocked}},
			calls:  []inflight.Call{{ID: 1}},
			want:   [][]uint64{nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matchCalls(tt.groups, tt.calls)
			for i, g := range tt.groups {
				if !slices.Equal(g.Calls, tt.want[i]) {
					t.Errorf("group %d calls = %v, want %v", i, g.Calls, tt.want[i])
				}
				if len(g.Calls) > 0 && (!g.Wait.Exact || g.Wait.Source != WaitInflight || g.Wait.Min > g.Wait.Max) {
					t.Errorf("group %d wait = %+v", i, g.Wait)
				}
			}
		})
	}
}

func TestMatchCallsWait(t *testing.T) {
	stack := frames("runtime.gopark 1", "main.f 3", "main.g 4", "main.h 5")
	groups := []Group{{Count: 3, Stack: stack}}
	c := callStack(frames("main.f 2", "main.g 4", "main.h 5"))
	matchCalls(groups, []inflight.Call{{ID: 1, Age: 5 * time.Second, Stack: c}, {ID: 2, Age: 40 * time.Second, Stack: c}})
	want := Wait{Exact: true, Min: 5 * time.Second, Max: 40 * time.Second, Source: WaitInflight}
	if groups[0].Wait != want || !slices.Equal(groups[0].Calls, []uint64{2, 1}) {
		t.Errorf("wait %+v calls %v, want %+v and [2 1]", groups[0].Wait, groups[0].Calls, want)
	}
}

func TestInferState(t *testing.T) {
	tests := []struct {
		stack []Frame
		want  string
	}{
		{frames("runtime.gopark 1", "runtime.chanrecv 2", "runtime.chanrecv1 3", "main.f 4"), "chan receive"},
		{frames("runtime.gopark 1", "runtime.block 2", "main.f 4"), "select (no cases)"},
		{frames("runtime.gopark 1", "runtime.goparkunlock 2", "runtime.semacquire1 3", "internal/sync.runtime_SemacquireMutex 4"), "sync.Mutex.Lock"},
		{frames("runtime.gopark 1", "runtime.goparkunlock 2", "runtime.semacquire1 3", "main.custom 4"), "semacquire"},
		{frames("runtime.gopark 1", "runtime.gcBgMarkWorker 2"), "GC worker (idle)"},
		{frames("runtime.gopark 1", "main.unknownPark 2"), StateWaiting},
		{frames("syscall.Syscall6 1", "os.(*File).Read 2"), StateSyscall},
		{frames("internal/runtime/syscall.Syscall6 1", "syscall.RawSyscall6 2"), StateSyscall},
		{frames("main.spin 1", "main.main 2"), StateRunning},
		{nil, ""},
	}
	for _, tt := range tests {
		name := "empty"
		if len(tt.stack) > 1 {
			name = tt.stack[1].Func
		}
		t.Run(name, func(t *testing.T) {
			if got := inferState(tt.stack); got != tt.want {
				t.Errorf("inferState = %q, want %q", got, tt.want)
			}
		})
	}
}
