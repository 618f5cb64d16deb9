package scheduler

import (
	"context"
	"runtime/pprof"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// The DAG folder is loaded off the loop. Parsing, encoding and resolving a
// big DAG takes seconds of CPU: done on the loop every sync it cost 40% of
// a core with nothing changed, and a 60,000-task file held the loop past
// its heartbeat so the watchdog restarted the process again and again
// (issue 16). loadDAGFolder reloads the folder every SyncInterval on its
// own goroutine, parsing only the files that changed, and hands the loop
// a whole new dagSet only when something did; the loop then only compares
// encodings and writes what changed to the store.

// dagSet is one load of the DAG folder, ready for the loop.
type dagSet struct {
	dags []loadedDAG
	errs []*dag.FileError
	// reported is set once the loop has logged the DAGs that cannot be
	// stored, so applying the set again does not log them again.
	reported bool
}

// loadedDAG is a DAG with what the loop stores of it, worked out off the
// loop.
type loadedDAG struct {
	dag   *dag.DAG
	src   []byte // dag.Encode
	specs map[string]dag.TaskSpec
	// err says why src or specs could not be made.
	err error
}

// loadDAGFolder loads the DAG folder now and every SyncInterval until ctx
// ends, sending each load that differs from the previous one to
// s.dagSets.
func (s *Scheduler) loadDAGFolder(ctx context.Context) {
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels(labelLoop, "dags")))
	parse := s.opts.ParseDAG
	if parse == nil {
		receivers := append([]string{}, s.opts.Receivers...) // never nil: always checked
		parse = func(file string, data []byte, presets dag.Presets) (*dag.DAG, error) {
			return dag.ParseChecked(file, data, presets, receivers)
		}
	}
	loader := dag.NewLoader(s.opts.DAGDir, s.opts.Presets, dag.LoaderOptions{
		MaxFileSize: s.opts.MaxDAGFileSize,
		Parse:       parse,
	})
	// A file that did not change gives the same *dag.DAG, so its encoding
	// is kept rather than made again.
	prepared := map[*dag.DAG]loadedDAG{}
	ticker := time.NewTicker(s.opts.SyncInterval)
	defer ticker.Stop()
	for {
		res, changed := loader.Load()
		s.dagsHB.Beat()
		s.stats.dagFilesParsed.Store(loader.Stats().Parsed)
		if changed {
			set := &dagSet{errs: res.Errors}
			next := make(map[*dag.DAG]loadedDAG, len(res.DAGs))
			for _, d := range res.DAGs {
				ld, ok := prepared[d]
				if !ok {
					ld = s.prepareDAG(d)
				}
				next[d] = ld
				set.dags = append(set.dags, ld)
			}
			prepared = next
			// Replace a set the loop has not taken yet: only the latest
			// matters. This goroutine is the only sender, so the send
			// below finds room.
			select {
			case <-s.dagSets:
			default:
			}
			s.dagSets <- set
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (s *Scheduler) prepareDAG(d *dag.DAG) loadedDAG {
	ld := loadedDAG{dag: d}
	if ld.src, ld.err = dag.Encode(d); ld.err == nil {
		ld.specs, ld.err = d.Specs(s.opts.Presets)
	}
	return ld
}

// slowFirstLoad is how long the first load of the DAG folder may take
// before start-up says it is waiting for it.
const slowFirstLoad = 10 * time.Second

// awaitDAGs waits for the first load of the DAG folder, beating the
// loop's heartbeat meanwhile: runs and DAGs in the store are only judged
// against the folder once it has been read.
func (s *Scheduler) awaitDAGs(ctx context.Context) error {
	if s.opts.DAGDir == "" {
		return nil
	}
	tick := time.NewTicker(s.opts.HeartbeatPeriod / 2)
	defer tick.Stop()
	started, logged := time.Now(), false
	for {
		s.hb.Beat()
		select {
		case set := <-s.dagSets:
			s.dagPending = set
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if waited := time.Since(started); !logged && waited > slowFirstLoad {
				logged = true
				s.log.Warn("start-up: still reading the DAG folder; not ready until it is read", zap.String("dir", s.opts.DAGDir), zap.Duration("waited", waited))
			}
		}
	}
}
