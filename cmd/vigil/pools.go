package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/scheduler"
)

func (a *app) poolsCmd() *cobra.Command {
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
	c.AddCommand(a.poolsListCmd(), a.poolsSetCmd(), a.poolsDeleteCmd(), a.poolsHistoryCmd())
	return c
}

// withPools runs f on the configured store's pools.
func (a *app) withPools(f func(ctx context.Context, ps scheduler.PoolStore) error) error {
	return a.withStore(func(ctx context.Context, cfg config, st scheduler.Store) error {
		ps, ok := st.(scheduler.PoolStore)
		if !ok {
			return fmt.Errorf("the store %T keeps no pools", st)
		}
		return f(ctx, ps)
	})
}

func slotsText(n int) string {
	if n == scheduler.UnlimitedSlots {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func (a *app) poolsListCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "list",
		Short: "List pools with the slots their tasks take now, across all schedulers",
		Long: `List every pool: its slots, the slots its queued and running tasks take
(OCCUPIED, across every scheduler sharing the database), how many tasks are
queued and running, and how many wait to be queued (SCHEDULED: for their
upstreams or for a slot). A pool that tasks name but nobody created is
listed as missing; its tasks wait until it is set.`,
		Example: `  vigil pools list
  vigil pools list -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return a.withPools(func(ctx context.Context, ps scheduler.PoolStore) error {
				pools, err := ps.ListPools(ctx)
				if err != nil {
					return err
				}
				return a.render(pools, func(w io.Writer) {
					row(w, "POOL", "SLOTS", "OCCUPIED", "QUEUED", "RUNNING", "SCHEDULED", "DESCRIPTION")
					for _, p := range pools {
						slots, desc := slotsText(p.Slots), p.Description
						if p.Missing {
							slots, desc = "MISSING", "no such pool: vigil pools set "+p.Name+" --slots N"
						}
						row(w, p.Name, slots, p.Occupied, p.Queued, p.Running, p.Scheduled, desc)
					}
				})
			})
		},
	}
	a.addOutputFlag(c)
	return c
}

func (a *app) poolsSetCmd() *cobra.Command {
	var slots int
	var desc string
	c := &cobra.Command{
		Use:   "set POOL --slots N",
		Short: "Create a pool or change its slots",
		Long: `Create a pool or change its slots (and description). The change is
recorded with who made it and when ('vigil pools history'). Lowering the
slots below what tasks hold stops none of them: no more start until they
are under the new limit. --slots -1 removes the limit.`,
		Example: `  vigil pools set warehouse --slots 4 --description "the warehouse allows 4 connections"
  vigil pools set default_pool --slots 64`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("slots") {
				return &usageError{errors.New("--slots is required: the number of slots, or -1 for no limit")}
			}
			return a.withPools(func(ctx context.Context, ps scheduler.PoolStore) error {
				if !c.Flags().Changed("description") {
					// Keep the description when only the slots change.
					if cur, err := findPool(ctx, ps, args[0]); err == nil && !cur.Missing {
						desc = cur.Description
					}
				}
				p := scheduler.Pool{Name: args[0], Slots: slots, Description: desc, UpdatedAt: time.Now(),
					UpdatedBy: scheduler.Actor{Component: "cli", Instance: cliInstance()}}
				if err := scheduler.CheckPool(p); err != nil {
					return &usageError{err}
				}
				if err := ps.SetPool(ctx, p); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "pool %s: %s slots\n", p.Name, slotsText(p.Slots))
				return nil
			})
		},
	}
	c.Flags().IntVar(&slots, "slots", 0, "slots of the pool; -1 for no limit")
	c.Flags().StringVar(&desc, "description", "", "what the pool limits")
	return c
}

func findPool(ctx context.Context, ps scheduler.PoolStore, name string) (scheduler.PoolStatus, error) {
	pools, err := ps.ListPools(ctx)
	if err != nil {
		return scheduler.PoolStatus{}, err
	}
	for _, p := range pools {
		if p.Name == name {
			return p, nil
		}
	}
	return scheduler.PoolStatus{}, scheduler.ErrNotFound
}

func (a *app) poolsDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete POOL",
		Short: "Delete a pool no running or queued task holds slots of",
		Long: `Delete a pool. It is refused while queued or running tasks hold its slots
(they are named); tasks that name a deleted pool wait until it is set
again. default_pool cannot be deleted.`,
		Example: `  vigil pools delete warehouse`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.withPools(func(ctx context.Context, ps scheduler.PoolStore) error {
				err := ps.DeletePool(ctx, args[0], scheduler.Actor{Component: "cli", Instance: cliInstance()}, time.Now(), "")
				if errors.Is(err, scheduler.ErrNotFound) {
					return fmt.Errorf("%w (see 'vigil pools list')", err)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "deleted pool %s\n", args[0])
				return nil
			})
		},
	}
}

func (a *app) poolsHistoryCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "history [POOL]",
		Short: "Show who set or deleted pools, and when",
		Example: `  vigil pools history
  vigil pools history warehouse -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return a.withPools(func(ctx context.Context, ps scheduler.PoolStore) error {
				changes, err := ps.PoolHistory(ctx, name)
				if err != nil {
					return err
				}
				if changes == nil {
					changes = []scheduler.PoolChange{}
				}
				return a.render(changes, func(w io.Writer) {
					row(w, "AT", "POOL", "ACTION", "SLOTS", "BY", "DESCRIPTION")
					for _, ch := range changes {
						slots := slotsText(ch.Slots)
						if ch.PrevSlots != nil && ch.Action == "set" {
							slots = slotsText(*ch.PrevSlots) + " → " + slots
						}
						row(w, stamp(ch.At), ch.Pool, ch.Action, slots, ch.By, ch.Description)
					}
				})
			})
		},
	}
	a.addOutputFlag(c)
	return c
}
