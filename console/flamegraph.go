package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/google/pprof/profile"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/profiles"
)

// Node is one frame of a flame graph: a function, the value of the
// samples whose stacks pass through it here, and its callees, largest
// first. A leaf's own time is its value less its children's.
type Node struct {
	Name     string  `json:"name"`
	Value    int64   `json:"value"`
	Children []*Node `json:"children,omitempty"`
}

// FlameGraph is GET /api/v1/debug/flamegraph's answer: the tree, rooted at
// "all", and what its values count.
type FlameGraph struct {
	Node
	Kind    string `json:"kind"`
	Seconds int    `json:"seconds"`
	// SampleType and Unit name the values ("cpu", "nanoseconds").
	SampleType string `json:"sample_type"`
	Unit       string `json:"unit"`
	// Pruned counts the frames left out as smaller than MinFraction of
	// the total (their value stays in their parent's).
	Pruned int `json:"pruned,omitempty"`
}

// MinFraction is the smallest share of the total a frame must have to be
// sent: smaller ones would be under a pixel wide and only weigh the page.
const MinFraction = 1.0 / 2000

// Tree folds a profile's samples into a flame graph of its last sample
// type (the one pprof shows by default: cpu nanoseconds for a CPU profile,
// time for a wall profile), dropping frames under minFraction of the
// total. Inlined calls are frames of their own, as pprof shows them.
func Tree(p *profile.Profile, minFraction float64) (FlameGraph, error) {
	if len(p.SampleType) == 0 {
		return FlameGraph{}, errors.New("profile has no sample type")
	}
	idx := len(p.SampleType) - 1
	fg := FlameGraph{Node: Node{Name: "all"}, SampleType: p.SampleType[idx].Type, Unit: p.SampleType[idx].Unit}
	for _, s := range p.Sample {
		v := s.Value[idx]
		if v == 0 {
			continue
		}
		n := &fg.Node
		n.Value += v
		// Locations are innermost first, and so are a location's lines
		// (inlined functions before the function they were inlined into).
		for i := len(s.Location) - 1; i >= 0; i-- {
			loc := s.Location[i]
			for j := len(loc.Line) - 1; j >= 0; j-- {
				n = child(n, frameName(loc.Line[j].Function, loc.Address))
				n.Value += v
			}
			if len(loc.Line) == 0 {
				n = child(n, frameName(nil, loc.Address))
				n.Value += v
			}
		}
	}
	min := int64(float64(fg.Value) * minFraction)
	fg.Pruned = prune(&fg.Node, min)
	return fg, nil
}

func frameName(f *profile.Function, addr uint64) string {
	if f == nil || f.Name == "" {
		return "0x" + strconv.FormatUint(addr, 16)
	}
	return f.Name
}

// child returns n's child called name, adding it if needed. A linear
// scan: a frame has few distinct callees.
func child(n *Node, name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	c := &Node{Name: name}
	n.Children = append(n.Children, c)
	return c
}

// prune drops children under min, sorts the rest largest first (ties by
// name, so the same profile always gives the same tree) and returns how
// many frames it dropped.
func prune(n *Node, min int64) int {
	dropped := 0
	kept := n.Children[:0]
	for _, c := range n.Children {
		if c.Value < min || c.Value == 0 {
			dropped += count(c)
			continue
		}
		dropped += prune(c, min)
		kept = append(kept, c)
	}
	n.Children = kept
	if len(n.Children) == 0 {
		n.Children = nil
	}
	sort.Slice(n.Children, func(i, j int) bool {
		a, b := n.Children[i], n.Children[j]
		if a.Value != b.Value {
			return a.Value > b.Value
		}
		return a.Name < b.Name
	})
	return dropped
}

func count(n *Node) int {
	c := 1
	for _, k := range n.Children {
		c += count(k)
	}
	return c
}

// Profiler writes a profile of the next d to w, in pprof's format.
type Profiler func(ctx context.Context, d time.Duration, w io.Writer) error

// MaxFlameSeconds is the longest profile the flame-graph route takes.
const MaxFlameSeconds = 30

// FlameGraphPath is the flame-graph route, under the operations API.
const FlameGraphPath = "/api/v1/debug/flamegraph"

// FlameGraphHandler serves GET FlameGraphPath?kind=cpu|wall&seconds=N
// (1 to MaxFlameSeconds, default 10): it takes a fresh profile from the
// process's own profilers (cpu, wall) and answers a FlameGraph. A CPU
// profile already being taken answers 409; a client that goes away stops
// the profile.
func FlameGraphHandler(cpu, wall Profiler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, "bad_request", "use GET")
			return
		}
		kind := r.URL.Query().Get("kind")
		var prof Profiler
		switch kind {
		case "cpu", "":
			kind, prof = "cpu", cpu
		case "wall":
			prof = wall
		default:
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("kind %q: use cpu or wall", kind))
			return
		}
		secs := 10
		if s := r.URL.Query().Get("seconds"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > MaxFlameSeconds {
				writeError(w, http.StatusBadRequest, "bad_request",
					fmt.Sprintf("seconds %q: use a whole number from 1 to %d", s, MaxFlameSeconds))
				return
			}
			secs = n
		}
		if prof == nil {
			writeError(w, http.StatusNotFound, "not_found", kind+" profiles are not available in this process")
			return
		}
		// The profile takes its seconds: lift the server's write timeout
		// to them plus a margin, as the debug API's profiles do.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Duration(secs)*time.Second + 30*time.Second))
		var buf bytes.Buffer
		if err := prof(r.Context(), time.Duration(secs)*time.Second, &buf); err != nil {
			code, c := http.StatusInternalServerError, "internal"
			switch {
			case errors.Is(err, profiles.ErrCPUProfilerBusy):
				code, c = http.StatusConflict, "conflict"
			case r.Context().Err() != nil:
				return // the client went away
			}
			writeError(w, code, c, fmt.Sprintf("%s profile: %v", kind, err))
			return
		}
		p, err := profile.Parse(&buf)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("parse %s profile: %v", kind, err))
			return
		}
		fg, err := Tree(p, MinFraction)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("%s profile: %v", kind, err))
			return
		}
		fg.Kind, fg.Seconds = kind, secs
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(fg)
	})
}

// FlameGraphs is FlameGraphHandler on this process's CPU and wall
// profilers (package profiles).
func FlameGraphs() http.Handler {
	return FlameGraphHandler(profiles.CPUProfile, profiles.WallProfile)
}

// writeError answers the operations API's error body (api.ErrorBody).
func writeError(w http.ResponseWriter, code int, c, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.Error{Code: c, Message: msg}})
}
