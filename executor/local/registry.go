package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/scheduler"
)

// A registry is a folder shared by the local executors of every scheduler
// on one machine that uses the same store. Schedulers that share a store
// take each other's runs over (a stopped or frozen one's), but each keeps
// its tries in a state folder of its own; the registry says where a try
// lives, so that the new owner finds and adopts a try another scheduler
// started instead of taking it for a zombie and running it again:
//
//	<Registry>/<dag>/<run>/<task>/try-<n>        symlink to the try's folder
//	<Registry>/<dag>/<run>/<task>/try-<n>.lock   locked while the try is being started
//
// The link is made, under the lock, before the process is started, and the
// lock is held until its pid is on disk. So of two executors asked to
// start one try, the second finds the first's folder and watches its
// process; and one that finds the lock held knows a start is under way
// (or frozen half-way) and asks again later rather than guess.
type registry struct {
	dir string
}

// errStarting is returned (wrapped) when another executor holds a try's
// start lock.
var errStarting = errors.New("another scheduler on this machine is starting the try")

// lockWait bounds how long a start waits for another executor's start of
// the same try to finish before giving up for now.
const lockWait = 2 * time.Second

func (r *registry) entry(k scheduler.TryKey) string {
	return filepath.Join(r.dir, safeName(k.DAGID), safeName(k.RunID), safeName(k.TaskID),
		fmt.Sprintf("try-%d", k.Try))
}

// lock takes k's start lock, waiting while another executor holds it until
// ctx ends or wait passes (0: not at all). The returned func releases it.
func (r *registry) lock(ctx context.Context, k scheduler.TryKey, wait time.Duration) (func(), error) {
	path := r.entry(k) + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("try registry: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("try registry: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("try registry: lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			f.Close()
			return nil, fmt.Errorf("try %s: %w (lock %s is held); asking again later", k, errStarting, path)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// folder returns the folder k's link names, or "" if there is none. Call it
// with k's lock held.
func (r *registry) folder(k scheduler.TryKey) (string, error) {
	target, err := os.Readlink(r.entry(k))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("try registry: %w", err)
	}
	return target, nil
}

// link records dir as k's folder, replacing any earlier link. Call it with
// k's lock held.
func (r *registry) link(k scheduler.TryKey, dir string) error {
	path := r.entry(k)
	tmp := path + ".new"
	_ = os.Remove(tmp)
	if err := os.Symlink(dir, tmp); err != nil {
		return fmt.Errorf("try registry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("try registry: %w", err)
	}
	return nil
}

// claim takes k's start lock and settles which folder the try lives in:
// the folder another executor of this store already started it in, or
// p's own, which it links. p.dir is set to that folder. The returned func
// releases the lock.
func (e *Executor) claim(ctx context.Context, p *proc, k scheduler.TryKey) (func(), error) {
	release, err := e.reg.lock(ctx, k, lockWait)
	if err != nil {
		return nil, err
	}
	dir, err := e.reg.folder(k)
	if err == nil && dir != "" && dir != p.dir {
		var st diskState
		if st, err = inspect(dir); err == nil && st.recorded {
			e.log.Info("try was started by another scheduler on this machine; using its folder",
				zap.Stringer("try", k), zap.String("dir", dir), zap.Int("pid", st.pid))
			e.mu.Lock() // Logs reads it
			p.dir = dir
			e.mu.Unlock()
			return release, nil
		}
		// Its start stopped before the process was recorded, and the lock
		// is ours: the command never ran there, and runs here.
	}
	if err == nil && dir != p.dir {
		err = e.reg.link(k, p.dir)
	}
	if err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// linkedFolder returns the folder the registry names for k, or k's own
// folder in this executor's Dir. A start under way elsewhere is an error:
// what it leads to is not known yet.
func (e *Executor) linkedFolder(ctx context.Context, k scheduler.TryKey) (string, error) {
	if e.reg == nil {
		return e.tryDir(k), nil
	}
	release, err := e.reg.lock(ctx, k, 0)
	if err != nil {
		return "", err
	}
	defer release()
	dir, err := e.reg.folder(k)
	if err != nil || dir == "" {
		return e.tryDir(k), err
	}
	return dir, nil
}
