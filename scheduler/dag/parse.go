package dag

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Values a DAG file gets for keys it leaves out. Encode writes them
// explicitly, so a stored encoding keeps its meaning if these change.
const (
	DefaultMaxActiveRuns  = 16
	DefaultMaxActiveTasks = 16
	DefaultRetryDelay     = 30 * time.Second
	DefaultMaxRetryDelay  = 10 * time.Minute
)

var (
	dagSchema = schema{what: "the DAG", ext: true, keys: []string{
		"id", "description", "schedule", "timezone", "start_date", "catchup",
		"max_active_runs", "max_active_tasks", "run_timeout", "max_catchup_runs", "params", "defaults", "tasks",
		"on_failure", "on_retry", "on_success", "on_sla_miss", "sla",
	}}
	retryKeys      = []string{"retries", "retry_delay", "retry_exponential", "max_retry_delay", "execution_timeout"}
	defaultsSchema = schema{what: "defaults", keys: slices.Concat(retryKeys, []string{"resources"}, slotKeys)}
	taskSchema     = schema{what: "a task", keys: slices.Concat(
		[]string{"id", "depends_on", "trigger_rule", "command", "args", "env", "image"}, retryKeys, []string{"resources"}, slotKeys, notifyKeys, []string{"sla"})}
	envSchema = schema{what: "env", keepNull: true}
)

// Parse reads one DAG file, checks it and returns it normalised: defaults
// filled in, depends_on sorted without duplicates, env sorted by name,
// quantities in canonical form. presets are the resource presets tasks may
// name. file is used in messages and kept as DAG.File.
//
// The error, if any, is an ErrorList holding every problem in the file.
func Parse(file string, data []byte, presets Presets) (*DAG, error) {
	return (&reader{file: file, presets: presets}).parse(data)
}

func (r *reader) parse(data []byte) (*DAG, error) {
	var d *DAG
	if doc := r.document(data); doc != nil {
		d = r.dag(doc)
	}
	if len(r.errs) > 0 || d == nil {
		return nil, r.errs.sorted().capped(r.file)
	}
	d.File = r.file
	return d, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document returns the top node of the file's one YAML document.
func (r *reader) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			e := &Error{File: r.file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				e.Line, _ = strconv.Atoi(m[1])
				e.Msg = m[2]
			}
			e.Msg = "invalid YAML: " + e.Msg + "; check the indentation and quoting here"
			r.errs = append(r.errs, e)
			return nil
		}
		// An empty document, such as after a trailing "---", holds nothing
		// to disagree about.
		if len(doc.Content) > 0 && !isNull(doc.Content[0]) {
			docs = append(docs, doc.Content[0])
		}
	}
	if len(docs) == 0 {
		msg := "the file holds no DAG; write at least id: and tasks:"
		if r.emptyMsg != "" {
			msg = r.emptyMsg
		}
		r.errs = append(r.errs, &Error{File: r.file, Msg: msg})
		return nil
	}
	if len(docs) > 1 {
		r.errorf(docs[1], "", "a second YAML document starts here; a DAG file holds one DAG, so move it to its own file")
	}
	return docs[0]
}

func (r *reader) dag(top *yaml.Node) *DAG {
	fields, ok := r.mapping(top, "", dagSchema)
	if !ok {
		return nil
	}
	d := &DAG{
		MaxActiveRuns:  DefaultMaxActiveRuns,
		MaxActiveTasks: DefaultMaxActiveTasks,
		Defaults:       Defaults{RetryDelay: DefaultRetryDelay, MaxRetryDelay: DefaultMaxRetryDelay},
	}
	d.ID = r.id(fields, deref(top), "", "the DAG")
	if f, ok := fields["description"]; ok {
		d.Description, _ = r.str(f, "")
	}
	var loc *time.Location
	if f, ok := fields["timezone"]; ok {
		d.Timezone, loc = r.timezone(f)
	}
	if f, ok := fields["schedule"]; ok {
		d.Schedule = r.schedule(f, loc)
	}
	if f, ok := fields["start_date"]; ok {
		d.StartDate, _ = r.date(f)
	}
	if f, ok := fields["catchup"]; ok {
		d.Catchup, _ = r.boolean(f, "")
	}
	if f, ok := fields["max_active_runs"]; ok {
		d.MaxActiveRuns, _ = r.integer(f, "", 1)
	}
	if f, ok := fields["max_active_tasks"]; ok {
		d.MaxActiveTasks, _ = r.integer(f, "", 1)
	}
	if f, ok := fields["run_timeout"]; ok {
		d.RunTimeout = r.runTimeout(f)
	}
	if f, ok := fields["max_catchup_runs"]; ok {
		d.MaxCatchupRuns, _ = r.integer(f, "", 1)
	}
	if f, ok := fields["params"]; ok {
		d.Params = r.params(f)
	}
	d.Notify = r.dagNotify(fields)
	if f, ok := fields["sla"]; ok {
		d.SLA, _ = r.duration(f, "")
	}
	var defs defaultNodes
	if f, ok := fields["defaults"]; ok {
		defs = r.defaults(f, &d.Defaults)
	}
	var nodes []taskNodes
	d.Tasks, nodes = r.tasks(fields, deref(top))
	r.checkGraph(d.Tasks, nodes)
	r.checkEffective(d, defs, nodes)
	return d
}

