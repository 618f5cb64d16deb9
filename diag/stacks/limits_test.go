package stacks

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseLimits(t *testing.T) {
	// dump has n goroutines, each with its own function name of the given
	// length and the given number of frames.
	dump := func(n, nameLen, depth int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "goroutine %d [select]:\n", i+1)
			for d := range depth {
				fmt.Fprintf(&b, "main.f%d_%d%s()\n\t/x.go:%d +0x1\n", i, d, strings.Repeat("x", nameLen), d+1)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	small := limits{lineBytes: 256, frames: 4, groups: 10, storedFrames: 40, stringBytes: 4096}
	tests := []struct {
		name       string
		in         string
		tooLarge   bool
		goroutines int
		maxDepth   int
	}{
		{"within limits", dump(3, 1, 2), false, 3, 2},
		{"frames per goroutine are cut", dump(1, 1, 9), false, 1, 4},
		{"too many groups", dump(11, 1, 1), true, 10, 1},
		{"too many stored frames", dump(10, 1, 4) + dump(1, 2, 4), true, 10, 4},
		{"too many name bytes", dump(40, 200, 1), true, 0, 1},
		{"long lines are cut", dump(1, 1000, 1), false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := parse(strings.NewReader(tt.in), small)
			if tt.tooLarge != errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge %v", err, tt.tooLarge)
			}
			if !tt.tooLarge && err != nil {
				t.Fatalf("err = %v", err)
			}
			if snap == nil {
				t.Fatal("no snapshot")
			}
			if tt.goroutines > 0 && snap.Goroutines != tt.goroutines {
				t.Errorf("Goroutines = %d, want %d", snap.Goroutines, tt.goroutines)
			}
			for _, g := range snap.Groups {
				if len(g.Stack) > tt.maxDepth {
					t.Errorf("stack of %d frames, want at most %d", len(g.Stack), tt.maxDepth)
				}
				for _, f := range g.Stack {
					if len(f.Func) > small.lineBytes {
						t.Errorf("frame of %d bytes, lines are cut at %d", len(f.Func), small.lineBytes)
					}
				}
			}
		})
	}
}
