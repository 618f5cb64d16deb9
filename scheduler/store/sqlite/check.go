package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrCorrupt is returned (wrapped) by Open and QuickCheck for a database
// file SQLite finds damaged: a bad page, or not a database at all.
var ErrCorrupt = errors.New("the SQLite database file is damaged")

// corruptAdvice is what to do about ErrCorrupt; the data folder goes with
// the file because it is bound to the database's id.
const corruptAdvice = "stop vigil, then restore the file from a backup, or move it (with its -wal and -shm) aside " +
	"to start on a new, empty database; a new database also needs a fresh --data-dir"

// QuickCheck runs SQLite's PRAGMA quick_check on the whole file: every
// page and b-tree, in time linear in the file's size (the indexes'
// agreement with their tables, which integrity_check adds, is not
// checked). The daemon runs it at start, before it trusts the file: a
// damaged page otherwise shows as the same error on every read of it,
// for ever (issue 16). It returns nil for a sound file, an error
// wrapping ErrCorrupt naming the file, the first problems and what to
// do, or ctx's error if ctx ends first (the check is interrupted).
func (s *Store) QuickCheck(ctx context.Context) error {
	ctx, cancel := s.call(ctx, "QuickCheck")
	defer cancel()
	rows, err := s.read.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		return s.checkErr(ctx, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.checkErr(ctx, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.checkErr(ctx, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: PRAGMA quick_check found: %s; %s", ErrCorrupt, s.path, strings.Join(problems, "; "), corruptAdvice)
	}
	return nil
}

func (s *Store) checkErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("integrity check of %s: %w", s.path, ctx.Err())
	}
	if isCorrupt(err) {
		return corruptErr(s.path, fmt.Errorf("PRAGMA quick_check: %w", err))
	}
	return fmt.Errorf("integrity check of %s: %w", s.path, err)
}

// corruptErr explains err, an SQLITE_CORRUPT or SQLITE_NOTADB from the
// file at path.
func corruptErr(path string, err error) error {
	return fmt.Errorf("%w: %s: %v; %s", ErrCorrupt, path, err, corruptAdvice)
}

// isCorrupt reports whether err is SQLite's SQLITE_CORRUPT ("database disk
// image is malformed") or SQLITE_NOTADB ("file is not a database").
func isCorrupt(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff {
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return true
		}
	}
	return false
}
