package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/vigilhq/vigil/profiles"
)

var sink atomic.Uint64

// spinConsoleFlame is the busy goroutine the profile must find.
//
//go:noinline
func spinConsoleFlame(stop *atomic.Bool) {
	x := uint64(1)
	for !stop.Load() {
		for i := 0; i < 1e5; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink.Store(x)
}

func busy(t *testing.T) {
	t.Helper()
	var stop atomic.Bool
	done := make(chan struct{})
	go func() { defer close(done); spinConsoleFlame(&stop) }()
	t.Cleanup(func() { stop.Store(true); <-done })
}

// find returns the path of frames from the root to the first node whose
// name contains name.
func find(n *Node, name string, path []string) []string {
	path = append(path, n.Name)
	if strings.Contains(n.Name, name) {
		return path
	}
	for _, c := range n.Children {
		if p := find(c, name, path); p != nil {
			return p
		}
	}
	return nil
}

func checkTree(t *testing.T, n *Node) {
	t.Helper()
	var sum int64
	for i, c := range n.Children {
		sum += c.Value
		if i > 0 && c.Value > n.Children[i-1].Value {
			t.Errorf("%s: children not largest first: %s %d after %d", n.Name, c.Name, c.Value, n.Children[i-1].Value)
		}
		checkTree(t, c)
	}
	if sum > n.Value {
		t.Errorf("%s: children sum %d > own value %d", n.Name, sum, n.Value)
	}
}

func TestTreeOfBusyGoroutine(t *testing.T) {
	busy(t)
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := profiles.CPUProfile(ctx, time.Second, &buf); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	fg, err := Tree(p, MinFraction)
	if err != nil {
		t.Fatal(err)
	}
	if fg.SampleType != "cpu" || fg.Unit != "nanoseconds" {
		t.Errorf("sample type %s/%s, want cpu/nanoseconds", fg.SampleType, fg.Unit)
	}
	if fg.Name != "all" || fg.Value <= 0 {
		t.Fatalf("root %q value %d", fg.Name, fg.Value)
	}
	path := find(&fg.Node, "spinConsoleFlame", nil)
	if path == nil {
		t.Fatalf("spinConsoleFlame not in the tree; top: %v", names(fg.Children))
	}
	// Called by the test's closure, started by the runtime: the caller is
	// above the callee.
	if len(path) < 3 || !strings.Contains(path[len(path)-2], "busy.func") {
		t.Errorf("path to spinConsoleFlame: %v", path)
	}
	checkTree(t, &fg.Node)
	// The busy goroutine has most of the CPU of this otherwise idle test.
	var spin int64
	var walk func(n *Node)
	walk = func(n *Node) {
		if strings.Contains(n.Name, "spinConsoleFlame") {
			spin += n.Value
			return
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(&fg.Node)
	if spin*2 < fg.Value {
		t.Errorf("spinConsoleFlame has %d of %d", spin, fg.Value)
	}
}

func names(ns []*Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

func TestTreeInlinedAndPruned(t *testing.T) {
	main := &profile.Function{ID: 1, Name: "main.main"}
	outer := &profile.Function{ID: 2, Name: "pkg.outer"}
	inlined := &profile.Function{ID: 3, Name: "pkg.inlined"}
	tiny := &profile.Function{ID: 4, Name: "pkg.tiny"}
	locMain := &profile.Location{ID: 1, Line: []profile.Line{{Function: main}}}
	// One location holding an inlined call: innermost line first.
	locOuter := &profile.Location{ID: 2, Line: []profile.Line{{Function: inlined}, {Function: outer}}}
	locTiny := &profile.Location{ID: 3, Line: []profile.Line{{Function: tiny}}}
	locRaw := &profile.Location{ID: 4, Address: 0xbeef}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{locOuter, locMain}, Value: []int64{1, 9000}},
			{Location: []*profile.Location{locTiny, locMain}, Value: []int64{1, 4}},
			{Location: []*profile.Location{locRaw, locMain}, Value: []int64{1, 996}},
		},
	}
	fg, err := Tree(p, 0.001)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(fg.Node)
	want := `{"name":"all","value":10000,"children":[{"name":"main.main","value":10000,"children":[` +
		`{"name":"pkg.outer","value":9000,"children":[{"name":"pkg.inlined","value":9000}]},` +
		`{"name":"0xbeef","value":996}]}]}`
	if string(got) != want {
		t.Errorf("tree\n got %s\nwant %s", got, want)
	}
	if fg.Pruned != 1 {
		t.Errorf("pruned %d, want 1 (pkg.tiny)", fg.Pruned)
	}
}

func TestFlameGraphHandler(t *testing.T) {
	busy(t)
	h := FlameGraphs()
	tests := []struct {
		name, query string
		code        int
		body        string
	}{
		{"bad kind", "kind=heap", 400, `kind \"heap\": use cpu or wall`},
		{"zero seconds", "kind=cpu&seconds=0", 400, "from 1 to 30"},
		{"too long", "kind=wall&seconds=31", 400, "from 1 to 30"},
		{"cpu", "kind=cpu&seconds=1", 200, `"sample_type":"cpu"`},
		{"wall", "kind=wall&seconds=1", 200, `"kind":"wall"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, FlameGraphPath+"?"+tt.query, nil))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) {
				t.Fatalf("HTTP %d %.300s, want %d with %s", rec.Code, rec.Body.String(), tt.code, tt.body)
			}
			if tt.code != 200 {
				return
			}
			var fg FlameGraph
			if err := json.Unmarshal(rec.Body.Bytes(), &fg); err != nil {
				t.Fatal(err)
			}
			if find(&fg.Node, "spinConsoleFlame", nil) == nil {
				t.Errorf("spinConsoleFlame not in the %s flame graph", fg.Kind)
			}
		})
	}
}
