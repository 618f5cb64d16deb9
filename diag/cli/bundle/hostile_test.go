package bundle_test

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/debugserver/debugtest"
)

// renaming stands in front of a real debug API and gives every bundle it
// writes the name name instead of its own, and serves the real bundle
// under any name asked for: a scheduler that lies about its bundle's
// name.
func renaming(name string, dir func() string) func(http.Handler) http.Handler {
	var mu sync.Mutex
	real := ""
	return func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPost && r.URL.Path == debugserver.Prefix+"bundles":
				debugtest.EditJSON(api, w, r, func(v map[string]any) {
					mu.Lock()
					real, _ = v["name"].(string)
					mu.Unlock()
					v["name"] = name
				})
			case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, debugserver.Prefix+"bundles/"):
				mu.Lock()
				path := filepath.Join(dir(), real)
				mu.Unlock()
				f, err := os.Open(path)
				if err != nil {
					http.Error(w, err.Error(), http.StatusNotFound)
					return
				}
				defer f.Close()
				w.Header().Set("Content-Type", "application/gzip")
				_, _ = io.Copy(w, f)
			default:
				api.ServeHTTP(w, r)
			}
		})
	}
}

// TestBundleNameFromServerValidated: `diag bundle` saves the bundle under
// the name the scheduler gives it. A scheduler that names it "../../x"
// (or an absolute path, or go.mod) used to have diag write that file
// anywhere; now diag refuses, naming the bad name, and writes nothing.
func TestBundleNameFromServerValidated(t *testing.T) {
	base := t.TempDir()
	absolute := filepath.Join(base, "absolute.tar.gz")
	tests := []struct {
		name   string
		bundle string // the name the server gives
		toDir  bool   // -f a folder (else no -f: the current folder)
	}{
		{"parent folders", "../../x", true},
		{"parent folders below a bundle name", "vigil-bundle-a/../../../x.tar.gz", true},
		{"absolute path", absolute, false},
		{"a file beside it", "go.mod", true},
		{"dot dot", "..", true},
		{"empty", "", true},
		{"dot file", ".vigil-bundle-x.tar.gz", true},
		{"control character", "vigil-bundle-a\n.tar.gz", true},
		{"too long", "vigil-bundle-" + strings.Repeat("a", 300) + ".tar.gz", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(base, strconv.Itoa(i), "a", "b")
			if err := os.MkdirAll(out, 0o700); err != nil {
				t.Fatal(err)
			}
			gomod := filepath.Join(out, "go.mod")
			if err := os.WriteFile(gomod, []byte("module mine\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var srv *debugtest.Server
			srv = debugtest.Start(t, debugtest.Options{Wrap: renaming(tt.bundle, func() string { return srv.Bundles.Dir() })})
			args := []string{"--socket", srv.Socket, "bundle"}
			if tt.toDir {
				args = append(args, "-f", out+"/")
			}
			before := files(t, base)
			r := clitest.Run(t, nil, args...)
			if r.Code != cmdutil.ExitError {
				t.Errorf("exit %d, want %d\n%s%s", r.Code, cmdutil.ExitError, r.Out, r.Err)
			}
			shown := strconv.Quote(tt.bundle)
			if len(shown) > 60 {
				shown = shown[:60]
			}
			if !strings.Contains(r.Err, shown) || !strings.Contains(r.Err, "not a bundle name") {
				t.Errorf("stderr %q; want it to name the bad name %s", r.Err, shown)
			}
			if after := files(t, base); !slices.Equal(before, after) {
				t.Errorf("files changed: before %v, after %v", before, after)
			}
			if b, _ := os.ReadFile(gomod); string(b) != "module mine\n" {
				t.Errorf("go.mod beside the output was overwritten: %q", b)
			}
		})
	}

	t.Run("a true name is saved", func(t *testing.T) {
		srv := debugtest.Start(t, debugtest.Options{})
		out := filepath.Join(base, "ok")
		if err := os.Mkdir(out, 0o700); err != nil {
			t.Fatal(err)
		}
		r := clitest.Run(t, nil, "--socket", srv.Socket, "bundle", "-f", out+"/")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		if got, _ := filepath.Glob(filepath.Join(out, "vigil-bundle-*.tar.gz")); len(got) != 1 {
			t.Errorf("saved %v; want one bundle in %s", got, out)
		}
	})
}

// files lists every file under dir with its size.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, path+" "+strconv.FormatInt(fi.Size(), 10))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
