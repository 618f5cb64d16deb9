package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// store writes the archive into the bundle folder or, if that fails, the
// first fallback folder that takes it, and sets info.Path (and
// info.DirError) to match. Issue 16: with the bundle folder unwritable,
// the evidence of a stall was lost.
func (w *Writer) store(info *Info, root string, mod time.Time, files []file) (int64, error) {
	// Made again if it was removed since New.
	err := os.MkdirAll(w.opts.Dir, 0o700)
	var size int64
	if err == nil {
		size, err = writeArchive(filepath.Join(w.opts.Dir, info.Name), root, mod, files)
	}
	if err == nil {
		info.Path = filepath.Join(w.opts.Dir, info.Name)
		return size, nil
	}
	dirErr := fmt.Errorf("bundle folder %s: %w", w.opts.Dir, err)
	errs := []error{dirErr}
	for _, dir := range w.opts.Fallbacks {
		if err := privateDir(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		path := filepath.Join(dir, info.Name)
		size, err := writeArchive(path, root, mod, files)
		if err != nil {
			errs = append(errs, fmt.Errorf("fallback %s: %w", dir, err))
			continue
		}
		info.Path, info.DirError = path, dirErr.Error()
		return size, nil
	}
	info.Path = ""
	return 0, fmt.Errorf("no folder took the bundle; make the bundle folder writable or point --bundle-dir elsewhere: %w", errors.Join(errs...))
}

// privateDir creates dir (mode 0700) if needed and checks that it is a
// folder of this user's that no one else may open: a fallback may sit in
// a shared place such as /tmp, where another user could have made it
// first.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("fallback %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("fallback %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("fallback %s: not a folder (a link?); not used", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("fallback %s: owned by uid %d, not this process's %d; not used", dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("fallback %s: mode %v lets others in; not used (chmod 700 it)", dir, fi.Mode().Perm())
	}
	return nil
}

// reasonTag is the reason part of a bundle's name:
// vigil-bundle-20261123T120501123Z-stale.tar.gz → "stale".
func reasonTag(name string) string {
	rest := strings.TrimSuffix(strings.TrimPrefix(name, "vigil-bundle-"), ".tar.gz")
	_, tag, _ := strings.Cut(rest, "-")
	return tag
}

// prune keeps the newest Keep bundles across the bundle folder and the
// fallbacks. Bundles written for a Protected reason go last: a run of
// on-demand bundles (`diag bundle` in a loop) must not evict the one the
// watchdog wrote before the restart (issue 16).
func (w *Writer) prune() error {
	all, err := w.List()
	if err != nil {
		return err
	}
	excess := len(all) - w.opts.Keep
	if excess <= 0 {
		return nil
	}
	protected := func(b Info) bool { return slices.Contains(w.opts.Protected, reasonTag(b.Name)) }
	var evict []Info
	// Oldest first: all is newest first.
	for _, pass := range []bool{false, true} {
		for i := len(all) - 1; i >= 0 && len(evict) < excess; i-- {
			if protected(all[i]) == pass {
				evict = append(evict, all[i])
			}
		}
	}
	var errs []error
	for _, b := range evict {
		if err := os.Remove(b.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("prune bundles: %w", errors.Join(errs...))
	}
	return nil
}
