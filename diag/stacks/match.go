package stacks

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

// minSharedFrames is how many frames, from the outermost inward, a call's
// stack and a goroutine's must share for the call to be matched (fewer
// when the call's stack is shorter). Three frames reach past the
// goroutine's entry (runtime.goexit, the go statement's function) into
// the code that made the call.
const minSharedFrames = 3

// matchCalls assigns each call to at most one group, by the rules in the
// package documentation, and sets the matched groups' Calls and Wait.
func matchCalls(groups []Group, calls []inflight.Call) {
	if len(groups) == 0 || len(calls) == 0 {
		return
	}
	// Index the groups by the functions on their stacks: a call can only
	// match a group whose stack holds the function that called Begin.
	byFunc := map[string][]int{}
	for gi := range groups {
		for _, f := range groups[gi].Stack {
			if l := byFunc[f.Func]; len(l) == 0 || l[len(l)-1] != gi {
				byFunc[f.Func] = append(l, gi)
			}
		}
	}
	room := make([]int, len(groups))
	for gi := range groups {
		room[gi] = groups[gi].Count
	}
	// Oldest first: when a group has fewer goroutines than candidate
	// calls, it keeps the oldest, the ones a stuck goroutine is in.
	order := make([]int, len(calls))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(calls[b].Age, calls[a].Age); c != 0 {
			return c
		}
		return cmp.Compare(calls[a].ID, calls[b].ID)
	})
	ages := make([][]time.Duration, len(groups))
	var cf []Frame
	for _, ci := range order {
		c := &calls[ci]
		cf = parseCallStack(cf[:0], c.Stack)
		if len(cf) == 0 {
			continue
		}
		best, bestAfter, bestShared := -1, false, 0
		for _, gi := range byFunc[cf[0].Func] {
			if room[gi] == 0 || !labelsAgree(c.Labels, groups[gi].Labels) {
				continue
			}
			shared, after, ok := alignCall(cf, groups[gi].Stack)
			if !ok {
				continue
			}
			if best < 0 || (after && !bestAfter) || (after == bestAfter && shared > bestShared) {
				best, bestAfter, bestShared = gi, after, shared
			}
		}
		if best < 0 {
			continue
		}
		room[best]--
		groups[best].Calls = append(groups[best].Calls, c.ID)
		ages[best] = append(ages[best], c.Age)
	}
	for gi, a := range ages {
		if len(a) > 0 {
			groups[gi].Wait = Wait{Exact: true, Min: slices.Min(a), Max: slices.Max(a), Source: WaitInflight}
		}
	}
}

// alignCall lines up a call's stack cf (Begin's caller first) with a
// goroutine's stack gs from the outermost frame. It returns how many
// frames they share, whether the goroutine is at or after Begin's line
// in Begin's caller, and whether they match at all.
func alignCall(cf, gs []Frame) (shared int, after, ok bool) {
	// runtime.Callers ends a goroutine's stack with runtime.goexit; the
	// goroutine profile leaves it out.
	cf, gs = trimGoexit(cf), trimGoexit(gs)
	if len(cf) == 0 {
		return 0, false, false
	}
	need := min(minSharedFrames, len(cf))
	for j := range gs {
		if gs[j].Func != cf[0].Func {
			continue
		}
		k := 1
		for k < len(cf) && j+k < len(gs) && gs[j+k].Func == cf[k].Func && gs[j+k].Line == cf[k].Line {
			k++
		}
		// The shared part must run to the end of one of the stacks: both
		// end in runtime.goexit unless one was truncated.
		if k < need || (k < len(cf) && j+k < len(gs)) {
			continue
		}
		return k, gs[j].Line >= cf[0].Line, true
	}
	return 0, false, false
}

func trimGoexit(fs []Frame) []Frame {
	for len(fs) > 0 && fs[len(fs)-1].Func == "runtime.goexit" {
		fs = fs[:len(fs)-1]
	}
	return fs
}

// labelsAgree reports whether a call's labels fit a group's: equal on
// every key both have, and at least one such key when both have labels.
func labelsAgree(call, group map[string]string) bool {
	if len(call) == 0 || len(group) == 0 {
		return true
	}
	shared := 0
	for k, v := range call {
		if gv, ok := group[k]; ok {
			if gv != v {
				return false
			}
			shared++
		}
	}
	return shared > 0
}

// parseCallStack appends the frames of an inflight stack, "function
// file:line" lines, to dst.
func parseCallStack(dst []Frame, lines []string) []Frame {
	for _, s := range lines {
		fn, loc, _ := strings.Cut(s, " ")
		f := Frame{Func: fn, File: loc}
		if i := strings.LastIndexByte(loc, ':'); i >= 0 {
			if n, err := strconv.ParseInt(loc[i+1:], 10, 64); err == nil {
				f.File, f.Line = loc[:i], n
			}
		}
		dst = append(dst, f)
	}
	return dst
}
