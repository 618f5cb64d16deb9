// Package cmdutil is what every admin command of vigil shares (issue 19):
// the Factory that gives a command its streams, its clock and its client
// of the operations API; the flags that say which server to reach and how
// it is found; the context file; typed errors and the exit codes they map
// to. Its shape is diag's (diag/cli/cmdutil): one folder per verb under
// cmd/vigil/cli, each with an Options struct, NewCmdX(f, runF) and a run
// function that writes only through the injected IOStreams.
package cmdutil

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

// Factory is what a command gets from the root.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Now       func() time.Time
	// Getenv reads the environment (os.Getenv; tests set their own).
	Getenv func(string) string
	// Server holds the flags that say which server to reach.
	Server *ServerFlags
}

// ServerFlags say which operations API a command talks to and how.
type ServerFlags struct {
	Server    string
	TokenFile string
	Context   string
	CAFile    string
	Insecure  bool
	// RuntimeDir is where `vigil run` leaves api-PID.json for local
	// commands; see debugserver.DefaultDir.
	RuntimeDir string
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout is --request-timeout's default.
const DefaultRequestTimeout = 15 * time.Second

// Environment variables the server flags read when not given.
const (
	EnvServer    = "VIGIL_SERVER"
	EnvTokenFile = "VIGIL_TOKEN_FILE"
	EnvContext   = "VIGIL_CONTEXT"
)

// AddTo registers the server flags on fs: a command group's persistent
// flags (dags, runs, tasks, pools, ops, status), not the root's, because
// `vigil run` has its own --context (the kubeconfig's).
func (s *ServerFlags) AddTo(fs *pflag.FlagSet) {
	fs.StringVar(&s.Server, "server", "", "the operations API of a scheduler: http(s)://HOST:PORT ($"+EnvServer+")")
	fs.StringVar(&s.TokenFile, "token-file", "", "file holding the bearer token, mode 0600 ($"+EnvTokenFile+")")
	fs.StringVar(&s.Context, "context", "", "a context of the context file ($"+EnvContext+"; see 'vigil config get-contexts')")
	fs.StringVar(&s.CAFile, "certificate-authority", "", "PEM bundle to verify an https server with")
	fs.BoolVar(&s.Insecure, "insecure-skip-tls-verify", false, "do not verify an https server's certificate (tests only)")
	fs.StringVar(&s.RuntimeDir, "runtime-dir", "", "where a local 'vigil run' announces its API (default $VIGIL_RUNTIME_DIR, $XDG_RUNTIME_DIR/vigil or /tmp/vigil-UID)")
	fs.DurationVar(&s.RequestTimeout, "request-timeout", DefaultRequestTimeout, "deadline of each request to the server")
}

// AddServerFlags adds the server flags to a command group.
func (f *Factory) AddServerFlags(c *cobra.Command) {
	f.Server.AddTo(c.PersistentFlags())
}

// Env is f.Getenv(k), or os.Getenv(k).
func (f *Factory) Env(k string) string {
	if f.Getenv != nil {
		return f.Getenv(k)
	}
	return os.Getenv(k)
}

// Client resolves the server (see Resolve) and returns a client of it.
func (f *Factory) Client() (*client.Client, error) {
	t, err := f.Resolve()
	if err != nil {
		return nil, err
	}
	token := ""
	if t.TokenFile != "" {
		if token, err = ReadToken(t.TokenFile); err != nil {
			return nil, err
		}
	}
	return client.New(client.Config{Server: t.Server, Token: token, CAFile: t.CAFile, Insecure: t.Insecure})
}

// Context returns ctx bounded by --request-timeout: the deadline of one
// request.
func (f *Factory) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	d := f.Server.RequestTimeout
	if d <= 0 {
		d = DefaultRequestTimeout
	}
	return context.WithTimeout(ctx, d)
}
