package sqlcol

import (
	"github.com/vigilhq/vigil/scheduler"
)

// NotificationColumns are the columns ScanNotification reads, in order.
const NotificationColumns = `id, dag_id, run_id, task_id, try, event, receiver, to_state, reason, at,
	state, attempts, next_at, status_code, error, updated_at`

// NotificationArgs are the values of an inserted notification's columns
// (dag_id to updated_at of NotificationColumns).
func NotificationArgs(n scheduler.Notification) []any {
	return []any{n.Key.DAGID, n.Key.RunID, n.Key.TaskID, n.Try, string(n.Event), n.Receiver, string(n.To), n.Reason, TimeArg(n.At),
		string(n.State), n.Attempts, TimeArg(n.NextAt), n.StatusCode, n.Error, TimeArg(n.UpdatedAt)}
}

// ScanNotification reads one row of NotificationColumns.
func ScanNotification(row Row) (scheduler.Notification, error) {
	var n scheduler.Notification
	err := row.Scan(&n.ID, &n.Key.DAGID, &n.Key.RunID, &n.Key.TaskID, &n.Try, &n.Event, &n.Receiver, &n.To, &n.Reason, Time(&n.At),
		&n.State, &n.Attempts, Time(&n.NextAt), &n.StatusCode, &n.Error, Time(&n.UpdatedAt))
	return n, err
}
