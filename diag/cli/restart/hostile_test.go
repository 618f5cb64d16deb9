package restart

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/debugserver/debugtest"
)

// TestPodBundleNameFromServerValidated: restart --pod copies the bundle
// out of the pod under the name the scheduler gives it. A scheduler that
// names it "../../x" used to have diag write there; now the restart stops
// at the bundle, naming the bad name, and nothing is written.
func TestPodBundleNameFromServerValidated(t *testing.T) {
	srv := debugtest.Start(t, debugtest.Options{Wrap: func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == debugserver.Prefix+"bundles" {
				debugtest.EditJSON(api, w, r, func(v map[string]any) { v["name"] = "../../x" })
				return
			}
			if strings.HasPrefix(r.URL.Path, debugserver.Prefix+"bundles/") {
				_, _ = w.Write([]byte("not what you asked for\n"))
				return
			}
			api.ServeHTTP(w, r)
		})
	}})
	base := t.TempDir()
	out := filepath.Join(base, "a", "b")
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	ios, _, stdout, _ := iostreams.Test()
	opts := &Options{IO: ios, File: out + "/", Factory: &cmdutil.Factory{IOStreams: ios, Now: time.Now,
		Target: &cmdutil.TargetFlags{Timeout: 10 * time.Second}}}
	// The pod's transport is the exec stream; any stream to the same API
	// does for the copy.
	c, err := client.New(client.Target{Socket: srv.Socket})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = writeBundle(t.Context(), opts, &pod{opts: opts, c: c})
	if err == nil || !strings.Contains(err.Error(), `"../../x" is not a bundle name`) {
		t.Fatalf("bundle named ../../x: %v; want a refusal naming it\n%s", err, stdout)
	}
	if _, err := os.Stat(filepath.Join(base, "x")); err == nil {
		t.Errorf("%s was written", filepath.Join(base, "x"))
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("files left in %s: %v", out, ents)
	}
}
