package profile

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	pprofile "github.com/google/pprof/profile"
)

// LabelKeys are the goroutine labels the scheduler sets, in the order the
// breakdown prints them: which loop, which phase of it, which DAG, which
// task.
var LabelKeys = []string{"loop", "phase", "dag", "task"}

// labelTop is how many values of each label the breakdown names.
const labelTop = 5

// WriteLabels prints, for each of LabelKeys, the share of the profile's
// main value (CPU time, wall time, goroutines) under its most common
// values: "dag  hot 71%  quiet 0.4%  (none) 28%". This is the answer to
// "which DAG is using the CPU" that the top table, which is by function,
// does not give. Profiles without labels (heap, allocs) print nothing.
func WriteLabels(w io.Writer, file string) error {
	p, err := readProfile(file)
	if err != nil {
		return err
	}
	vi := len(p.SampleType) - 1 // cpu nanoseconds, not sample counts
	var total int64
	sums := map[string]map[string]int64{}
	labelled := false
	for _, s := range p.Sample {
		v := s.Value[vi]
		total += v
		for _, k := range LabelKeys {
			val := "(none)"
			if vs := s.Label[k]; len(vs) > 0 {
				val, labelled = vs[0], true
			}
			if sums[k] == nil {
				sums[k] = map[string]int64{}
			}
			sums[k][val] += v
		}
	}
	if !labelled || total <= 0 {
		return nil
	}
	fmt.Fprintf(w, "BY LABEL (share of %s %s)\n", formatValue(total, p.SampleType[vi]), p.SampleType[vi].Type)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range LabelKeys {
		type share struct {
			val string
			v   int64
		}
		var list []share
		for val, v := range sums[k] {
			list = append(list, share{val, v})
		}
		slices.SortFunc(list, func(a, b share) int { return cmp.Or(cmp.Compare(b.v, a.v), strings.Compare(a.val, b.val)) })
		var parts []string
		for i, s := range list {
			if i == labelTop {
				parts = append(parts, fmt.Sprintf("(%d more)", len(list)-labelTop))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %s", s.val, percent(s.v, total)))
		}
		fmt.Fprintf(tw, "  %s\t%s\n", k, strings.Join(parts, "  "))
	}
	return tw.Flush()
}

func percent(v, total int64) string {
	p := 100 * float64(v) / float64(total)
	if p < 10 {
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%.0f%%", p)
}

func formatValue(v int64, t *pprofile.ValueType) string {
	if t.Unit == "nanoseconds" {
		return time.Duration(v).Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%d", v)
}
