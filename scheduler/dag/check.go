package dag

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// defaultNodes keeps where the defaults: mapping's parts are in the file.
type defaultNodes struct {
	fields map[string]field
	res    map[string]field
}

// checkEffective checks what only shows once a task's settings are merged
// with the defaults and its preset: a retry delay above its cap, a limit
// below its request. Each problem is reported once, at the most specific
// place that causes it: a problem in the defaults alone is not repeated
// for every task.
func (r *reader) checkEffective(d *DAG, defs defaultNodes, nodes []taskNodes) {
	def := d.Defaults
	if capped(def.RetryDelay, def.MaxRetryDelay) {
		at, ok := defs.fields["max_retry_delay"]
		if !ok {
			at = defs.fields["retry_delay"]
		}
		r.retryCapError(at.val, "", def.RetryDelay, def.MaxRetryDelay)
	}
	r.checkLimits(r.sources(def.Resources, defs.res, nil, nil), layerDefaults, "")
	for i, t := range d.Tasks {
		if t.RetryDelay != nil || t.MaxRetryDelay != nil {
			delay, maxDelay := or(t.RetryDelay, def.RetryDelay), or(t.MaxRetryDelay, def.MaxRetryDelay)
			if capped(delay, maxDelay) {
				at, ok := nodes[i].fields["max_retry_delay"]
				if !ok {
					at = nodes[i].fields["retry_delay"]
				}
				r.retryCapError(at.val, t.ID, delay, maxDelay)
			}
		}
		if t.Resources != nil {
			r.checkLimits(r.sources(def.Resources, defs.res, t.Resources, nodes[i].res), layerTask, t.ID)
		}
	}
}

func capped(delay, maxDelay time.Duration) bool { return maxDelay > 0 && maxDelay < delay }

func (r *reader) retryCapError(at *yaml.Node, task string, delay, maxDelay time.Duration) {
	r.errorf(at, task, "retry_delay %s is longer than max_retry_delay %s, which caps every retry delay; raise max_retry_delay (0s means no cap) or shorten retry_delay",
		formatDuration(delay), formatDuration(maxDelay))
}

// Layers that can set a resource, in the order they apply.
const (
	layerDefaults = 1
	layerTask     = 2
)

// source is one effective resource value and who set it.
type source struct {
	val   string
	layer int
	node  *yaml.Node
	from  string
}

// sources merges the resource layers as resolveResources does, keeping
// for each value where it was set. A preset's values count as set by
// whoever named the preset.
func (r *reader) sources(def Resources, defRes map[string]field, task *Resources, taskRes map[string]field) map[string]source {
	out := map[string]source{}
	preset, layer, named := def.Preset, layerDefaults, defRes["preset"]
	if task != nil && task.Preset != "" {
		preset, layer, named = task.Preset, layerTask, taskRes["preset"]
	}
	if p, ok := r.presets[preset]; ok && preset != "" {
		for _, key := range resourceKeys[1:] {
			if s := *p.field(key); s != "" {
				out[key] = source{s, layer, named.val, fmt.Sprintf("preset %q", preset)}
			}
		}
	}
	for _, l := range []struct {
		res    *Resources
		fields map[string]field
		layer  int
		from   string
	}{{&def, defRes, layerDefaults, "defaults"}, {task, taskRes, layerTask, "this task"}} {
		if l.res == nil {
			continue
		}
		for _, key := range resourceKeys[1:] {
			if s := *l.res.field(key); s != "" {
				out[key] = source{s, l.layer, l.fields[key].val, l.from}
			}
		}
	}
	return out
}

// checkLimits reports a limit below its request, when the more specific
// of the two was set at layer least or later.
func (r *reader) checkLimits(srcs map[string]source, least int, task string) {
	for _, pair := range limitPairs {
		req, okR := srcs[pair[0]]
		lim, okL := srcs[pair[1]]
		if !okR || !okL {
			continue
		}
		qr, reqText, errR := quantity(req.val)
		ql, limText, errL := quantity(lim.val)
		if errR != nil || errL != nil || ql.Cmp(qr) >= 0 {
			continue
		}
		blame := lim
		if req.layer > lim.layer {
			blame = req
		}
		if blame.layer < least {
			continue
		}
		r.errorf(blame.node, task, "%s %s (from %s) is below %s %s (from %s); a limit must be at least its request, so raise %s or lower %s",
			pair[1], limText, lim.from, pair[0], reqText, req.from, pair[1], pair[0])
	}
}
