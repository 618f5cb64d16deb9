package sqlcol

import (
	"github.com/vigilhq/vigil/scheduler"
)

// TransitionColumns are the columns ScanTransition reads, in its order.
// A record that never repeated has no last_at: it is its at.
const TransitionColumns = `seq, try, from_state, to_state, at, actor_component, actor_instance, reason, external_id,
	exit_code, manual, repeats, COALESCE(last_at, at)`

// ScanTransition reads one row of TransitionColumns into a record of key.
func ScanTransition(r Row, key scheduler.TaskKey) (scheduler.Transition, error) {
	rec := scheduler.Transition{Key: key}
	err := r.Scan(&rec.Seq, &rec.Try, &rec.From, &rec.To, Time(&rec.At),
		&rec.Actor.Component, &rec.Actor.Instance, &rec.Reason, &rec.ExternalID, IntPtr(&rec.ExitCode), &rec.Manual,
		&rec.Repeats, Time(&rec.LastAt))
	return rec, err
}
