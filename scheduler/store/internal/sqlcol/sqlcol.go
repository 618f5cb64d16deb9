// Package sqlcol converts between Go values and the SQL columns both
// stores (SQLite and PostgreSQL) use: times as UTC unix nanoseconds (NULL
// for the zero time), optional ints, and task specs as JSON.
package sqlcol

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// The times an int64 of unix nanoseconds can hold (1677 to 2262).
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// TimeArg binds a time as unix nanoseconds, or NULL for the zero time.
type TimeArg time.Time

func (t TimeArg) Value() (driver.Value, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return nil, nil
	}
	if tt.Before(minTime) || tt.After(maxTime) {
		return nil, fmt.Errorf("time %s is outside the years 1678 to 2262 the store can hold", tt)
	}
	return tt.UnixNano(), nil
}

// TimeDest scans what TimeArg bound back into a UTC time; Time makes one.
type TimeDest struct{ t *time.Time }

// Time returns a scan destination for a time column.
func Time(p *time.Time) TimeDest { return TimeDest{p} }

func (d TimeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("scan time: want unix nanoseconds, got %T", src)
	}
	return nil
}

// IntPtrArg binds an optional integer (an exit code) as NULL when absent.
func IntPtrArg(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// IntPtrDest scans what IntPtrArg bound; IntPtr makes one.
type IntPtrDest struct{ p **int }

// IntPtr returns a scan destination for an optional integer column.
func IntPtr(p **int) IntPtrDest { return IntPtrDest{p} }

func (d IntPtrDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = nil
	case int64:
		n := int(v)
		*d.p = &n
	default:
		return fmt.Errorf("scan integer: got %T", src)
	}
	return nil
}

// EncodeSpecs is the stored form of a DAG's task specs: a JSON object from
// task id to dag.EncodeSpec.
func EncodeSpecs(specs map[string]dag.TaskSpec) (string, error) {
	raw := make(map[string]json.RawMessage, len(specs))
	for id, s := range specs {
		b, err := dag.EncodeSpec(s)
		if err != nil {
			return "", fmt.Errorf("task %s: %w", id, err)
		}
		raw[id] = b
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func DecodeSpecs(text []byte) (map[string]dag.TaskSpec, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(text, &raw); err != nil {
		return nil, fmt.Errorf("decode task specs: %w", err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	specs := make(map[string]dag.TaskSpec, len(raw))
	for id, b := range raw {
		s, err := dag.DecodeSpec(b)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", id, err)
		}
		specs[id] = s
	}
	return specs, nil
}
