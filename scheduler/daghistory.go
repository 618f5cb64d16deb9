package scheduler

import (
	"context"
	"time"
)

// DAGChange is one record of a DAG's history: a pause or an unpause, who
// asked for it and why (issue 19).
type DAGChange struct {
	Seq    int64     `json:"seq"` // assigned by the store, increasing
	DAGID  string    `json:"dag_id"`
	Action string    `json:"action"` // DAGPause or DAGUnpause
	Actor  Actor     `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// Actions of a DAGChange.
const (
	DAGPause   = "pause"
	DAGUnpause = "unpause"
)

// DAGHistoryStore is implemented by stores that record who paused and
// unpaused DAGs.
type DAGHistoryStore interface {
	// PauseDAG sets the DAG's paused flag to c.Action == DAGPause and
	// appends c to its history, in one transaction; ErrNotFound for an
	// unknown DAG.
	PauseDAG(ctx context.Context, c DAGChange) error
	// DAGHistory returns up to limit (all if 0) of the DAG's changes,
	// newest first, after the DAGChangeCursor after (from the newest if
	// empty).
	DAGHistory(ctx context.Context, dagID string, limit int, after string) ([]DAGChange, error)
}

// DAGChangeCursor is the cursor of a page of a DAG's history that ends
// with c.
func DAGChangeCursor(c DAGChange) string { return encodeCursor("d", c.Seq) }

// ParseDAGChangeCursor reads a DAGChangeCursor back: the last change's seq.
func ParseDAGChangeCursor(tok string) (int64, error) {
	var seq int64
	err := decodeCursor("d", tok, &seq)
	return seq, err
}
