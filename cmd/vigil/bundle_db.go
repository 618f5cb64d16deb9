package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres"
)

// The bundle parts that read the database. The database may be the very
// thing that is stuck: tasks.json used to wait out a store call's 20 s on
// a locked table, so the bundle, and the evidence in it, came 30 s late
// (issue 16). These parts get short deadlines of their own, write what
// they got and why they stopped, and name who holds the lock when the
// database can tell.
const (
	// dbPartTimeout bounds a database part as a whole.
	dbPartTimeout = 5 * time.Second
	// dbListTimeout bounds tasks.json's query, leaving the rest of
	// dbPartTimeout to ask who holds the lock it may be waiting on.
	dbListTimeout = 3 * time.Second
	// lockReportTimeout bounds db-locks.json.
	lockReportTimeout = 3 * time.Second
	// lockProbeAfter is how long tasks.json's query may take before the
	// part asks who holds the database's locks.
	lockProbeAfter = time.Second
)

// lockReport says who holds the database locks others wait for; nil when
// the store cannot tell.
type lockReport func(ctx context.Context) ([]postgres.LockWait, error)

// storeLocks returns the lock report of a store that has one.
func storeLocks(st any) lockReport {
	if pg, ok := st.(interface {
		LockWaits(context.Context) ([]postgres.LockWait, error)
	}); ok {
		return pg.LockWaits
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// tasksPart is tasks.json: the queued and running task instances.
func (in *instruments) tasksPart() bundle.Part {
	return bundle.Part{Name: "tasks.json", Timeout: dbPartTimeout, Write: func(ctx context.Context, w io.Writer) error {
		tasks, locks, _ := in.storeFuncs()
		if tasks == nil {
			return fmt.Errorf("the store is not open yet")
		}
		type result struct {
			tis []scheduler.TaskInstance
			err error
		}
		listed := make(chan result, 1)
		lctx, cancel := context.WithTimeout(ctx, dbListTimeout)
		defer cancel()
		go func() {
			tis, err := tasks(lctx)
			listed <- result{tis, err}
		}()
		var r result
		var waits []postgres.LockWait
		var lockErr error
		probe := time.NewTimer(lockProbeAfter)
		defer probe.Stop()
		select {
		case r = <-listed:
		case <-probe.C:
			// Slow: ask who holds the locks while the query still waits
			// (once it gives up, nobody waits any more).
			if locks != nil {
				waits, lockErr = locks(ctx)
			}
			r = <-listed
		}
		if r.err == nil {
			return writeJSON(w, r.tis)
		}
		err := fmt.Errorf("list queued and running tasks: %w", r.err)
		if errors.Is(r.err, context.DeadlineExceeded) {
			err = fmt.Errorf("list queued and running tasks: timed out after %s: %w", dbListTimeout, r.err)
		}
		switch who := postgres.DescribeLockWaits(waits); {
		case lockErr != nil:
			err = fmt.Errorf("%w; who holds the database's locks is unknown too: %v", err, lockErr)
		case who != "":
			err = fmt.Errorf("%w; the database is waiting on a lock: %s (see db-locks.json)", err, who)
		}
		return err
	}}
}

// dbLocks is db-locks.json.
type dbLocks struct {
	// Summary is DescribeLockWaits of Waits.
	Summary string              `json:"summary,omitempty"`
	Waits   []postgres.LockWait `json:"waits"`
	// Note says why there is nothing to show.
	Note string `json:"note,omitempty"`
}

// dbLocksPart is db-locks.json: who waits for a database lock and who
// holds it.
func (in *instruments) dbLocksPart() bundle.Part {
	return bundle.Part{Name: "db-locks.json", Timeout: lockReportTimeout, Write: func(ctx context.Context, w io.Writer) error {
		tasks, locks, _ := in.storeFuncs()
		if locks == nil {
			note := "the store is not open yet"
			if tasks != nil {
				note = "the store (SQLite) cannot name lock holders: its writers wait on the database file's lock"
			}
			return writeJSON(w, dbLocks{Waits: []postgres.LockWait{}, Note: note})
		}
		waits, err := locks(ctx)
		if err != nil {
			return err
		}
		out := dbLocks{Summary: postgres.DescribeLockWaits(waits), Waits: waits}
		if out.Waits == nil {
			out.Waits, out.Note = []postgres.LockWait{}, "no session of the database waits for a lock"
		}
		return writeJSON(w, out)
	}}
}
