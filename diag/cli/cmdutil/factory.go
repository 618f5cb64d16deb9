// Package cmdutil is what every diag verb shares: the Factory that gives a
// command its streams, its clock and its client of the debug API; the
// target flags; exit codes. Output goes through internal/printer.
package cmdutil

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
)

// Factory is what a command gets from the root: injected so tests can
// run a command against a real scheduler with captured output and a
// fixed clock.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Now       func() time.Time
	// Version is diag's own version, for `diag version`.
	Version string
	// Target holds the target flags; Client builds from it.
	Target *TargetFlags
	// PodDialer, if set, reaches a scheduler in a pod (--pod); the root
	// command sets it. It returns a dial function and a description.
	PodDialer func(ctx context.Context, t *TargetFlags) (func(context.Context) (net.Conn, error), string, error)
}

// TargetFlags say which scheduler a command talks to.
type TargetFlags struct {
	Socket    string
	Dir       string
	Addr      string
	TokenFile string
	// Pod is a pod name, pod/NAME, deploy/NAME or statefulset/NAME; Kube
	// holds kubectl's flags (--kubeconfig, --context, -n, --server,
	// --token, --as, --request-timeout ...).
	Pod  string
	Kube *genericclioptions.ConfigFlags
	// Container is the pod's container to run diag in (-c); DiagPath is
	// the diag binary there. Socket and Dir, given with --pod, are passed
	// to `diag bridge` in the pod.
	Container string
	DiagPath  string
	// Timeout bounds each request (a profile's own duration is added).
	Timeout time.Duration
}

// AddTo registers the target flags on fs (the root's persistent flags).
func (t *TargetFlags) AddTo(fs *pflag.FlagSet) {
	fs.StringVar(&t.Socket, "socket", "", "the scheduler's debug socket (default: the only live one in the runtime dir)")
	fs.StringVar(&t.Dir, "runtime-dir", "", "where to look for debug sockets (default $VIGIL_RUNTIME_DIR, $XDG_RUNTIME_DIR/vigil or /tmp/vigil-UID)")
	fs.StringVar(&t.Addr, "addr", "", "the scheduler's loopback debug address, HOST:PORT (with --token-file)")
	fs.StringVar(&t.TokenFile, "token-file", "", "file holding the bearer token for --addr")
	fs.StringVar(&t.Pod, "pod", "", "reach the scheduler in this pod (NAME, pod/NAME, deploy/NAME or statefulset/NAME) through the Kubernetes exec API")
	fs.StringVarP(&t.Container, "container", "c", "", "with --pod: the container to run diag in (default: the pod's default container)")
	fs.StringVar(&t.DiagPath, "diag-path", "diag", "with --pod: the diag binary inside the pod")
	fs.DurationVar(&t.Timeout, "timeout", 10*time.Second, "deadline of each request to the scheduler (and, without --request-timeout, of each Kubernetes API call)")
	// kubectl's own flags, as kubectl users know them (--kubeconfig,
	// --context, -n, --server, --token, --as, --request-timeout ...).
	t.Kube = genericclioptions.NewConfigFlags(false)
	t.Kube.AddFlags(fs)
	// kubectl's 0 is "no timeout"; diag's calls always have one.
	fs.Lookup("request-timeout").Usage = "deadline of each Kubernetes API call (5s, 1m); 0 uses --timeout, so no call waits forever"
	// diag makes no discovery calls, so kubectl's discovery cache is unused.
	_ = fs.MarkHidden("cache-dir")
}

// Client returns a client of the chosen scheduler's debug API.
func (f *Factory) Client(ctx context.Context) (*client.Client, error) {
	t := f.Target
	set := 0
	for _, v := range []string{t.Socket, t.Addr, t.Pod} {
		if v != "" {
			set++
		}
	}
	// With --pod, --socket names the socket inside the pod.
	if t.Pod != "" && t.Socket != "" {
		set--
	}
	if set > 1 {
		return nil, Usagef("give at most one of --socket, --addr and --pod (with --pod, --socket is the socket inside the pod)")
	}
	ct := client.Target{Socket: t.Socket, Dir: t.Dir, Addr: t.Addr}
	if t.Addr != "" {
		if t.TokenFile == "" {
			return nil, Usagef("--addr needs --token-file: the TCP listener requires a bearer token")
		}
		ct.TokenFile = t.TokenFile
	}
	if t.Pod != "" {
		if f.PodDialer == nil {
			return nil, fmt.Errorf("--pod is not available in this build")
		}
		dial, name, err := f.PodDialer(ctx, t)
		if err != nil {
			return nil, err
		}
		ct.Dial, ct.Name = dial, name
	}
	return client.New(ct)
}

// Context returns ctx bounded by the request timeout plus extra (the
// duration of a timed profile or a watch interval).
func (f *Factory) Context(ctx context.Context, extra time.Duration) (context.Context, context.CancelFunc) {
	d := f.Target.Timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	return context.WithTimeout(ctx, d+extra)
}

// NoArgs is cobra.NoArgs with a UsageError.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("%s takes no arguments; got %q", cmd.CommandPath(), args)
	}
	return nil
}
