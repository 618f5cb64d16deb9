package stacks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/pprof/profile"
)

// ErrNotGoroutineProfile is returned by ParseProfile for a profile of
// something else (CPU, heap).
var ErrNotGoroutineProfile = errors.New("not a goroutine profile")

// ParseProfile reads a goroutine profile in pprof protobuf form, gzipped
// or not (what /debug/pprof/goroutine serves without ?debug), and groups
// its stacks. States are inferred as for Capture; no wait is known.
func ParseProfile(r io.Reader) (*Snapshot, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("parse goroutine profile: %w", err)
	}
	if len(p.SampleType) > 0 && p.SampleType[0].Type != "goroutine" {
		return nil, fmt.Errorf("profile of %q: %w", p.SampleType[0].Type, ErrNotGoroutineProfile)
	}
	snap, err := fromProfile(p)
	if err != nil {
		return nil, err
	}
	if p.TimeNanos != 0 {
		snap.Taken = time.Unix(0, p.TimeNanos)
	}
	snap.sort()
	return snap, nil
}

// fromProfile groups the samples of a goroutine profile. The runtime
// already aggregates goroutines by program counters and labels, so there
// are few samples; they are merged again by symbolic stack because two
// PCs can share a line. Each location is symbolized once and stacks are
// compared as sequences of interned frame numbers, not strings.
func fromProfile(p *profile.Profile) (*Snapshot, error) {
	frameID := map[Frame]uint32{}
	var frames []Frame
	intern := func(f Frame) uint32 {
		id, ok := frameID[f]
		if !ok {
			id = uint32(len(frames))
			frameID[f] = id
			frames = append(frames, f)
		}
		return id
	}
	locFrames := map[*profile.Location][]uint32{}
	symbolize := func(loc *profile.Location) []uint32 {
		if ids, ok := locFrames[loc]; ok {
			return ids
		}
		var ids []uint32
		// Line[0] is the innermost of the functions inlined at loc.
		for _, ln := range loc.Line {
			f := Frame{Line: ln.Line}
			if ln.Function != nil {
				f.Func, f.File = ln.Function.Name, ln.Function.Filename
			}
			if f.Func == "" {
				f.Func = fmt.Sprintf("%#x", loc.Address)
			}
			ids = append(ids, intern(f))
		}
		if len(loc.Line) == 0 {
			ids = append(ids, intern(Frame{Func: fmt.Sprintf("%#x", loc.Address)}))
		}
		locFrames[loc] = ids
		return ids
	}

	snap := &Snapshot{}
	index := map[string]int{} // stack and labels key → group
	var ids []uint32
	var key []byte
	for _, s := range p.Sample {
		if len(s.Value) == 0 {
			continue
		}
		n := s.Value[0]
		if n <= 0 || n > 1<<40 {
			return nil, fmt.Errorf("goroutine profile sample with count %d", n)
		}
		ids = ids[:0]
		for _, loc := range s.Location {
			if loc != nil {
				ids = append(ids, symbolize(loc)...)
			}
		}
		labels := sampleLabels(s)
		key = key[:0]
		for _, id := range ids {
			key = binary.LittleEndian.AppendUint32(key, id)
		}
		key = append(key, labelKey(labels)...)
		gi, ok := index[string(key)]
		if !ok {
			gi = len(snap.Groups)
			index[string(key)] = gi
			stack := make([]Frame, len(ids))
			for i, id := range ids {
				stack[i] = frames[id]
			}
			snap.Groups = append(snap.Groups, Group{Stack: stack, Labels: labels, State: inferState(stack)})
		}
		snap.Groups[gi].Count += int(n)
		snap.Goroutines += int(n)
		if snap.Goroutines > 1<<40 {
			return nil, fmt.Errorf("goroutine profile with more than %d goroutines", 1<<40)
		}
	}
	return snap, nil
}

// sampleLabels are a sample's string labels; pprof labels have one value
// per key.
func sampleLabels(s *profile.Sample) map[string]string {
	if len(s.Label) == 0 {
		return nil
	}
	l := make(map[string]string, len(s.Label))
	for k, vs := range s.Label {
		if len(vs) > 0 {
			l[k] = vs[0]
		}
	}
	return l
}
