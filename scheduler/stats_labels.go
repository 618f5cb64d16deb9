package scheduler

import "sync"

// pairCounts counts events by a DAG id and one more bounded label (a
// reason or a state): never by run id, so a metric's series stay as few
// as the DAGs.
type pairCounts struct {
	mu sync.Mutex
	n  map[DAGCount]int64
}

// DAGCount is one series of a counter labelled by DAG and one more label
// (Label: a refusal's reason, an end state).
type DAGCount struct {
	DAG, Label string
}

func (p *pairCounts) add(dag, label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[DAGCount]int64{}
	}
	p.n[DAGCount{dag, label}]++
}

func (p *pairCounts) snapshot() map[DAGCount]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[DAGCount]int64, len(p.n))
	for k, v := range p.n {
		out[k] = v
	}
	return out
}

// set replaces the counts (for gauges the loop publishes).
func (p *pairCounts) set(m map[DAGCount]int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = m
}

// Submit failure reasons, the label of SubmitFailures: a refusal
// (RefusedForbidden, RefusedQuota) or any other failed start.
const (
	SubmitForbidden = "forbidden"
	SubmitQuota     = "quota"
	SubmitError     = "error"
)

// submitReason is the SubmitFailures label of a refusal's reason.
func submitReason(refusal string) string {
	switch refusal {
	case RefusedForbidden:
		return SubmitForbidden
	case RefusedQuota:
		return SubmitQuota
	}
	return SubmitError
}
