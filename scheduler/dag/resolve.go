package dag

import (
	"fmt"
	"slices"
)

// Task returns the task with the given id, or nil.
func (d *DAG) Task(id string) *Task {
	for i := range d.Tasks {
		if d.Tasks[i].ID == id {
			return &d.Tasks[i]
		}
	}
	return nil
}

// Downstream maps every task id to the ids of the tasks that depend on it,
// sorted; a task nothing depends on maps to nil.
func (d *DAG) Downstream() map[string][]string {
	down := make(map[string][]string, len(d.Tasks))
	for _, t := range d.Tasks {
		if _, ok := down[t.ID]; !ok {
			down[t.ID] = nil
		}
	}
	for _, t := range d.Tasks {
		for _, dep := range t.DependsOn {
			down[dep] = append(down[dep], t.ID)
		}
	}
	for id := range down {
		slices.Sort(down[id])
	}
	return down
}

// Spec returns the effective configuration of one task: its own fields,
// then the DAG defaults for those it leaves unset. Resources are resolved
// as the package doc says: the task's own preset and fields, or, when it
// names no preset, the defaults' preset and fields under its own fields.
func (d *DAG) Spec(taskID string, presets Presets) (TaskSpec, error) {
	t := d.Task(taskID)
	if t == nil {
		return TaskSpec{}, fmt.Errorf("DAG %q has no task %q", d.ID, taskID)
	}
	return d.spec(t, presets)
}

// Specs returns the effective configuration of every task, by task id.
func (d *DAG) Specs(presets Presets) (map[string]TaskSpec, error) {
	specs := make(map[string]TaskSpec, len(d.Tasks))
	for i := range d.Tasks {
		s, err := d.spec(&d.Tasks[i], presets)
		if err != nil {
			return nil, err
		}
		specs[d.Tasks[i].ID] = s
	}
	return specs, nil
}

func (d *DAG) spec(t *Task, presets Presets) (TaskSpec, error) {
	def := d.Defaults
	s := TaskSpec{
		// Copies, so that a caller changing a spec cannot change the DAG.
		DependsOn:        slices.Clone(t.DependsOn),
		TriggerRule:      t.TriggerRule,
		Command:          slices.Clone(t.Command),
		Args:             slices.Clone(t.Args),
		Env:              slices.Clone(t.Env),
		Image:            t.Image,
		Retries:          or(t.Retries, def.Retries),
		RetryDelay:       or(t.RetryDelay, def.RetryDelay),
		RetryExponential: or(t.RetryExponential, def.RetryExponential),
		MaxRetryDelay:    or(t.MaxRetryDelay, def.MaxRetryDelay),
		ExecutionTimeout: or(t.ExecutionTimeout, def.ExecutionTimeout),
		Pool:             or(t.Pool, def.Pool),
		PoolSlots:        or(t.PoolSlots, def.PoolSlots),
		Priority:         or(t.Priority, def.Priority),
		Notify:           d.notify(t),
		SLA:              or(t.SLA, d.SLA),
	}
	if s.PoolSlots == 1 {
		s.PoolSlots = 0 // one slot, as a spec without the key (see Slots)
	}
	res, err := resolveResources(presets, def.Resources, t.Resources)
	if err != nil {
		return TaskSpec{}, fmt.Errorf("DAG %q task %q: %w", d.ID, t.ID, err)
	}
	s.Resources = res
	return s, nil
}

func or[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}

// resolveResources merges the resource layers described at Spec. Preset
// values are put in canonical form here, as the config they come from
// may not be.
func resolveResources(presets Presets, def Resources, task *Resources) (Resources, error) {
	var out Resources
	out.Preset = def.Preset
	if task != nil && task.Preset != "" {
		out.Preset = task.Preset
	}
	if out.Preset != "" {
		p, ok := presets[out.Preset]
		if !ok {
			return Resources{}, fmt.Errorf("%s", presets.unknown(out.Preset))
		}
		for _, key := range resourceKeys[1:] {
			s := *p.field(key)
			if s == "" {
				continue
			}
			_, text, err := quantity(s)
			if err != nil {
				return Resources{}, fmt.Errorf("preset %q: %s: %w", out.Preset, key, err)
			}
			*out.field(key) = text
		}
	}
	// A task that names its own preset asked for that preset: the DAG
	// default's field overrides customise the default preset, not every
	// preset, so they do not apply.
	layers := []*Resources{&def, task}
	if task != nil && task.Preset != "" {
		layers = []*Resources{task}
	}
	for _, layer := range layers {
		if layer == nil {
			continue
		}
		for _, key := range resourceKeys[1:] {
			if s := *layer.field(key); s != "" {
				*out.field(key) = s
			}
		}
	}
	return out, nil
}
