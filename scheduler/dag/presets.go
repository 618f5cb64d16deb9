package dag

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// resourceKeys are the keys of a resources: mapping, in canonical order.
var resourceKeys = []string{"preset", "cpu", "memory", "cpu_limit", "memory_limit", "ephemeral_disk"}

var resourcesSchema = schema{what: "resources", keys: resourceKeys}

// limitPairs are the quantities whose limit must not be below the request.
var limitPairs = [][2]string{{"cpu", "cpu_limit"}, {"memory", "memory_limit"}}

// field returns the field of r named by a key of resourceKeys.
func (r *Resources) field(key string) *string {
	switch key {
	case "preset":
		return &r.Preset
	case "cpu":
		return &r.CPU
	case "memory":
		return &r.Memory
	case "cpu_limit":
		return &r.CPULimit
	case "memory_limit":
		return &r.MemoryLimit
	case "ephemeral_disk":
		return &r.EphemeralDisk
	}
	panic("dag: unknown resource key " + key)
}

// DefaultPresets returns the presets a config without presets: gets.
func DefaultPresets() Presets {
	return Presets{
		"small":  {CPU: "250m", Memory: "256Mi"},
		"medium": {CPU: "1", Memory: "1Gi"},
		"large":  {CPU: "2", Memory: "4Gi"},
	}
}

// Validate checks that every preset holds valid, non-negative quantities,
// names no preset itself and sets no limit below its request.
func (p Presets) Validate() error {
	var errs []error
	for _, name := range p.names() {
		res := p[name]
		if res.Preset != "" {
			errs = append(errs, fmt.Errorf("preset %q sets preset %q; a preset cannot name another preset, so copy its values instead", name, res.Preset))
		}
		qs := map[string]resource.Quantity{}
		for _, key := range resourceKeys[1:] {
			s := *res.field(key)
			if s == "" {
				continue
			}
			q, _, err := quantity(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("preset %q: %s: %w", name, key, err))
				continue
			}
			qs[key] = q
		}
		for _, pair := range limitPairs {
			req, okR := qs[pair[0]]
			lim, okL := qs[pair[1]]
			if okR && okL && lim.Cmp(req) < 0 {
				errs = append(errs, fmt.Errorf("preset %q: %s %s is below %s %s; raise the limit or lower the request", name, pair[1], lim.String(), pair[0], req.String()))
			}
		}
	}
	return errors.Join(errs...)
}

// names returns the preset names, sorted.
func (p Presets) names() []string {
	names := make([]string, 0, len(p))
	for name := range p {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (p Presets) unknown(name string) string {
	known := "none"
	if len(p) > 0 {
		known = strings.Join(p.names(), ", ")
	}
	return fmt.Sprintf("unknown preset %q (known: %s); use one of those or define it under presets: in the config", name, known)
}

// maxQuantity is where ParseQuantity silently caps binary quantities.
var maxQuantity = resource.NewQuantity(math.MaxInt64, resource.DecimalSI)

// quantity parses a Kubernetes quantity and returns it with its canonical
// text. It refuses what the canonical text would not keep: a negative
// amount, or one so large that ParseQuantity caps it or its canonical form
// reads back as another amount (1e21 canonicalises to "1").
func quantity(s string) (resource.Quantity, string, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, "", fmt.Errorf("%q is not a quantity; write CPU like 500m or 2 and memory like 256Mi or 4Gi", s)
	}
	if q.Sign() < 0 {
		return q, "", fmt.Errorf("%q is negative; a resource amount must be zero or more", s)
	}
	// String would return s itself when s merely looks canonical ("+1").
	number, suffix := q.CanonicalizeBytes(nil)
	text := string(number) + string(suffix)
	back, err := resource.ParseQuantity(text)
	if q.Cmp(*maxQuantity) >= 0 || err != nil || back.Cmp(q) != 0 {
		return q, "", fmt.Errorf("%q is too large to be kept exactly; no node has that much", s)
	}
	return q, text, nil
}

// resources reads a resources: mapping. Quantities are stored in canonical
// form, so 1000m and 1 are the same DAG. An empty mapping reads as nil.
func (r *reader) resources(f field, task string) (*Resources, map[string]field) {
	fields, ok := r.mapping(f.val, task, resourcesSchema)
	if !ok {
		return nil, nil
	}
	var res Resources
	for _, key := range resourceKeys {
		rf, ok := fields[key]
		if !ok {
			continue
		}
		s, ok := r.str(rf, task)
		if !ok || s == "" {
			continue
		}
		if key == "preset" {
			if _, known := r.presets[s]; !known {
				r.errorf(rf.val, task, "%s", r.presets.unknown(s))
				continue
			}
			res.Preset = s
			continue
		}
		_, text, err := quantity(s)
		if err != nil {
			r.errorf(rf.val, task, "%s: %v", key, err)
			continue
		}
		*res.field(key) = text
	}
	if res == (Resources{}) {
		return nil, fields
	}
	return &res, fields
}
