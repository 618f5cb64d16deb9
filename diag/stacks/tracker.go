package stacks

import (
	"hash/maphash"
	"strconv"
	"sync"
	"time"
)

// Tracker remembers, across snapshots, since when each group (stack and
// labels) has been present, so that a group no in-flight call explains
// still gets a lower bound on its wait (Source "seen").
//
// It keeps one entry per group of the latest snapshot and forgets the
// rest, so its memory is bounded by the size of one snapshot. Its methods
// are safe for concurrent use.
type Tracker struct {
	seed maphash.Seed

	mu     sync.Mutex // guards groups and latest
	groups map[uint64]seen
	latest time.Time
}

type seen struct {
	since time.Time // first snapshot of the current run of presence
	count int       // goroutines in the latest snapshot
}

// NewTracker returns a Tracker that has seen nothing.
func NewTracker() *Tracker {
	return &Tracker{seed: maphash.MakeSeed(), groups: map[uint64]seen{}}
}

// Len is the number of groups the tracker remembers.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.groups)
}

// Observe records snap and fills the Wait of its groups that have none
// with how long the group has been present in every snapshot, at no
// smaller count: Wait{Min: snap.Taken - first seen, Source: "seen"}.
//
// A group whose count dropped, or that was absent from the previous
// snapshot, starts again from snap.Taken. A snapshot older than one
// already observed (two captures racing) gets waits from what is known
// but changes nothing. Snapshots without Taken are ignored.
func (t *Tracker) Observe(snap *Snapshot) {
	if snap == nil || snap.Taken.IsZero() {
		return
	}
	// Several groups of a text dump can share stack and labels (their
	// states differ); the tracker counts them as one.
	sigs := make([]uint64, len(snap.Groups))
	counts := make(map[uint64]int, len(snap.Groups))
	for i := range snap.Groups {
		sigs[i] = t.signature(&snap.Groups[i])
		counts[sigs[i]] += snap.Groups[i].Count
	}

	t.mu.Lock()
	if !snap.Taken.Before(t.latest) {
		next := make(map[uint64]seen, len(counts))
		for sig, n := range counts {
			s, ok := t.groups[sig]
			if !ok || n < s.count {
				s.since = snap.Taken
			}
			s.count = n
			next[sig] = s
		}
		t.groups = next
		t.latest = snap.Taken
	}
	since := make([]time.Time, len(sigs))
	for i, sig := range sigs {
		if s, ok := t.groups[sig]; ok {
			since[i] = s.since
		}
	}
	t.mu.Unlock()

	for i := range snap.Groups {
		g := &snap.Groups[i]
		if g.Wait.Known() || since[i].IsZero() || !since[i].Before(snap.Taken) {
			continue
		}
		g.Wait = Wait{Min: snap.Taken.Sub(since[i]), Source: WaitSeen}
	}
	snap.sort()
}

// signature hashes a group's stack and labels.
func (t *Tracker) signature(g *Group) uint64 {
	var h maphash.Hash
	h.SetSeed(t.seed)
	var buf [20]byte
	for _, f := range g.Stack {
		h.WriteString(f.Func)
		h.WriteByte(0)
		h.WriteString(f.File)
		h.WriteByte(0)
		h.Write(strconv.AppendInt(buf[:0], f.Line, 10))
		h.WriteByte(0)
	}
	h.WriteByte(1)
	h.WriteString(labelKey(g.Labels))
	return h.Sum64()
}
