package buildinfo

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestFrom(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name       string
		stamped    string
		stampedRev string
		bi         *debug.BuildInfo
		want       Info
	}{
		{"stamped tag", "v1.4.0", rev, vcs("false"), Info{Version: "v1.4.0", Revision: rev}},
		{"stamped dirty", "v1.4.0-2-g0123456-dirty", rev, vcs("true"), Info{Version: "v1.4.0-2-g0123456-dirty", Revision: rev, Modified: true}},
		{"stamped without vcs info", "0123456", "", nil, Info{Version: "0123456"}},
		{"go build, clean", "", "", vcs("false"), Info{Version: "devel-0123456789ab", Revision: rev}},
		{"go build, dirty", "", "", vcs("true"), Info{Version: "devel-0123456789ab-dirty", Revision: rev, Modified: true}},
		{"go install @version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, Info{Version: "v1.2.3"}},
		{"no vcs info", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, Info{Version: "devel"}},
		{"no build info", "", "", nil, Info{Version: "devel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.GoVersion = runtime.Version()
			if got := from(tt.stamped, tt.stampedRev, tt.bi); got != tt.want {
				t.Errorf("from(%q, %q) = %+v, want %+v", tt.stamped, tt.stampedRev, got, tt.want)
			}
		})
	}
}

// TestBuiltBinary builds diag as `make build` does (with -ldflags -X)
// and as a plain `go build`, and reads the version each reports.
//
// The toolchain records the VCS revision only in a checkout whose .git is
// a folder (not in a git worktree) and with -buildvcs on, so the plain
// build runs in a throwaway clone of HEAD with this tree's files copied
// over: it is dirty exactly when this tree is.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds diag twice")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	run := func(dir, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("%s %s (in %s): %v\n%s%s", name, strings.Join(args, " "), dir, err, out, stderr)
		}
		return string(out)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on $PATH")
	}
	top := strings.TrimSpace(run(".", "git", "rev-parse", "--show-toplevel"))
	head := strings.TrimSpace(run(top, "git", "rev-parse", "HEAD"))
	dirty := strings.TrimSpace(run(top, "git", "status", "--porcelain")) != ""
	bins := t.TempDir()
	version := func(dir, name string, args ...string) Info {
		t.Helper()
		bin := filepath.Join(bins, name)
		build := append([]string{"build", "-trimpath", "-o", bin}, args...)
		run(dir, "go", append(build, "./cmd/diag")...)
		var res struct {
			Diag Info `json:"diag"`
		}
		out := run(dir, bin, "version", "-o", "json")
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s version -o json: %v\n%s", name, err, out)
		}
		return res.Diag
	}

	t.Run("ldflags", func(t *testing.T) {
		got := version(top, "diag-stamped", "-ldflags",
			"-X github.com/vigilhq/vigil/internal/buildinfo.version=v9.8.7-test -X github.com/vigilhq/vigil/internal/buildinfo.revision="+head)
		if got.Version != "v9.8.7-test" || got.Revision != head {
			t.Errorf("stamped build: version %q revision %q, want v9.8.7-test and %s", got.Version, got.Revision, head)
		}
	})
	t.Run("plain go build", func(t *testing.T) {
		clone := filepath.Join(t.TempDir(), "vigil")
		run(top, "git", "clone", "--quiet", "--shared", "--no-checkout", top, clone)
		run(clone, "git", "checkout", "--quiet", "--detach", head)
		// This tree's files as they are, committed or not.
		files := strings.Split(strings.TrimRight(run(top, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"), "\x00"), "\x00")
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(top, f))
			if errors.Is(err, fs.ErrNotExist) {
				_ = os.Remove(filepath.Join(clone, f)) // deleted here, not committed
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(clone, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(clone, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got := version(clone, "diag-plain")
		want := "devel-" + head[:12]
		if dirty {
			want += "-dirty"
		}
		if got.Version != want || got.Revision != head || got.Modified != dirty {
			t.Errorf("plain build: %+v, want version %q revision %s modified %v", got, want, head, dirty)
		}
		if !regexp.MustCompile(`^devel-[0-9a-f]{12}(-dirty)?$`).MatchString(got.Version) {
			t.Errorf("plain build: version %q is not devel-<12 hex>[-dirty]", got.Version)
		}
	})
}
