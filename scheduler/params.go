package scheduler

import (
	"errors"
	"fmt"
	"time"

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
	params, err := dag.ParamsOf(rec.Source)
	if err != nil {
		return Run{}, nil, fmt.Errorf("dag %s: read its params: %w", rec.ID, err)
	}
	eff, err := effectiveParams(rec.ID, params, conf)
	if err != nil {
		return Run{}, nil, err
	}
	run, tis, err := NewRun(rec, ManualRunID(now), now, true, by, now)
	if err != nil {
		return Run{}, nil, err
	}
	run.Conf, run.Params = confOrNil(conf), eff
	return run, tis, nil
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
