// Package printer is the output grammar of every read command of both
// binaries (issue 19): -o table|json|yaml|jsonpath=TEMPLATE and
// --no-headers, as kubectl users know them.
//
// A command builds a Table for people and hands the printer the value a
// script reads (for vigil, the api wire types: stable snake_case, no zero
// times); json and yaml print that value, and a jsonpath template is
// applied to its JSON form, like kubectl's:
//
//	var po printer.Options
//	po.AddFlags(cmd.Flags())
//	...
//	t := printer.NewTable("DAG", "STATE")
//	t.Row(d.ID, d.State)
//	return po.Print(out, list, t)
package printer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"

	"github.com/vigilhq/vigil/internal/exitcode"
)

// Choices lists the -o values, for help and errors.
const Choices = "table, json, yaml or jsonpath=TEMPLATE"

// Options are a read command's output flags.
type Options struct {
	// Output is the -o value: "" or table, json, yaml, jsonpath=TEMPLATE.
	Output string
	// NoHeaders leaves out a table's header row.
	NoHeaders bool

	// stream is set by Stream: one document after another (--watch).
	stream bool
}

// Stream returns o for a command that prints one document after another
// (--watch): -o json then writes each as one compact line (JSON Lines), so
// a script reads the stream line by line, and -o yaml starts each with
// "---".
func (o Options) Stream() Options {
	o.stream = true
	return o
}

// AddFlags adds -o/--output and --no-headers to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Output, "output", "o", "table", "output format: "+Choices)
	fs.BoolVar(&o.NoHeaders, "no-headers", false, "leave out the table's header row")
}

// Validate checks -o, so that a command refuses a bad one before it asks
// a server anything. The error carries exit status 2 (usage).
func (o Options) Validate() error {
	_, err := o.format()
	return err
}

// Human reports whether the output is the table, for people: a command
// adds its notes and hints only then.
func (o Options) Human() bool {
	f, _ := o.format()
	return f == "table"
}

func (o Options) format() (string, error) {
	switch o.Output {
	case "", "table":
		return "table", nil
	case "json", "yaml":
		return o.Output, nil
	}
	if tmpl, ok := strings.CutPrefix(o.Output, "jsonpath="); ok {
		if _, err := parseJSONPath(tmpl); err != nil {
			return "", exitcode.With(exitcode.Usage, fmt.Errorf("-o %s: %w", o.Output, err))
		}
		return "jsonpath", nil
	}
	return "", exitcode.With(exitcode.Usage, fmt.Errorf("-o %q: use %s", o.Output, Choices))
}

// parseJSONPath parses a template as kubectl does: "{.items[*].id}", or
// ".items[*].id" with the braces left out.
func parseJSONPath(tmpl string) (*jsonpath.JSONPath, error) {
	if tmpl == "" {
		return nil, fmt.Errorf("empty template; e.g. -o jsonpath='{.items[*].id}'")
	}
	if !strings.Contains(tmpl, "{") {
		tmpl = "{" + tmpl + "}"
	}
	jp := jsonpath.New("output")
	if err := jp.Parse(tmpl); err != nil {
		return nil, err
	}
	return jp, nil
}

// Print writes v in the chosen format to w; t is the table form.
func (o Options) Print(w io.Writer, v any, t *Table) error {
	return o.PrintWith(w, v, func() error { return t.write(w, !o.NoHeaders) })
}

// PrintWith is Print for a command whose human form is not one table (a
// screen of sections, a stack dump): human writes it, and honours
// NoHeaders where it has header rows.
func (o Options) PrintWith(w io.Writer, v any, human func() error) error {
	f, err := o.format()
	if err != nil {
		return err
	}
	switch f {
	case "json":
		enc := json.NewEncoder(w)
		if !o.stream {
			enc.SetIndent("", "  ")
		}
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		if o.stream {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		_, err = w.Write(b)
		return err
	case "jsonpath":
		return printJSONPath(w, strings.TrimPrefix(o.Output, "jsonpath="), v)
	}
	if human == nil {
		return nil
	}
	return human()
}

// printJSONPath applies tmpl to v's JSON form, so that a template names
// the same keys -o json prints.
func printJSONPath(w io.Writer, tmpl string, v any) error {
	jp, err := parseJSONPath(tmpl)
	if err != nil {
		return exitcode.With(exitcode.Usage, fmt.Errorf("-o jsonpath=%s: %w", tmpl, err))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var data any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // ids and counts print as written, not as 1e+06
	if err := dec.Decode(&data); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := jp.Execute(&buf, data); err != nil {
		return fmt.Errorf("-o jsonpath=%s: %w", tmpl, err)
	}
	if buf.Len() > 0 && !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// WriteTable writes t for people, with its header row unless NoHeaders:
// for a command whose human form holds a table among other lines.
func (o Options) WriteTable(w io.Writer, t *Table) error { return t.write(w, !o.NoHeaders) }

// Table is a human table: a header row and rows, printed in aligned
// columns.
type Table struct {
	headers []string
	rows    [][]string
}

// NewTable returns an empty table with these column headers.
func NewTable(headers ...string) *Table { return &Table{headers: headers} }

// Row adds a row; each column is printed with fmt.Sprint.
func (t *Table) Row(cols ...any) {
	r := make([]string, len(cols))
	for i, c := range cols {
		r[i] = fmt.Sprint(c)
	}
	t.rows = append(t.rows, r)
}

// Rows returns the rows, each column as printed.
func (t *Table) Rows() [][]string { return t.rows }

// Len is the number of rows.
func (t *Table) Len() int { return len(t.rows) }

func (t *Table) write(w io.Writer, headers bool) error {
	if t == nil {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if headers && len(t.headers) > 0 {
		fmt.Fprintln(tw, strings.Join(t.headers, "\t"))
	}
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
