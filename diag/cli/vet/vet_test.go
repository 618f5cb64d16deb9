package vet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

const goMod = "module example.com/m\n\ngo 1.26\n"

const hanging = `package m

import "net/http"

func Fetch(u string) (*http.Response, error) {
	return http.Get(u)
}
`

const bounded = `package m

import (
	"context"
	"net/http"
	"time"
)

func Fetch(ctx context.Context, u string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: time.Minute}
	return c.Do(req)
}
`

const suppressed = `package m

import "net/http"

func Fetch(u string) (*http.Response, error) {
	//diag:ignore u is a loopback test server
	return http.Get(u)
}
`

const broken = `package m

func Fetch() { return 1 }
`

// module writes a one-package module with m.go holding src.
func module(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": goMod, "m.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestVet(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		args   []string
		code   int
		out    []string // substrings of stdout
		errOut string   // substring of stderr (the message Main prints)
		noOut  bool
	}{
		{name: "found", src: hanging, args: []string{"./..."}, code: cmdutil.ExitFound,
			out:    []string{"m.go:6:9: http.Get uses http.DefaultClient, which has no Timeout", "[httpclient]"},
			errOut: "diag vet: 1 finding"},
		{name: "default package", src: hanging, code: cmdutil.ExitFound, out: []string{"m.go:6:9: http.Get"}},
		{name: "clean", src: bounded, args: []string{"./..."}, code: cmdutil.ExitOK, noOut: true},
		{name: "suppressed", src: suppressed, args: []string{"."}, code: cmdutil.ExitOK, noOut: true},
		{name: "bad output flag", src: hanging, args: []string{"-o", "xml", "."}, code: cmdutil.ExitUsage},
		{name: "does not compile", src: broken, args: []string{"."}, code: cmdutil.ExitError, errOut: "packages do not load"},
		{name: "no such package", src: bounded, args: []string{"./nope"}, code: cmdutil.ExitError, errOut: "packages do not load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runVet(t, module(t, tt.src), tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.out {
				if !strings.Contains(out, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, out)
				}
			}
			if tt.noOut && out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.errOut) {
				t.Errorf("error %q does not contain %q", errOut, tt.errOut)
			}
		})
	}
}

func TestVetJSON(t *testing.T) {
	code, out, _ := runVet(t, module(t, hanging), "-o", "json", "./...")
	if code != cmdutil.ExitFound {
		t.Fatalf("exit status %d, want %d", code, cmdutil.ExitFound)
	}
	var got []Finding
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(got), got)
	}
	f := got[0]
	if f.File != "m.go" || f.Line != 6 || f.Column != 9 || f.Analyzer != "httpclient" || !strings.HasPrefix(f.Message, "http.Get uses http.DefaultClient") {
		t.Errorf("finding = %+v", f)
	}

	code, out, _ = runVet(t, module(t, bounded), "-o", "json", "./...")
	if code != cmdutil.ExitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("clean -o json: exit status %d, output %q; want 0 and []", code, out)
	}
}

// runVet runs `diag vet args...` in dir as Main would and returns the
// exit status, stdout, and the error Main would print on stderr.
func runVet(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios}
	cmd := NewCmdVet(f, func(opts *Options) error {
		opts.Dir = dir
		return run(context.Background(), opts)
	})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Err: err} })
	err := cmd.ExecuteContext(context.Background())
	msg := errOut.String()
	if err != nil {
		msg += err.Error()
	}
	return cmdutil.ExitCode(err), out.String(), msg
}

// TestVetModuleFacts checks that diag vet on one package still knows
// what a package of its module it imports returns (the facts need that
// package's source), and reports only on the package named.
func TestVetModuleFacts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": goMod,
		"m.go": `package m

import (
	"net/http"

	"example.com/m/httpx"
)

func Fetch(u string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return httpx.Timed().Do(req)
}

func Poll(u string) (*http.Response, error) { return httpx.Bare().Get(u) }
`,
		"httpx/httpx.go": `package httpx

import (
	"net/http"
	"time"
)

func Timed() *http.Client { return &http.Client{Timeout: time.Minute} }

func Bare() *http.Client { return &http.Client{} }

func Own(u string) (*http.Response, error) { return http.Get(u) }
`,
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runVet(t, dir, ".")
	if code != cmdutil.ExitFound {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, cmdutil.ExitFound, out, errOut)
	}
	want := "m.go:17:54: Get on an http.Client without Timeout (built at httpx.go:10, returned by httpx.Bare)"
	if !strings.Contains(out, want) {
		t.Errorf("stdout does not contain %q:\n%s", want, out)
	}
	for _, not := range []string{"http.NewRequest", "httpx/httpx.go"} {
		if strings.Contains(out, not) {
			t.Errorf("stdout contains %q (a request on a client with Timeout, or a package not named):\n%s", not, out)
		}
	}
	if !strings.Contains(errOut, "1 finding") {
		t.Errorf("stderr %q, want 1 finding", errOut)
	}
}
