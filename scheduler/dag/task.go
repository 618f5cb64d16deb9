package dag

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// taskNodes keeps where a task's parts are in the file, for the checks
// that run once every task is read.
type taskNodes struct {
	node   *yaml.Node
	id     *yaml.Node
	deps   map[string]*yaml.Node // first mention of each dependency
	fields map[string]field
	res    map[string]field
}

func (r *reader) tasks(fields map[string]field, top *yaml.Node) ([]Task, []taskNodes) {
	f, ok := fields["tasks"]
	if !ok {
		r.errorf(top, "", "the DAG has no tasks; add a tasks: list with at least one task (id: and command:)")
		return nil, nil
	}
	seq := f.val
	if seq.Kind != yaml.SequenceNode {
		r.errorf(seq, "", "tasks must be a list of tasks, each starting with \"- id:\", got %s", describe(seq))
		return nil, nil
	}
	if len(seq.Content) == 0 {
		r.errorf(seq, "", "tasks is empty; add at least one task with id: and command:")
		return nil, nil
	}
	var tasks []Task
	var nodes []taskNodes
	for _, n := range seq.Content {
		if t, tn, ok := r.task(deref(n)); ok {
			tasks = append(tasks, t)
			nodes = append(nodes, tn)
		}
	}
	return tasks, nodes
}

func (r *reader) task(n *yaml.Node) (Task, taskNodes, bool) {
	name := peekID(n)
	fields, ok := r.mapping(n, name, taskSchema)
	if !ok {
		return Task{}, taskNodes{}, false
	}
	tn := taskNodes{node: n, fields: fields, deps: map[string]*yaml.Node{}}
	t := Task{ID: r.id(fields, n, name, "the task")}
	if f, ok := fields["id"]; ok {
		tn.id = f.val
	}
	if f, ok := fields["depends_on"]; ok {
		deps, ns, _ := r.list(f, name)
		for i, dep := range deps {
			if _, seen := tn.deps[dep]; !seen {
				tn.deps[dep] = ns[i]
				t.DependsOn = append(t.DependsOn, dep)
			}
		}
		slices.Sort(t.DependsOn)
	}
	if f, ok := fields["trigger_rule"]; ok {
		t.TriggerRule = r.triggerRule(f, name)
	}
	if f, ok := fields["command"]; ok {
		cmd, ns, ok := r.list(f, name)
		switch {
		case !ok:
		case len(cmd) == 0:
			r.errorf(f.val, name, "command is empty; give the program and its arguments, like command: [sh, -c, \"echo hi\"]")
		case cmd[0] == "":
			r.errorf(ns[0], name, "command[0] is empty; it names the program to run")
		}
		t.Command = cmd
	} else {
		r.errorf(n, name, "missing command; add the program and its arguments, like command: [sh, -c, \"echo hi\"]")
	}
	if f, ok := fields["args"]; ok {
		t.Args, _, _ = r.list(f, name)
	}
	if f, ok := fields["env"]; ok {
		t.Env = r.env(f, name)
	}
	if f, ok := fields["image"]; ok {
		if s, ok := r.str(f, name); ok && strings.ContainsFunc(s, isSpace) {
			r.errorf(f.val, name, "image %q contains white space; write a reference like busybox:1.36", s)
		} else {
			t.Image = s
		}
	}
	o := r.overrides(fields, name)
	t.Retries, t.RetryDelay, t.RetryExponential = o.Retries, o.RetryDelay, o.RetryExponential
	t.MaxRetryDelay, t.ExecutionTimeout = o.MaxRetryDelay, o.ExecutionTimeout
	t.Pool, t.PoolSlots, t.Priority = o.Pool, o.PoolSlots, o.Priority
	if f, ok := fields["resources"]; ok {
		t.Resources, tn.res = r.resources(f, name)
	}
	r.taskNotify(fields, name, &t)
	if f, ok := fields["sla"]; ok {
		if d, ok := r.duration(f, name); ok {
			t.SLA = &d
		}
	}
	return t, tn, true
}

func isSpace(c rune) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// peekID returns the id a task mapping declares, for naming the task in
// messages about it before its id is checked.
func peekID(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Value == "id" && v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value
		}
	}
	return ""
}

var envName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

func (r *reader) env(f field, task string) []EnvVar {
	fields, ok := r.mapping(f.val, task, envSchema)
	if !ok {
		return nil
	}
	var env []EnvVar
	for name, ef := range fields {
		switch {
		case !envName.MatchString(name):
			r.errorf(ef.key, task, "env name %q is not a valid variable name; use letters, digits, '_', '.' and '-', not starting with a digit", name)
			continue
		case strings.HasPrefix(name, "VIGIL_"):
			r.errorf(ef.key, task, "env name %q: VIGIL_ variables are set by vigil for every try; choose another name", name)
			continue
		case isNull(ef.val):
			r.errorf(ef.val, task, "env %s has no value; write %s: \"\" for an empty one", name, name)
			continue
		}
		v, ok := r.text(ef.val, task, "env "+name)
		if ok && strings.ContainsRune(v, 0) {
			r.errorf(ef.val, task, "env %s contains a NUL byte, which no program can receive; remove it", name)
		}
		env = append(env, EnvVar{Name: name, Value: v})
	}
	slices.SortFunc(env, func(a, b EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return env
}
