package dag

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Encode returns the canonical encoding of d: keys in a fixed order, tasks
// in their order, every DAG-level setting written out (defaults included)
// so that the text means the same whatever the defaults of the build that
// reads it. Parse(Encode(d)) equals d, except for File, for every DAG that
// Parse returns.
func Encode(d *DAG) ([]byte, error) {
	var e encoder
	root := e.mapping()
	e.add(root, "id", e.str(d.ID))
	if d.Description != "" {
		e.add(root, "description", e.str(d.Description))
	}
	if d.Schedule != "" {
		e.add(root, "schedule", e.str(d.Schedule))
	}
	if d.Timezone != "" {
		e.add(root, "timezone", e.str(d.Timezone))
	}
	if !d.StartDate.IsZero() {
		e.add(root, "start_date", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: d.StartDate.UTC().Format(time.RFC3339Nano)})
	}
	e.add(root, "catchup", boolean(d.Catchup))
	e.add(root, "max_active_runs", integer(d.MaxActiveRuns))
	e.add(root, "max_active_tasks", integer(d.MaxActiveTasks))
	if d.RunTimeout != 0 {
		e.add(root, "run_timeout", e.str(formatDuration(d.RunTimeout)))
	}
	if d.MaxCatchupRuns != 0 {
		e.add(root, "max_catchup_runs", integer(d.MaxCatchupRuns))
	}
	if len(d.Params) > 0 {
		e.add(root, "params", e.params(d.Params))
	}
	e.encodeNotify(root, d, nil)
	if d.SLA != 0 {
		e.add(root, "sla", e.str(formatDuration(d.SLA)))
	}

	def := d.Defaults
	defs := e.mapping()
	e.add(defs, "retries", integer(def.Retries))
	e.add(defs, "retry_delay", e.str(formatDuration(def.RetryDelay)))
	e.add(defs, "retry_exponential", boolean(def.RetryExponential))
	e.add(defs, "max_retry_delay", e.str(formatDuration(def.MaxRetryDelay)))
	e.add(defs, "execution_timeout", e.str(formatDuration(def.ExecutionTimeout)))
	if def.Resources != (Resources{}) {
		e.add(defs, "resources", e.resources(def.Resources))
	}
	// Written only when set: absent, each has one meaning (DefaultPool, 1
	// slot, priority 0) that no build changes, and DAGs that do not use
	// them keep the encoding they had before pools. PoolSlots 0 is 1.
	if def.Pool != "" {
		e.add(defs, "pool", e.str(def.Pool))
	}
	if def.PoolSlots != 0 {
		e.add(defs, "pool_slots", integer(def.PoolSlots))
	}
	if def.Priority != 0 {
		e.add(defs, "priority", integer(def.Priority))
	}
	e.add(root, "defaults", defs)

	tasks := &yaml.Node{Kind: yaml.SequenceNode}
	for i := range d.Tasks {
		tasks.Content = append(tasks.Content, e.task(&d.Tasks[i]))
	}
	e.add(root, "tasks", tasks)
	if e.err != nil {
		return nil, fmt.Errorf("encode DAG %q: %w", d.ID, e.err)
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode DAG %q: %w", d.ID, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode DAG %q: %w", d.ID, err)
	}
	return buf.Bytes(), nil
}

func (e *encoder) task(t *Task) *yaml.Node {
	n := e.mapping()
	e.add(n, "id", e.str(t.ID))
	if len(t.DependsOn) > 0 {
		deps := e.list(t.DependsOn)
		deps.Style = yaml.FlowStyle
		e.add(n, "depends_on", deps)
	}
	if t.TriggerRule.Effective() != AllSuccess {
		e.add(n, "trigger_rule", e.str(string(t.TriggerRule)))
	}
	e.add(n, "command", e.list(t.Command))
	if len(t.Args) > 0 {
		e.add(n, "args", e.list(t.Args))
	}
	if len(t.Env) > 0 {
		env := e.mapping()
		for _, v := range t.Env {
			e.add(env, v.Name, e.str(v.Value))
		}
		e.add(n, "env", env)
	}
	if t.Image != "" {
		e.add(n, "image", e.str(t.Image))
	}
	if t.Retries != nil {
		e.add(n, "retries", integer(*t.Retries))
	}
	if t.RetryDelay != nil {
		e.add(n, "retry_delay", e.str(formatDuration(*t.RetryDelay)))
	}
	if t.RetryExponential != nil {
		e.add(n, "retry_exponential", boolean(*t.RetryExponential))
	}
	if t.MaxRetryDelay != nil {
		e.add(n, "max_retry_delay", e.str(formatDuration(*t.MaxRetryDelay)))
	}
	if t.ExecutionTimeout != nil {
		e.add(n, "execution_timeout", e.str(formatDuration(*t.ExecutionTimeout)))
	}
	if t.Resources != nil && *t.Resources != (Resources{}) {
		e.add(n, "resources", e.resources(*t.Resources))
	}
	if t.Pool != nil {
		e.add(n, "pool", e.str(*t.Pool))
	}
	if t.PoolSlots != nil {
		e.add(n, "pool_slots", integer(*t.PoolSlots))
	}
	if t.Priority != nil {
		e.add(n, "priority", integer(*t.Priority))
	}
	e.encodeNotify(n, nil, t)
	if t.SLA != nil {
		e.add(n, "sla", e.str(formatDuration(*t.SLA)))
	}
	return n
}

// params writes each param in the short form (name: default) unless it
// has a description.
func (e *encoder) params(ps []Param) *yaml.Node {
	n := e.mapping()
	for _, p := range ps {
		v := e.value(p.Default)
		if p.Description != "" {
			long := e.mapping()
			e.add(long, "default", v)
			e.add(long, "description", e.str(p.Description))
			v = long
		}
		e.add(n, p.Name, v)
	}
	return n
}

// value writes a param value: a string always as a string, a number or
// boolean plain.
func (e *encoder) value(v Value) *yaml.Node {
	switch v.Kind {
	case KindNumber, KindBool:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: v.Text}
	}
	return e.str(v.Text)
}

func (e *encoder) resources(r Resources) *yaml.Node {
	n := e.mapping()
	for _, key := range resourceKeys {
		s := *r.field(key)
		if s == "" {
			continue
		}
		v := e.str(s)
		if key != "preset" {
			// Quantities are written plain (cpu: 1, not cpu: "1"); Parse
			// reads any scalar as a quantity's text.
			v.Tag = ""
		}
		e.add(n, key, v)
	}
	return n
}

// encoder builds the node tree, keeping the first problem.
type encoder struct{ err error }

func (e *encoder) mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func (e *encoder) add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, e.str(key), v)
}

// str returns a string node; the YAML encoder quotes it when it would
// otherwise read back as another type (true, 8080, null).
func (e *encoder) str(s string) *yaml.Node {
	if !utf8.ValidString(s) && e.err == nil {
		// The encoder would write it as !!binary, which Parse refuses.
		e.err = fmt.Errorf("%q is not valid UTF-8", s)
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.HasPrefix(s, "\t") || strings.Contains(s, "\n\t") {
		// The YAML encoder would write a literal block whose line starts
		// with a tab, which its own parser then refuses. Double quotes
		// escape the tab.
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func (e *encoder) list(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range items {
		n.Content = append(n.Content, e.str(s))
	}
	return n
}

func integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// formatDuration writes d as time.Duration.String does, without the zero
// units it ends with: 1h rather than 1h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
