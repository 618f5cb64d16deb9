package dag

import (
	"os"
	"testing"
)

// FuzzRoundTrip holds the canonical encoding to its promise on whatever
// Parse accepts: Parse(Encode(d)) equals d and Encode is a fixed point.
// Rejected input must come back as well-formed errors, never a panic.
// The seed corpus is every input of the golden tests plus
// testdata/fuzz/FuzzRoundTrip, which go test replays as ordinary tests.
func FuzzRoundTrip(f *testing.F) {
	for _, in := range inputs(f) {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("in.yaml", data, DefaultPresets())
		if err != nil {
			list, ok := err.(ErrorList)
			if !ok || len(list) == 0 {
				t.Fatalf("Parse error %#v is not a non-empty ErrorList", err)
			}
			for _, e := range list {
				if e.File != "in.yaml" || e.Msg == "" || e.Line < 0 || e.Column < 0 {
					t.Fatalf("malformed error %#v", e)
				}
			}
			return
		}
		checkRoundTrip(t, data)
	})
}
