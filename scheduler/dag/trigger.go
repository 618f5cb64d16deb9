package dag

// TriggerRule says which states of a task's upstream tasks let it run, as
// Airflow's trigger rules do. The zero value is AllSuccess: Parse writes
// all_success as "" so that equal DAGs compare equal, and the canonical
// and stored encodings leave it out.
type TriggerRule string

// The trigger rules. A rule decides once its upstreams are far enough
// along; until then the task waits in scheduled.
const (
	// AllSuccess runs the task when every upstream succeeded. An upstream
	// that failed makes it upstream_failed; one that was skipped skips it.
	AllSuccess TriggerRule = "all_success"
	// AllDone runs the task once every upstream ended, whatever its state:
	// a cleanup task.
	AllDone TriggerRule = "all_done"
	// AllFailed runs the task when every upstream failed or was
	// upstream_failed; otherwise it is skipped.
	AllFailed TriggerRule = "all_failed"
	// OneSuccess runs the task as soon as one upstream succeeded; when
	// all ended and none succeeded it is upstream_failed.
	OneSuccess TriggerRule = "one_success"
	// OneFailed runs the task as soon as one upstream failed or was
	// upstream_failed; when all ended and none did it is skipped.
	OneFailed TriggerRule = "one_failed"
	// NoneFailed runs the task once every upstream ended and none failed
	// or was upstream_failed (skipped ones are fine); otherwise it is
	// upstream_failed.
	NoneFailed TriggerRule = "none_failed"
	// Always runs the task at once, without waiting for its upstreams:
	// depends_on then only orders the display and the run's shape.
	Always TriggerRule = "always"
)

// TriggerRules lists every rule, in the order the README gives them.
var TriggerRules = []TriggerRule{AllSuccess, AllDone, AllFailed, OneSuccess, OneFailed, NoneFailed, Always}

// Valid reports whether r is a known rule; "" is AllSuccess.
func (r TriggerRule) Valid() bool {
	if r == "" {
		return true
	}
	for _, k := range TriggerRules {
		if r == k {
			return true
		}
	}
	return false
}

// Effective returns r, or AllSuccess when r is "".
func (r TriggerRule) Effective() TriggerRule {
	if r == "" {
		return AllSuccess
	}
	return r
}

func triggerRuleNames() []string {
	names := make([]string, len(TriggerRules))
	for i, r := range TriggerRules {
		names[i] = string(r)
	}
	return names
}
