package profiles

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/zap/zaptest"
)

// TestPushDropsLabels runs a real Pusher whose goroutines carry a "run"
// label and checks that the profiles the server receives keep the other
// labels and never carry run.
func TestPushDropsLabels(t *testing.T) {
	srv := newIngestServer(t, http.StatusOK)
	p, err := StartPush(PushOptions{
		ServerAddress: srv.URL,
		DropLabels:    []string{"run"},
		UploadRate:    300 * time.Millisecond,
		UploadTimeout: 5 * time.Second,
		Logger:        zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()

	stop := startBurning("loop", "submit", "dag", "etl", "run", "manual__2026-12-07T01:00:00Z", "task", "extract")
	found := srv.waitFor(10*time.Second, func(pr *profile.Profile) bool {
		return isCPU(pr) && hasLabel(pr, "dag", "etl") && hasLabel(pr, "task", "extract") && hasLabel(pr, "loop", "submit")
	})
	stop()
	p.Stop()
	if !found {
		t.Fatal("no CPU profile with the labels loop=submit, dag=etl, task=extract reached the server in 10s")
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, pr := range srv.profiles {
		for _, s := range pr.Sample {
			if v, ok := s.Label["run"]; ok {
				t.Fatalf("a pushed %s profile has the run label %v", pr.SampleType[len(pr.SampleType)-1].Type, v)
			}
		}
	}
	if st := p.Stats(); st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("stats: %+v", st)
	}
}

// TestDropLabelsMergesSamples checks that samples that differ only by a
// dropped label become one sample with their values summed, and that a
// profile without the label is sent byte for byte as it came.
func TestDropLabelsMergesSamples(t *testing.T) {
	fn := &profile.Function{ID: 1, Name: "main.work"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	pr := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}},
		Function:   []*profile.Function{fn},
		Location:   []*profile.Location{loc},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{loc}, Value: []int64{3}, Label: map[string][]string{"dag": {"etl"}, "run": {"r1"}}},
			{Location: []*profile.Location{loc}, Value: []int64{4}, Label: map[string][]string{"dag": {"etl"}, "run": {"r2"}}},
		},
	}
	var in bytes.Buffer
	if err := pr.Write(&in); err != nil {
		t.Fatal(err)
	}
	out, err := dropPprofLabels(in.Bytes(), []string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := profile.ParseData(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sample) != 1 || got.Sample[0].Value[0] != 7 || got.Sample[0].Label["dag"][0] != "etl" || got.Sample[0].Label["run"] != nil {
		t.Errorf("after dropping run: %v", got.Sample)
	}
	same, err := dropPprofLabels(out, []string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same, out) {
		t.Error("a profile without the dropped label was rewritten")
	}
}

// TestDropLabelsRefusesUnreadableUploads checks that an upload the filter
// cannot read is failed and counted, not sent with its labels.
func TestDropLabelsRefusesUnreadableUploads(t *testing.T) {
	srv := newIngestServer(t, http.StatusOK)
	c := &uploadClient{ctx: t.Context(), client: srv.Client(), now: time.Now, failures: newFailureLog(zaptest.NewLogger(t), time.Now, time.Minute), drop: []string{"run"}}
	for name, ct := range map[string]string{
		"not multipart": "application/octet-stream",
		"not pprof":     "multipart/form-data; boundary=b",
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/ingest", strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"p\"\r\n\r\nnot a profile\r\n--b--\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ct)
		if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "drop profile labels [run]") {
			t.Errorf("%s: Do = %v, want an error naming the labels it drops", name, err)
		}
	}
	if st := c.stats(); st.Failed != 2 || st.Uploaded != 0 {
		t.Errorf("stats: %+v, want 2 failed", st)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.profiles) != 0 {
		t.Errorf("the server got %d profiles", len(srv.profiles))
	}
}
