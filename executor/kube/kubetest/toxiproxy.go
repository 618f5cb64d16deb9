package kubetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"
)

// Toxic adds a toxiproxy toxic to the "apiserver" proxy that stands
// between $KUBECONFIG_TOXIC and the apiserver, and returns a function that
// removes it (also run at the end of the test). kind and attributes are
// toxiproxy's: "timeout" {"timeout": 0} is a black hole, "latency"
// {"latency": ms} delays every byte.
func Toxic(t testing.TB, name, kind, stream string, attributes map[string]int) (remove func()) {
	t.Helper()
	api := os.Getenv("TOXIPROXY_API")
	if api == "" {
		t.Skip("TOXIPROXY_API is not set: this test needs toxiproxy in front of the test apiserver; run it through `make test`")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	// remove also runs as a cleanup, after t.Context() is cancelled.
	base := context.WithoutCancel(t.Context())
	call := func(method, path string, body any) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			r = bytes.NewReader(b)
		}
		ctx, cancel := context.WithTimeout(base, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, "http://"+api+path, r)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("toxiproxy %s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(resp.Body)
			t.Fatalf("toxiproxy %s %s: %s: %s", method, path, resp.Status, msg)
		}
	}
	call(http.MethodPost, "/proxies/apiserver/toxics", map[string]any{
		"name": name, "type": kind, "stream": stream, "toxicity": 1.0, "attributes": attributes,
	})
	removed := false
	remove = func() {
		if !removed {
			removed = true
			call(http.MethodDelete, fmt.Sprintf("/proxies/apiserver/toxics/%s", name), nil)
		}
	}
	t.Cleanup(remove)
	return remove
}
