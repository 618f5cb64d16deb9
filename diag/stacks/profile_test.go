package stacks_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/stacks"
)

// goroutineProfile returns this process's goroutine profile in protobuf
// form with n goroutines parked in parkedForProfile under labels.
func goroutineProfile(t testing.TB, n int) []byte {
	t.Helper()
	ch := make(chan struct{})
	defer close(ch)
	var begun sync.WaitGroup
	begun.Add(n)
	for range n {
		go pprof.Do(context.Background(), pprof.Labels("loop", "remote", "dag", "etl"), func(context.Context) { parkedForProfile(ch, &begun) })
	}
	begun.Wait()
	time.Sleep(20 * time.Millisecond)
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 0); err != nil {
		t.Fatalf("goroutine profile: %v", err)
	}
	return b.Bytes()
}

func parkedForProfile(ch <-chan struct{}, begun *sync.WaitGroup) {
	begun.Done()
	<-ch
}

func TestParseProfile(t *testing.T) {
	const n = 4
	data := goroutineProfile(t, n)
	snap, err := stacks.ParseProfile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ParseProfile: %v", err)
	}
	if snap.Taken.IsZero() || time.Since(snap.Taken) > time.Minute {
		t.Errorf("Taken = %v, want the profile's time", snap.Taken)
	}
	for _, g := range snap.Groups {
		if hasFunc(g, ".parkedForProfile") {
			if g.Count != n || g.State != "chan receive" || g.Labels["dag"] != "etl" || g.Labels["loop"] != "remote" {
				t.Errorf("group of parkedForProfile: count %d state %q labels %v", g.Count, g.State, g.Labels)
			}
			return
		}
	}
	t.Errorf("no group of parkedForProfile in %+v", snap.Groups)
}

func TestParseProfileErrors(t *testing.T) {
	var heap bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&heap, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       []byte
		sentinel error
	}{
		{"heap profile", heap.Bytes(), stacks.ErrNotGoroutineProfile},
		{"not a profile", []byte("goroutine 1 [running]:\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stacks.ParseProfile(bytes.NewReader(tt.in))
			if err == nil || (tt.sentinel != nil && !errors.Is(err, tt.sentinel)) {
				t.Errorf("ParseProfile error = %v, want one wrapping %v", err, tt.sentinel)
			}
		})
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add(goroutineProfile(f, 2))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := stacks.ParseProfile(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 0
		for _, g := range snap.Groups {
			n += g.Count
		}
		if n != snap.Goroutines {
			t.Fatalf("groups hold %d goroutines, Goroutines = %d", n, snap.Goroutines)
		}
		if err := snap.WriteText(io.Discard, stacks.TextOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}
