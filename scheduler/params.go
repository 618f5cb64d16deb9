package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// Params and conf: a run's effective params are its DAG's declared
// defaults overlaid by the conf it was triggered with (dag.ApplyConf),
// fixed when the run is created and stored with it; a scheduled run gets
// the defaults. Each try gets them in its environment (Try.ParamEnv).

// ErrInvalidConf is returned (wrapped) for a conf a DAG does not take: a
// key it does not declare, a value of the wrong kind, a bad name.
var ErrInvalidConf = errors.New("invalid conf")

// NewTriggeredRun builds a manual run of rec triggered at now with conf,
// as NewRun does, with the run's conf and effective params set. It is the
// one path for a run triggered from outside the loop (`vigil dags
// trigger`, an API): a conf the DAG does not take is an ErrInvalidConf
// that names every bad key.
func NewTriggeredRun(rec DAGRecord, conf dag.Values, by Actor, now time.Time) (Run, []TaskInstance, error) {
	return NewManualRun(rec, "", time.Time{}, conf, by, now)
}

// NewManualRun is NewTriggeredRun with the run's id (ManualRunID(now) if
// empty) and logical date (now if zero) given, as the API's trigger takes
// them.
func NewManualRun(rec DAGRecord, runID string, logical time.Time, conf dag.Values, by Actor, now time.Time) (Run, []TaskInstance, error) {
	if runID == "" {
		runID = ManualRunID(now)
	} else if err := CheckRunID(runID); err != nil {
		return Run{}, nil, fmt.Errorf("dag %s: %w: %w", rec.ID, err, ErrBadRunID)
	}
	if logical.IsZero() {
		logical = now
	}
	params, err := dag.ParamsOf(rec.Source)
	if err != nil {
		return Run{}, nil, fmt.Errorf("dag %s: read its params: %w", rec.ID, err)
	}
	eff, err := effectiveParams(rec.ID, params, conf)
	if err != nil {
		return Run{}, nil, err
	}
	run, tis, err := NewRun(rec, runID, logical, true, by, now)
	if err != nil {
		return Run{}, nil, err
	}
	run.Conf, run.Params = confOrNil(conf), eff
	return run, tis, nil
}

// NewBackfillRun builds the scheduled run of tick, one of rec's schedule
// ticks, as a backfill creates it (see Backfill), with conf over the DAG's
// params.
func NewBackfillRun(rec DAGRecord, tick time.Time, conf dag.Values, by Actor, now time.Time) (Run, []TaskInstance, error) {
	timing, err := dag.TimingOf(rec.Source)
	if err != nil {
		return Run{}, nil, err
	}
	if timing.Schedule == nil {
		return Run{}, nil, fmt.Errorf("dag %s has no schedule, so no ticks to backfill (trigger a manual run instead): %w", rec.ID, ErrNotATick)
	}
	if next := timing.Schedule.Next(tick.Add(-time.Nanosecond)); !next.Equal(tick) {
		return Run{}, nil, fmt.Errorf("dag %s: %s is not a tick of its schedule %q (the next one is %s): %w",
			rec.ID, tick.UTC().Format(time.RFC3339), timing.Expr, next.UTC().Format(time.RFC3339), ErrNotATick)
	}
	params, err := dag.ParamsOf(rec.Source)
	if err != nil {
		return Run{}, nil, fmt.Errorf("dag %s: read its params: %w", rec.ID, err)
	}
	eff, err := effectiveParams(rec.ID, params, conf)
	if err != nil {
		return Run{}, nil, err
	}
	run, tis, err := NewRun(rec, ScheduledRunID(tick), tick, false, by, now)
	if err != nil {
		return Run{}, nil, err
	}
	run.Conf, run.Params = confOrNil(conf), eff
	return run, tis, nil
}

// ErrNotATick is returned (wrapped) for a backfill run asked for a time
// that is not one of its DAG's schedule ticks.
var ErrNotATick = errors.New("not a schedule tick")

// ErrBadRunID is returned (wrapped) for a run id CheckRunID refuses.
var ErrBadRunID = errors.New("bad run id")

// CheckRunID says what is wrong with a run id given by hand.
func CheckRunID(id string) error {
	switch {
	case len(id) > 250:
		return fmt.Errorf("run id %.40q... is %d bytes: use at most 250", id, len(id))
	case strings.ContainsAny(id, "/\\ \t\n") || !utf8.ValidString(id):
		return fmt.Errorf("run id %q: use letters, digits and - _ . : + (no slash or space)", id)
	case id == "latest":
		return fmt.Errorf(`run id "latest" names a DAG's newest run: choose another`)
	}
	return nil
}

func effectiveParams(dagID string, params []dag.Param, conf dag.Values) (dag.Values, error) {
	eff, err := dag.ApplyConf(params, conf)
	if err != nil {
		return nil, fmt.Errorf("dag %s: %w:\n%w", dagID, ErrInvalidConf, err)
	}
	return eff, nil
}

func confOrNil(conf dag.Values) dag.Values {
	if len(conf) == 0 {
		return nil
	}
	return conf
}

// ParamEnv returns the variables an executor sets for a try's params:
// VIGIL_PARAM_<NAME> for each (dag.ParamEnvName), then VIGIL_CONF holding
// them all as one JSON object ("{}" for none).
func (t Try) ParamEnv() []dag.EnvVar { return dag.ParamEnv(t.Params) }

// runParams returns the effective params of k's run: those stored with
// it, or for a run stored without them (created before params existed,
// or by a path that sets none) the defaults of its DAG as loaded now.
func (s *Scheduler) runParams(k TaskKey) dag.Values {
	if rs := s.runs[runKey{k.DAGID, k.RunID}]; rs != nil && rs.run.Params != nil {
		return rs.run.Params
	}
	if d := s.dags[k.DAGID]; d != nil {
		// Defaults alone always apply.
		eff, _ := dag.ApplyConf(d.params, nil)
		return eff
	}
	return nil
}
