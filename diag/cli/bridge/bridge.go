// Package bridge is `diag bridge`, a hidden verb: it connects its standard
// input and output to the local scheduler's debug socket. `diag --pod`
// runs it in the scheduler's pod through the Kubernetes exec API, so the
// debug API is reached with the pods/exec permission alone and nothing new
// listens on the pod's network.
package bridge

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
)

// Options are `diag bridge`'s.
type Options struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory
}

// NewCmdBridge returns `diag bridge`.
func NewCmdBridge(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		Use:    "bridge",
		Short:  "Connect standard input and output to the local debug socket (used by --pod)",
		Hidden: true,
		Args:   cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
}

func run(ctx context.Context, opts *Options) error {
	t := opts.Factory.Target
	path := t.Socket
	if path == "" {
		found, err := client.FindSocket(t.Dir)
		if err != nil {
			return err
		}
		path = found
	}
	dctx, cancel := opts.Factory.Context(ctx, 0)
	defer cancel()
	conn, err := client.DialSocket(dctx, path)
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, opts.IO.In)
		// The client closed its side: the server finishes its answer,
		// sees the end of input and closes the connection.
		if uc, ok := conn.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		}
	}()
	out := make(chan error, 1)
	go func() {
		_, err := io.Copy(opts.IO.Out, conn)
		out <- err
	}()
	select {
	case <-ctx.Done():
		return nil
	case err := <-out:
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return err
	}
}