// timezone reads an IANA zone name. UTC, however written, is kept as "",
// so that a DAG in UTC encodes the same with or without the key.
func (r *reader) timezone(f field) (string, *time.Location) {
	s, ok := r.str(f, "")
	if !ok {
		return "", nil
	}
	// Local would mean the zone of whichever machine runs the scheduler.
	if s == "" || s == "Local" || strings.TrimSpace(s) != s {
		r.errorf(f.val, "", "timezone %q is not an IANA time zone name; write one like Europe/Berlin or America/New_York, or leave timezone: out for UTC", s)
		return "", nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		r.errorf(f.val, "", "unknown timezone %q; write an IANA time zone name like Europe/Berlin or America/New_York, or leave timezone: out for UTC", s)
		return "", nil
	}
	if s == "UTC" {
		return "", nil
	}
	return s, loc
}

func (r *reader) schedule(f field, loc *time.Location) string {
	s, ok := r.str(f, "")
	if !ok {
		return ""
	}
	// Spacing carries no meaning; dropping it keeps equal DAGs equal.
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	if _, err := ParseScheduleIn(s, loc); err != nil {
		r.errorf(f.val, "", "%v", err)
	}
	return s
}

// runTimeout reads run_timeout, which must be positive: a run bounded by
// zero would fail the moment it starts.
func (r *reader) runTimeout(f field) time.Duration {
	d, ok := r.duration(f, "")
	if ok && d == 0 {
		r.errorf(f.val, "", "run_timeout must be more than 0s; write it like 30m or 2h, or leave it out for no bound")
		return 0
	}
	return d
}

// defaults reads the defaults: mapping into d and returns where its parts
// are, for the later checks to point at.
func (r *reader) defaults(f field, d *Defaults) defaultNodes {
	fields, ok := r.mapping(f.val, "", defaultsSchema)
	if !ok {
		return defaultNodes{}
	}
	nodes := defaultNodes{fields: fields}
	o := r.overrides(fields, "")
	if o.Retries != nil {
		d.Retries = *o.Retries
	}
	if o.RetryDelay != nil {
		d.RetryDelay = *o.RetryDelay
	}
	if o.RetryExponential != nil {
		d.RetryExponential = *o.RetryExponential
	}
	if o.MaxRetryDelay != nil {
		d.MaxRetryDelay = *o.MaxRetryDelay
	}
	if o.ExecutionTimeout != nil {
		d.ExecutionTimeout = *o.ExecutionTimeout
	}
	d.Pool, d.PoolSlots, d.Priority = or(o.Pool, d.Pool), or(o.PoolSlots, d.PoolSlots), or(o.Priority, d.Priority)
	if res, ok := fields["resources"]; ok {
		var rs *Resources
		if rs, nodes.res = r.resources(res, ""); rs != nil {
			d.Resources = *rs
		}
	}
	return nodes
}

// overrides holds the retry settings a task may set; Task has the same
// pointer fields.
type overrides struct {
	Retries          *int
	RetryDelay       *time.Duration
	RetryExponential *bool
	MaxRetryDelay    *time.Duration
	ExecutionTimeout *time.Duration
	slots
}

func (r *reader) overrides(fields map[string]field, task string) overrides {
	o := overrides{slots: r.slots(fields, task)}
	if f, ok := fields["retries"]; ok {
		if v, ok := r.integer(f, task, 0); ok {
			o.Retries = &v
		}
	}
	if f, ok := fields["retry_exponential"]; ok {
		if v, ok := r.boolean(f, task); ok {
			o.RetryExponential = &v
		}
	}
	for _, d := range []struct {
		name string
		dst  **time.Duration
	}{
		{"retry_delay", &o.RetryDelay},
		{"max_retry_delay", &o.MaxRetryDelay},
		{"execution_timeout", &o.ExecutionTimeout},
	} {
		if f, ok := fields[d.name]; ok {
			if v, ok := r.duration(f, task); ok {
				*d.dst = &v
			}
		}
	}
	return o
}

var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$`)

// id reads the id of the DAG or of a task.
func (r *reader) id(fields map[string]field, at *yaml.Node, task, what string) string {
	f, ok := fields["id"]
	if !ok {
		r.errorf(at, task, "%s has no id; add id: followed by a name of lowercase letters, digits, '_', '.' and '-'", what)
		return ""
	}
	s, ok := r.str(f, task)
	if !ok {
		return ""
	}
	if !idPattern.MatchString(s) {
		msg := "use lowercase letters, digits, '_', '.' and '-', starting and ending with a letter or digit, at most 63 characters (ids become part of Kubernetes names)"
		if fix := fixID(s); fix != "" {
			msg += ", for example " + strconv.Quote(fix)
		}
		r.errorf(f.val, task, "bad id %q: %s", s, msg)
	}
	return s
}

// fixID suggests a valid id close to s, or "" when there is none.
func fixID(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	fix := strings.Trim(string(b[:min(len(b), 63)]), "_.-")
	if !idPattern.MatchString(fix) || fix == s {
		return ""
	}
	return fix
}
