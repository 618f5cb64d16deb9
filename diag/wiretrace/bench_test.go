package wiretrace

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/inflight"
)

// benchPod is a pod create body of a realistic size (~600 bytes).
const benchPod = `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"run-42-build-1","namespace":"ci","labels":{"vigil.dev/dag":"build","vigil.dev/run":"42","vigil.dev/task":"compile"},"annotations":{"vigil.dev/try":"1"}},"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"golang:1.26","command":["go","build","./..."],"env":[{"name":"GOFLAGS","value":"-mod=mod"}],"resources":{"requests":{"cpu":"500m","memory":"512Mi"},"limits":{"cpu":"2","memory":"2Gi"}}}],"serviceAccountName":"vigil-runner"},"status":{"phase":"Pending","qosClass":"Burstable"}}`

// benchModes runs fn once unwrapped ("bare") and once per mode.
func benchModes(b *testing.B, inner http.RoundTripper, fn func(b *testing.B, rt http.RoundTripper)) {
	b.Run("bare", func(b *testing.B) { fn(b, inner) })
	for _, mode := range []Mode{Off, Summary, Headers, Bodies} {
		b.Run(mode.String(), func(b *testing.B) {
			tr := New(Options{Mode: mode, Registry: inflight.New(inflight.Options{}), Observe: func(Exchange) {}})
			fn(b, tr.Wrap(inner, WithName("kube"), WithClientTimeout(30*time.Second)))
		})
	}
}

// createPod posts benchPod and drains the answer, as client-go would.
func createPod(b *testing.B, rt http.RoundTripper, url string) {
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, "POST", url+"/api/v1/namespaces/ci/pods", strings.NewReader(benchPod))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkRoundTrip measures a pod create against a loopback server
// through each mode.
func BenchmarkRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, benchPod)
	}))
	defer srv.Close()
	benchModes(b, srv.Client().Transport, func(b *testing.B, rt http.RoundTripper) { createPod(b, rt, srv.URL) })
}

// BenchmarkRoundTripFake measures the tracer alone: the transport under
// it answers at once without a network.
func BenchmarkRoundTripFake(b *testing.B) {
	header := http.Header{"Content-Type": {"application/json"}}
	fake := rtFunc(func(r *http.Request) (*http.Response, error) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return nil, err
		}
		return &http.Response{StatusCode: http.StatusCreated, Header: header, Body: io.NopCloser(strings.NewReader(benchPod)), Request: r}, nil
	})
	benchModes(b, fake, func(b *testing.B, rt http.RoundTripper) { createPod(b, rt, "http://10.0.0.1:6443") })
}

// BenchmarkRedactURL measures the URL rendering every mode but Off pays.
func BenchmarkRedactURL(b *testing.B) {
	r := newRedactor()
	for _, u := range []string{
		"https://10.0.0.1:6443/api/v1/namespaces/ci/pods?labelSelector=vigil.dev%2Frun%3D42&limit=500",
		"https://10.0.0.1:6443/api/v1/namespaces/ci/pods?access_token=abc&watch=true",
	} {
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			b.Fatal(err)
		}
		name := "plain"
		if strings.Contains(u, "token") {
			name = "credential"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = r.url(req.URL)
			}
		})
	}
}
