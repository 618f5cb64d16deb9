package profiles

import (
	"context"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// ingestServer is a fake Pyroscope ingest endpoint that keeps the pprof
// profiles it is sent.
type ingestServer struct {
	*httptest.Server
	t      *testing.T
	status int

	mu       sync.Mutex
	profiles []*profile.Profile
	auth     []string // the Authorization header of each upload
	notify   chan struct{}
}

func newIngestServer(t *testing.T, status int) *ingestServer {
	t.Helper()
	s := &ingestServer{t: t, status: status, notify: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.ingest))
	t.Cleanup(s.Close)
	return s
}

func (s *ingestServer) ingest(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/ingest" {
		http.NotFound(w, r)
		return
	}
	f, _, err := r.FormFile("profile")
	if err != nil {
		s.t.Errorf("ingest without a profile file: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p, err := profile.ParseData(data)
	if err != nil {
		s.t.Errorf("ingested profile %s is not pprof: %v", r.URL.Query().Get("name"), err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.profiles = append(s.profiles, p)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(s.status)
}

// waitFor waits until one of the ingested profiles satisfies match.
func (s *ingestServer) waitFor(timeout time.Duration, match func(*profile.Profile) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		s.mu.Lock()
		ps := s.profiles[seen:]
		seen = len(s.profiles)
		s.mu.Unlock()
		for _, p := range ps {
			if match(p) {
				return true
			}
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			return false
		}
	}
}

// authHeaders returns the distinct Authorization headers seen so far.
func (s *ingestServer) authHeaders() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var seen []string
	for _, a := range s.auth {
		if !slices.Contains(seen, a) {
			seen = append(seen, a)
		}
	}
	return seen
}

func isCPU(p *profile.Profile) bool {
	return len(p.SampleType) == 2 && p.SampleType[1].Type == "cpu"
}

// hasLabel reports whether some sample carries the pprof label key=value.
func hasLabel(p *profile.Profile, key, value string) bool {
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			if v == value {
				return true
			}
		}
	}
	return false
}

// burnCPU spins under pprof labels until ctx ends, like a scheduler loop
// labelled with pprof.Do. It returns the number of rounds done.
func burnCPU(ctx context.Context, labels ...string) (rounds int) {
	pprof.Do(ctx, pprof.Labels(labels...), func(ctx context.Context) {
		buf := make([]byte, 4096)
		var sum uint32
		for ctx.Err() == nil {
			for range 64 {
				sum = crc32.Update(sum, crc32.IEEETable, buf)
				buf[0] = byte(sum)
			}
			rounds++
		}
	})
	return rounds
}

// startBurning runs burnCPU in a goroutine; the returned stop ends it and
// returns its round count. stop may be called more than once.
func startBurning(labels ...string) (stop func() int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- burnCPU(ctx, labels...) }()
	return sync.OnceValue(func() int {
		cancel()
		return <-done
	})
}
