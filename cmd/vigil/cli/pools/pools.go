// Package pools is `vigil pools`: list, set and delete pools, and who
// changed them, through the operations API.
package pools

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/internal/printer"
)

// NewCmdPools is the `pools` group.
func NewCmdPools(f *cmdutil.Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "pools",
		Short: "List, set and delete pools: concurrency limits shared by every scheduler",
		Long: `A pool is a named number of slots kept in the database. A task names its
pool with the DAG key pool: (default_pool if none) and takes pool_slots: of
its slots (1 by default) while queued or running. Every scheduler sharing
the database counts the same slots: a task is queued only if its slots fit,
in the same transaction that queues it, and otherwise waits, scheduled,
until a slot frees. default_pool has no limit until one is set.`,
	}
	f.AddServerFlags(c)
	c.AddCommand(NewCmdList(f, nil), NewCmdSet(f, nil), NewCmdDelete(f, nil), NewCmdHistory(f, nil))
	return c
}

// unlimited is the slots of a pool with no limit.
const unlimited = -1

func slotsText(n int) string {
	if n == unlimited {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

// ListOptions are `vigil pools list`'s.
type ListOptions struct {
	F       *cmdutil.Factory
	Ctx     context.Context
	Page    cmdutil.PageFlags
	Printer printer.Options
}

// NewCmdList is `vigil pools list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{F: f}
	c := &cobra.Command{
		Use:   "list",
		Short: "List pools with the slots their tasks take now, across all schedulers",
		Long: `List every pool: its slots, the slots its queued and running tasks take
(OCCUPIED, across every scheduler sharing the database), how many tasks are
queued and running, and how many wait to be queued (SCHEDULED: for their
upstreams or for a slot). A pool that tasks name but nobody created is
listed as MISSING; its tasks wait until it is set.`,
		Example: `  vigil pools list
  vigil pools list -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			opts.Ctx = c.Context()
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	opts.Page.Add(c, "pools")
	opts.Printer.AddFlags(c.Flags())
	return c
}

func listRun(opts *ListOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	pg, err := cl.Pools(ctx, opts.Page.List())
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if pg.Items == nil {
		pg.Items = []api.Pool{}
	}
	t := printer.NewTable("POOL", "SLOTS", "OCCUPIED", "QUEUED", "RUNNING", "SCHEDULED", "DESCRIPTION")
	for _, p := range pg.Items {
		slots, desc := slotsText(p.Slots), p.Description
		if p.Missing {
			slots, desc = "MISSING", "no such pool: vigil pools set "+p.Name+" --slots N"
		}
		t.Row(p.Name, slots, p.Occupied, p.Queued, p.Running, p.Scheduled, desc)
	}
	return cmdutil.PrintPage(opts.F, opts.Printer, pg, pg.NextCursor, t)
}

// SetOptions are `vigil pools set`'s.
type SetOptions struct {
	F    *cmdutil.Factory
	Ctx  context.Context
	Name string
	Set  api.PoolSet
	// KeepDescription: --description was not given, so the pool keeps
	// the one it has.
	KeepDescription bool
}

// NewCmdSet is `vigil pools set`.
func NewCmdSet(f *cmdutil.Factory, runF func(*SetOptions) error) *cobra.Command {
	opts := &SetOptions{F: f}
	c := &cobra.Command{
		Use:   "set POOL --slots N",
		Short: "Create a pool or change its slots",
		Long: `Create a pool or change its slots (and description). The change is
recorded with who made it and when ('vigil pools history'). Lowering the
slots below what tasks hold stops none of them: no more start until they
are under the new limit. --slots -1 removes the limit. Needs an operator token.`,
		Example: `  vigil pools set warehouse --slots 4 --description "the warehouse allows 4 connections"
  vigil pools set default_pool --slots 64`,
		Args: cmdutil.ExactArgs(1, "POOL"),
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("slots") {
				return cmdutil.Usagef("--slots is required: the number of slots, or -1 for no limit")
			}
			if opts.Set.Slots < unlimited {
				return cmdutil.Usagef("--slots %d: use 0 or more, or -1 for no limit", opts.Set.Slots)
			}
			opts.Name, opts.Ctx, opts.KeepDescription = args[0], c.Context(), !c.Flags().Changed("description")
			if runF != nil {
				return runF(opts)
			}
			return setRun(opts)
		},
	}
	c.Flags().IntVar(&opts.Set.Slots, "slots", 0, "slots of the pool; -1 for no limit")
	c.Flags().StringVar(&opts.Set.Description, "description", "", "what the pool limits")
	c.Flags().StringVar(&opts.Set.Reason, "reason", "", "why, for the pools' history")
	return c
}

func setRun(opts *SetOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	if opts.KeepDescription {
		// Keep the description when only the slots change.
		pg, err := cl.Pools(ctx, cmdutil.PageFlags{}.List())
		if err != nil {
			return cmdutil.ExplainUnreachable(err, cl.Server())
		}
		for _, p := range pg.Items {
			if p.Name == opts.Name {
				opts.Set.Description = p.Description
			}
		}
	}
	p, err := cl.SetPool(ctx, opts.Name, opts.Set)
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	fmt.Fprintf(opts.F.IOStreams.Out, "pool %s: %s slots\n", p.Name, slotsText(p.Slots))
	return nil
}

// DeleteOptions are `vigil pools delete`'s.
type DeleteOptions struct {
	F      *cmdutil.Factory
	Ctx    context.Context
	Name   string
	Reason string
}

// NewCmdDelete is `vigil pools delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{F: f}
	c := &cobra.Command{
		Use:   "delete POOL",
		Short: "Delete a pool no running or queued task holds slots of",
		Long: `Delete a pool. It is refused while queued or running tasks hold its slots
(they are named); tasks that name a deleted pool wait until it is set
again. default_pool cannot be deleted. Needs an operator token.`,
		Example: `  vigil pools delete warehouse`,
		Args:    cmdutil.ExactArgs(1, "POOL"),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Name, opts.Ctx = args[0], c.Context()
			if runF != nil {
				return runF(opts)
			}
			return deleteRun(opts)
		},
	}
	c.Flags().StringVar(&opts.Reason, "reason", "", "why, for the pools' history")
	return c
}

func deleteRun(opts *DeleteOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	if err := cl.DeletePool(ctx, opts.Name, opts.Reason); err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	fmt.Fprintf(opts.F.IOStreams.Out, "deleted pool %s\n", opts.Name)
	return nil
}

// HistoryOptions are `vigil pools history`'s.
type HistoryOptions struct {
	F       *cmdutil.Factory
	Ctx     context.Context
	Name    string
	Page    cmdutil.PageFlags
	Printer printer.Options
}

// NewCmdHistory is `vigil pools history`.
func NewCmdHistory(f *cmdutil.Factory, runF func(*HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{F: f}
	c := &cobra.Command{
		Use:   "history [POOL]",
		Short: "Show who set or deleted pools, and when",
		Example: `  vigil pools history
  vigil pools history warehouse -o json`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.Usagef("%s takes at most one POOL; got %q", c.CommandPath(), args)
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if err := opts.Printer.Validate(); err != nil {
				return err
			}
			opts.Ctx = c.Context()
			if runF != nil {
				return runF(opts)
			}
			return historyRun(opts)
		},
	}
	opts.Page.Add(c, "changes")
	opts.Printer.AddFlags(c.Flags())
	return c
}

func historyRun(opts *HistoryOptions) error {
	cl, err := opts.F.Client()
	if err != nil {
		return err
	}
	ctx, cancel := opts.F.Context(opts.Ctx)
	defer cancel()
	pg, err := cl.PoolHistory(ctx, opts.Name, opts.Page.List())
	if err != nil {
		return cmdutil.ExplainUnreachable(err, cl.Server())
	}
	if pg.Items == nil {
		pg.Items = []api.PoolChange{}
	}
	t := printer.NewTable("AT", "POOL", "ACTION", "SLOTS", "BY", "DESCRIPTION", "REASON")
	for _, ch := range pg.Items {
		slots := slotsText(ch.Slots)
		if ch.PrevSlots != nil && ch.Action == "set" {
			slots = slotsText(*ch.PrevSlots) + " → " + slots
		}
		t.Row(cmdutil.Stamp(ch.At), ch.Pool, ch.Action, slots, ch.By, cmdutil.OrDash(ch.Description), cmdutil.OrDash(ch.Reason))
	}
	return cmdutil.PrintPage(opts.F, opts.Printer, pg, pg.NextCursor, t)
}
