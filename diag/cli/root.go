// Package cli is the diag command: the on-call engineer's client of a Vigil
// scheduler's debug API. One folder per verb (attach, stacks, hangs, ...),
// each with an Options struct, NewCmdX(f, runF) and a run function that
// writes only through the injected IOStreams; Main maps errors to exit
// codes in one place.
//
// diag imports nothing from the scheduler: it speaks the versioned debug
// API (package debugserver) over the scheduler's unix socket, a loopback
// address, or, with --pod, a Kubernetes exec stream into the pod.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/diag/cli/attach"
	"github.com/vigilhq/vigil/diag/cli/bridge"
	"github.com/vigilhq/vigil/diag/cli/bundle"
	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/hangs"
	"github.com/vigilhq/vigil/diag/cli/health"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/cli/kubepod"
	"github.com/vigilhq/vigil/diag/cli/loglevel"
	"github.com/vigilhq/vigil/diag/cli/profile"
	"github.com/vigilhq/vigil/diag/cli/restart"
	"github.com/vigilhq/vigil/diag/cli/stacks"
	"github.com/vigilhq/vigil/diag/cli/tasks"
	"github.com/vigilhq/vigil/diag/cli/trace"
	"github.com/vigilhq/vigil/diag/cli/version"
	"github.com/vigilhq/vigil/diag/cli/vet"
)

// Extra adds commands to the root; other diag packages (vet, pod
// transport, profile) register through it so this package stays small.
type Extra func(f *cmdutil.Factory, root *cobra.Command)

// NewRootCmd builds the diag command tree on f.
func NewRootCmd(f *cmdutil.Factory, extras ...Extra) *cobra.Command {
	// Installed as a kubectl plugin (kubectl-diag), help and usage say
	// "kubectl diag". Use keeps one word: cobra takes a command's name
	// from it, and "kubectl diag" would make every path "kubectl attach".
	var ann map[string]string
	plugin := asPlugin(os.Args[0])
	if plugin {
		ann = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl diag"}
	}
	root := &cobra.Command{
		Use:         "diag <command>",
		Annotations: ann,
		Short:       "See what a Vigil scheduler is doing, and why",
		Long: `diag shows what a running Vigil scheduler is doing, with no rebuild, no restart
and no extra capability: it talks to the scheduler's debug API on its local
socket (the default, from inside the pod), a loopback address, or through the
Kubernetes exec API with --pod.

When you are paged for a stale heartbeat, start with:

  diag attach                       # inside the pod: kubectl exec deploy/vigil-scheduler -- diag attach
  diag attach --pod deploy/vigil-scheduler -n vigil
  diag hangs                        # only what can hang; exit status 1 if anything is found`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Example: `  diag attach --watch
  diag stacks --min-wait 30s --match kube
  diag profile cpu --seconds 10
  diag bundle -f incident.tar.gz`,
	}
	root.SetHelpTemplate(root.HelpTemplate() + "\n" + cmdutil.ExitCodesHelp + "\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.UsageError{Err: err} })
	f.Target.AddTo(root.PersistentFlags())
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)

	root.AddCommand(
		attach.NewCmdAttach(f, nil),
		bridge.NewCmdBridge(f, nil),
		stacks.NewCmdStacks(f, nil),
		tasks.NewCmdTasks(f, nil),
		hangs.NewCmdHangs(f, nil),
		health.NewCmdHealth(f, nil),
		version.NewCmdVersion(f, nil),
		profile.NewCmdProfile(f, nil),
		trace.NewCmdTrace(f, nil),
		loglevel.NewCmdLogLevel(f, nil),
		bundle.NewCmdBundle(f, nil),
		restart.NewCmdRestart(f, nil),
		vet.NewCmdVet(f, nil),
	)
	for _, e := range extras {
		e(f, root)
	}
	kubepod.RegisterCompletions(root, f.Target)
	if plugin {
		pluginExamples(root)
	}
	cmdutil.RefuseUnknownSubcommands(root)
	return root
}

// NewFactory returns a Factory on the process's own streams.
func NewFactory(ios *iostreams.IOStreams, ver string) *cmdutil.Factory {
	return &cmdutil.Factory{IOStreams: ios, Now: time.Now, Version: ver, Target: &cmdutil.TargetFlags{},
		PodDialer: kubepod.PodDialer}
}

// Main runs diag with args and returns the exit status. Ctrl-C ends the
// command's context, so a long capture stops cleanly.
func Main(args []string, ios *iostreams.IOStreams, ver string, extras ...Extra) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return MainContext(ctx, args, ios, ver, extras...)
}

// MainContext is Main under ctx, without signal handling (for tests).
func MainContext(ctx context.Context, args []string, ios *iostreams.IOStreams, ver string, extras ...Extra) int {
	f := NewFactory(ios, ver)
	root := NewRootCmd(f, extras...)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		var found *cmdutil.FoundError
		switch {
		case errors.As(err, &found):
			if found.Msg != "" {
				fmt.Fprintln(ios.ErrOut, found.Msg)
			}
		default:
			fmt.Fprintln(ios.ErrOut, "diag:", err)
			if cmdutil.IsUsage(err) {
				fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
			}
		}
	}
	return cmdutil.ExitCode(err)
}
