package clicfg

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/exitcode"
)

func TestNewCmdSetContextFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Server: &cmdutil.ServerFlags{}}
	var got *Options
	c := NewCmdSetContext(f, func(o *Options) error { got = o; return nil })
	c.SetArgs([]string{"prod", "--server", "https://vigil:8975", "--token-file", "/t", "--current"})
	c.SetOut(io.Discard)
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Name != "prod" || got.Context.Server != "https://vigil:8975" || !got.Changed["token-file"] || got.Changed["certificate-authority"] || !got.Current {
		t.Errorf("options %+v", got)
	}
}

// TestConfigCommands runs the context commands on a real file.
func TestConfigCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contexts.yaml")
	env := map[string]string{"VIGIL_CONTEXTS": path}
	run := func(args ...string) (string, error) {
		ios, _, out, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Server: &cmdutil.ServerFlags{}, Getenv: func(k string) string { return env[k] }}
		c := NewCmdConfig(f)
		c.SetArgs(args)
		c.SetOut(io.Discard)
		c.SetErr(io.Discard)
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Err: err} })
		err := c.Execute()
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("config %v: %v", args, err)
		}
		return out
	}
	must("set-context", "prod", "--server", "https://vigil:8975", "--token-file", "/prod.token")
	must("set-context", "dev", "--server", "http://127.0.0.1:8975", "--current")
	must("set-context", "prod", "--certificate-authority", "/ca.pem") // keeps server and token file
	out := must("get-contexts", "--no-headers")
	if !strings.Contains(out, "*  dev   http://127.0.0.1:8975") || !strings.Contains(out, "prod  https://vigil:8975     /prod.token") || strings.Contains(out, "CURRENT") {
		t.Errorf("get-contexts:\n%s", out)
	}
	must("use-context", "prod")
	cf, err := cmdutil.LoadContexts(path)
	if err != nil {
		t.Fatal(err)
	}
	if prod, _ := cf.Get("prod"); cf.CurrentContext != "prod" || prod.CAFile != "/ca.pem" || prod.TokenFile != "/prod.token" {
		t.Errorf("file after use-context: %+v", cf)
	}
	if out := must("view"); !strings.Contains(out, "current-context: prod") || !bytes.Contains([]byte(out), []byte("certificate-authority: /ca.pem")) {
		t.Errorf("view:\n%s", out)
	}
	// -o json and yaml: the grammar's snake_case names, not Go's or the
	// file's.
	for _, args := range [][]string{{"view", "-o", "json"}, {"get-contexts", "-o", "json"}} {
		out := must(args...)
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("config %v: %v\n%s", args, err, out)
		}
		if got["current_context"] != "prod" || got["path"] != path || strings.Contains(out, "CurrentContext") || !strings.Contains(out, `"certificate_authority": "/ca.pem"`) {
			t.Errorf("config %v:\n%s", args, out)
		}
	}
	if out := must("view", "-o", "jsonpath={.contexts[*].name}"); out != "prod dev\n" && out != "dev prod\n" {
		t.Errorf("view -o jsonpath: %q", out)
	}
	if out := must("view", "-o", "yaml"); !strings.Contains(out, "current_context: prod") {
		t.Errorf("view -o yaml:\n%s", out)
	}
	must("delete-context", "dev")
	for _, args := range [][]string{{"use-context", "dev"}, {"delete-context", "dev"}, {"set-context", "x"}, {"set-context", "x", "--server", "vigil:1"}} {
		if _, err := run(args...); cmdutil.ExitCode(err) != exitcode.Usage {
			t.Errorf("config %v: %v; want a usage error", args, err)
		}
	}
}
