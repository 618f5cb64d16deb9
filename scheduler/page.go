package scheduler

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Lists the admin commands page through (runs, task instances, operations,
// a task's history) take a limit and a cursor: an opaque token naming the
// last item of the previous page by the list's ordering key, so the next
// page starts after it through an index (keyset paging), however deep it
// is, and rows added meanwhile neither shift nor repeat items (issue 18).
// A cursor comes from RunCursor, TaskCursor, OpCursor or
// TransitionCursor; a store reads it back with the matching Parse.

// ErrBadCursor is returned for a cursor that no list gave.
var ErrBadCursor = errors.New("bad cursor: pass the next cursor a previous page printed")

type runCursor struct {
	L *int64 `json:"l"` // logical date, unix nanoseconds; nil for none
	D string `json:"d"`
	R string `json:"r"`
}

// RunCursor is the cursor of a page of runs that ends with r.
func RunCursor(r Run) string {
	c := runCursor{D: r.DAGID, R: r.RunID}
	if !r.LogicalDate.IsZero() {
		n := r.LogicalDate.UnixNano()
		c.L = &n
	}
	return encodeCursor("r", c)
}

// ParseRunCursor reads a RunCursor back: the last run's logical date
// (zero for none), DAG and run id.
func ParseRunCursor(tok string) (logical time.Time, dagID, runID string, err error) {
	var c runCursor
	if err := decodeCursor("r", tok, &c); err != nil {
		return time.Time{}, "", "", err
	}
	if c.L != nil {
		logical = time.Unix(0, *c.L).UTC()
	}
	return logical, c.D, c.R, nil
}

// TaskCursor is the cursor of a page of task instances that ends with ti.
func TaskCursor(ti TaskInstance) string {
	return encodeCursor("t", []string{ti.DAGID, ti.RunID, ti.TaskID})
}

// ParseTaskCursor reads a TaskCursor back: the last instance's key.
func ParseTaskCursor(tok string) (TaskKey, error) {
	var k []string
	if err := decodeCursor("t", tok, &k); err != nil {
		return TaskKey{}, err
	}
	if len(k) != 3 {
		return TaskKey{}, fmt.Errorf("%w: %q", ErrBadCursor, tok)
	}
	return TaskKey{DAGID: k[0], RunID: k[1], TaskID: k[2]}, nil
}

// OpCursor is the cursor of a page of operations that ends with op.
func OpCursor(op Op) string { return encodeCursor("o", op.ID) }

// ParseOpCursor reads an OpCursor back: the last operation's id.
func ParseOpCursor(tok string) (int64, error) {
	var id int64
	err := decodeCursor("o", tok, &id)
	return id, err
}

// TransitionCursor is the cursor of a page of a task's history that ends
// with t.
func TransitionCursor(t Transition) string { return encodeCursor("h", t.Seq) }

// ParseTransitionCursor reads a TransitionCursor back: the last record's
// sequence number.
func ParseTransitionCursor(tok string) (int64, error) {
	var seq int64
	err := decodeCursor("h", tok, &seq)
	return seq, err
}

// encodeCursor makes a token of a list's kind and the last item's key.
func encodeCursor(kind string, key any) string {
	b, err := json.Marshal(key)
	if err != nil {
		panic(fmt.Sprintf("cursor of %T: %v", key, err)) // keys are strings and numbers
	}
	return base64.RawURLEncoding.EncodeToString(append([]byte(kind+":"), b...))
}

func decodeCursor(kind, tok string, key any) error {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < len(kind)+1 || string(b[:len(kind)+1]) != kind+":" {
		return fmt.Errorf("%w: %q", ErrBadCursor, tok)
	}
	if err := json.Unmarshal(b[len(kind)+1:], key); err != nil {
		return fmt.Errorf("%w: %q", ErrBadCursor, tok)
	}
	return nil
}
