package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigilhq/vigil/scheduler"
)

// holdLock locks table in ACCESS EXCLUSIVE mode from a connection of its
// own, in a transaction left open until t ends, and returns that
// connection's backend pid.
func holdLock(t *testing.T, url, table string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "lock-holder-test"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return int(conn.PgConn().PID())
}

// With a table locked by another session, LockWaits names that session
// as the holder the store's own statement waits for, and
// DescribeLockWaits says so in one line.
func TestLockWaitsNamesTheHolder(t *testing.T) {
	url := freshDatabase(t)
	s := open(t, url, Options{})
	holder := holdLock(t, url, "task_instances")

	listed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := s.ListTaskInstances(ctx, scheduler.TaskFilter{})
		listed <- err
	}()

	var waits []LockWait
	deadline := time.Now().Add(15 * time.Second)
	for len(waits) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("LockWaits reported no waiter within 15s while ListTaskInstances waits on the lock")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var err error
		waits, err = s.LockWaits(ctx)
		cancel()
		if err != nil {
			t.Fatalf("LockWaits: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	w := waits[0]
	if w.Holder.PID != holder || w.Holder.Application != "lock-holder-test" || w.Holder.State != "idle in transaction" ||
		!strings.Contains(w.Holder.Query, "LOCK TABLE task_instances") {
		t.Errorf("holder = %+v, want pid %d, lock-holder-test, idle in transaction, its LOCK TABLE", w.Holder, holder)
	}
	if w.Relation != "task_instances" || w.Mode != "AccessShareLock" || w.HolderModes != "AccessExclusiveLock" || w.Since.IsZero() {
		t.Errorf("lock = %s %s %s (holder %s) since %v, want the waiter's AccessShareLock on task_instances behind AccessExclusiveLock",
			w.Lock, w.Relation, w.Mode, w.HolderModes, w.Since)
	}
	msg := DescribeLockWaits(waits)
	t.Log(msg)
	want := fmt.Sprintf(`pid %d ("lock-holder-test"`, holder)
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, `idle in transaction since `) ||
		!strings.Contains(msg, `last query "LOCK TABLE task_instances IN ACCESS EXCLUSIVE MODE") holds AccessExclusiveLock on task_instances, which pid `) {
		t.Errorf("DescribeLockWaits = %q", msg)
	}
	select {
	case err := <-listed:
		t.Fatalf("ListTaskInstances returned %v while the table is locked", err)
	default:
	}
	if DescribeLockWaits(nil) != "" {
		t.Error("DescribeLockWaits(nil) is not empty")
	}
}

// The lock report does not queue behind the store's pool: with every
// pooled connection waiting on the lock, it still answers.
func TestLockWaitsWithThePoolExhausted(t *testing.T) {
	url := freshDatabase(t)
	s := open(t, url, Options{MaxConns: 2})
	holdLock(t, url, "task_instances")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 3 {
		go s.ListTaskInstances(ctx, scheduler.TaskFilter{})
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		lctx, lcancel := context.WithTimeout(context.Background(), 2*time.Second)
		waits, err := s.LockWaits(lctx)
		lcancel()
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("LockWaits waited for a pooled connection: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(waits) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("LockWaits = %+v, want the 2 pooled connections waiting", waits)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
