package dag

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// notifyKeys are the DAG and task keys naming receivers, one per event.
var notifyKeys = []string{"on_failure", "on_retry", "on_success", "on_sla_miss"}

// ParseChecked is Parse that also checks every receiver a DAG or task
// names (on_failure, on_retry, on_success) against receivers, the names
// the scheduler's config declares. A nil receivers skips that check (a
// file validated without the config at hand).
func ParseChecked(file string, data []byte, presets Presets, receivers []string) (*DAG, error) {
	r := &reader{file: file, presets: presets, receivers: receivers, checkReceivers: receivers != nil}
	return r.parse(data)
}

// receiverList reads one on_* key: a list of receiver names, each declared
// in the scheduler's config (when the reader knows them). The result is
// sorted without duplicates and never nil, so that an empty list, which
// turns an event off for a task, is told from an absent key.
func (r *reader) receiverList(f field, task string) []string {
	names, nodes, _ := r.list(f, task)
	out := []string{}
	for i, name := range names {
		if r.checkReceivers && !slices.Contains(r.receivers, name) {
			msg := "receiver %q is not declared in the scheduler's config (notifications.receivers)"
			args := []any{name}
			if near := closest(name, r.receivers); near != "" {
				msg += "; did you mean %q?"
				args = append(args, near)
			}
			if len(r.receivers) == 0 {
				msg += "; none is declared"
			} else {
				msg += "; the receivers are " + strings.Join(r.receivers, ", ")
			}
			r.errorf(nodes[i], task, msg, args...)
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// dagNotify reads the DAG-level on_* keys.
func (r *reader) dagNotify(fields map[string]field) Notify {
	var n Notify
	for _, k := range notifyKeys {
		if f, ok := fields[k]; ok {
			l := r.receiverList(f, "")
			if len(l) == 0 {
				l = nil // at DAG level, empty is the same as absent
			}
			*n.event(k) = l
		}
	}
	return n
}

// taskNotify reads a task's on_* keys into t.
func (r *reader) taskNotify(fields map[string]field, task string, t *Task) {
	for _, k := range notifyKeys {
		if f, ok := fields[k]; ok {
			l := r.receiverList(f, task)
			*t.event(k) = &l
		}
	}
}

func (n *Notify) event(key string) *[]string {
	switch key {
	case "on_failure":
		return &n.OnFailure
	case "on_retry":
		return &n.OnRetry
	case "on_sla_miss":
		return &n.OnSLAMiss
	default:
		return &n.OnSuccess
	}
}

func (t *Task) event(key string) **[]string {
	switch key {
	case "on_failure":
		return &t.OnFailure
	case "on_retry":
		return &t.OnRetry
	case "on_sla_miss":
		return &t.OnSLAMiss
	default:
		return &t.OnSuccess
	}
}

// notify is task t's receivers: its own lists over the DAG's.
func (d *DAG) notify(t *Task) Notify {
	n := Notify{
		OnFailure: slices.Clone(d.Notify.OnFailure),
		OnRetry:   slices.Clone(d.Notify.OnRetry),
		OnSuccess: slices.Clone(d.Notify.OnSuccess),
		OnSLAMiss: slices.Clone(d.Notify.OnSLAMiss),
	}
	for _, k := range notifyKeys {
		if own := *t.event(k); own != nil {
			l := slices.Clone(*own)
			if len(l) == 0 {
				l = nil
			}
			*n.event(k) = l
		}
	}
	return n
}

// encodeNotify writes the on_* keys: the DAG's when t is nil, else task t's.
func (e *encoder) encodeNotify(m *yaml.Node, d *DAG, t *Task) {
	for _, k := range notifyKeys {
		var l []string
		if t == nil {
			if l = *d.Notify.event(k); len(l) == 0 {
				continue
			}
		} else {
			p := *t.event(k)
			if p == nil {
				continue
			}
			l = *p
		}
		n := e.list(l)
		n.Style = yaml.FlowStyle
		e.add(m, k, n)
	}
}
