package dag

import (
	"fmt"
	"strings"
	"time"

	cron "github.com/netresearch/go-cron"
	"go.yaml.in/yaml/v3"
)

// Schedule says when a DAG runs.
type Schedule interface {
	// Next returns the first activation after t, in UTC, or the zero time
	// if there is none within five years.
	Next(t time.Time) time.Time
}

// cronParser reads the standard five fields and the descriptors. DowOrDom
// gives the day fields their classic cron meaning: "0 0 1 * MON" runs on
// the 1st and on every Monday, as in crontab(5), not only on Mondays that
// fall on the 1st.
var cronParser = cron.MustNewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor | cron.DowOrDom)

// ParseSchedule reads a schedule: a five-field cron expression (minute,
// hour, day of month, month, day of week), one of @hourly, @daily,
// @midnight, @weekly, @monthly, @yearly and @annually, or "@every 5m".
// Times are in UTC.
func ParseSchedule(expr string) (Schedule, error) { return ParseScheduleIn(expr, time.UTC) }

// ParseScheduleIn reads a schedule whose times are wall-clock times in loc
// (nil means UTC). Across a daylight-saving change it behaves like cron:
// a time in the hour that is skipped in spring (02:30 when clocks jump
// from 02:00 to 03:00) runs once, an hour later on the wall clock (03:30);
// a time in the hour that repeats in autumn runs once, at its first
// occurrence, unless the schedule also runs an hour earlier on the wall
// clock (hourly and finer schedules), which keeps their spacing: an
// hourly schedule runs every real hour across both changes. "@every"
// intervals are real durations and ignore the zone.
func ParseScheduleIn(expr string, loc *time.Location) (Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	expr = strings.Join(strings.Fields(expr), " ")
	switch {
	case expr == "":
		return nil, fmt.Errorf("empty schedule; leave schedule: out for a DAG that runs only when triggered")
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, fmt.Errorf("schedule %q names a time zone; remove it and set the DAG's timezone: instead (an IANA name like Europe/Berlin)", expr)
	case strings.HasPrefix(expr, "@every"):
		return parseEvery(expr)
	case strings.HasPrefix(expr, "@"):
		// Checked here so the message lists what is accepted.
		switch expr {
		case "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually":
		default:
			return nil, fmt.Errorf("unknown schedule %q; use @hourly, @daily, @weekly, @monthly, @yearly, \"@every <duration>\" or a cron expression", expr)
		}
	case len(strings.Fields(expr)) != 5:
		return nil, fmt.Errorf("schedule %q has %d fields; a cron expression has 5: minute hour day-of-month month day-of-week, like \"30 2 * * *\"", expr, len(strings.Fields(expr)))
	}
	// The parser reads times in the process's zone unless told otherwise.
	s, err := cronParser.Parse("TZ=" + loc.String() + " " + expr)
	if err != nil {
		return nil, fmt.Errorf("bad schedule %q: %v; write 5 fields: minute hour day-of-month month day-of-week, like \"30 2 * * *\"", expr, err)
	}
	var sched Schedule = utcSchedule{s}
	if loc != time.UTC {
		sched = zonedSchedule{s: s, loc: loc}
	}
	// A date that does not exist ("0 0 30 2 *") parses but never fires.
	if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires; check the day of month against the month", expr)
	}
	return sched, nil
}

func parseEvery(expr string) (Schedule, error) {
	arg, ok := strings.CutPrefix(expr, "@every ")
	if !ok {
		return nil, fmt.Errorf("schedule %q needs an interval, like \"@every 5m\"", expr)
	}
	d, err := time.ParseDuration(arg)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: bad interval %q; write it like 30s, 5m or 1h30m", expr, arg)
	}
	if d < time.Second || d%time.Second != 0 {
		return nil, fmt.Errorf("schedule %q: the interval must be whole seconds, at least 1s", expr)
	}
	return everySchedule{d}, nil
}

// everySchedule runs at a fixed interval, in whole seconds.
type everySchedule struct{ d time.Duration }

func (e everySchedule) Next(t time.Time) time.Time {
	return cron.Every(e.d).Next(t.UTC()).UTC()
}

// PrevTick returns the last tick of s before t, t being a tick of s, or
// the zero time if there is none within about five years. For "@every"
// schedules, whose ticks have no fixed phase, it is t minus the interval.
func PrevTick(s Schedule, t time.Time) time.Time {
	t = t.UTC()
	if e, ok := s.(everySchedule); ok {
		return t.Add(-e.d)
	}
	// Look back over growing windows; the first that holds a tick before
	// t holds the last one, found by walking forward to t.
	for _, w := range []time.Duration{time.Minute, time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour} {
		n := s.Next(t.Add(-w - time.Nanosecond))
		if n.IsZero() || !n.Before(t) {
			continue
		}
		for {
			m := s.Next(n)
			if m.IsZero() || !m.Before(t) {
				return n
			}
			n = m
		}
	}
	return time.Time{}
}

type utcSchedule struct{ s cron.Schedule }

func (u utcSchedule) Next(t time.Time) time.Time {
	next := u.s.Next(t.UTC())
	if next.IsZero() {
		return next
	}
	return next.UTC()
}

// zonedSchedule is a cron schedule read in a zone with daylight-saving
// changes; see ParseScheduleIn for what it does across them.
type zonedSchedule struct {
	s   cron.Schedule
	loc *time.Location
}

func (z zonedSchedule) Next(t time.Time) time.Time {
	next := z.s.Next(t.In(z.loc))
	for !next.IsZero() && repeated(next) && !z.firesHourBefore(next) {
		next = z.s.Next(next)
	}
	if next.IsZero() {
		return next
	}
	return next.UTC()
}

// firesHourBefore reports whether the schedule has a tick one hour before
// the wall-clock time of t.
func (z zonedSchedule) firesHourBefore(t time.Time) bool {
	t = t.In(z.loc)
	w := time.Date(t.Year(), t.Month(), t.Day(), t.Hour()-1, t.Minute(), t.Second(), 0, z.loc)
	return z.s.Next(w.Add(-time.Second)).Equal(w)
}

// repeated reports whether the wall-clock time of t occurred once before,
// under the larger offset the zone had before a change back.
func repeated(t time.Time) bool {
	_, off := t.Zone()
	for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		if _, prev := t.Add(-d).Zone(); time.Duration(prev-off)*time.Second == d {
			return true
		}
	}
	return false
}

// Timing is what a stored DAG (its canonical encoding, Encode) says about
// when it runs: enough to plan runs for a range of dates (a backfill)
// without the presets its tasks were resolved against.
type Timing struct {
	Schedule Schedule // nil for a DAG that runs only when triggered
	Expr     string
	Location *time.Location
	// MaxActiveRuns is the DAG's max_active_runs.
	MaxActiveRuns int
}

// TimingOf reads a DAG's Timing from its canonical encoding.
func TimingOf(src []byte) (Timing, error) {
	var doc struct {
		ID            string `yaml:"id"`
		Schedule      string `yaml:"schedule"`
		Timezone      string `yaml:"timezone"`
		MaxActiveRuns int    `yaml:"max_active_runs"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return Timing{}, fmt.Errorf("read stored DAG: %w", err)
	}
	t := Timing{Expr: doc.Schedule, Location: time.UTC, MaxActiveRuns: doc.MaxActiveRuns}
	if t.MaxActiveRuns <= 0 {
		t.MaxActiveRuns = DefaultMaxActiveRuns
	}
	if doc.Timezone != "" {
		loc, err := time.LoadLocation(doc.Timezone)
		if err != nil {
			return Timing{}, fmt.Errorf("DAG %s: timezone %q: %w", doc.ID, doc.Timezone, err)
		}
		t.Location = loc
	}
	if doc.Schedule == "" {
		return t, nil
	}
	s, err := ParseScheduleIn(doc.Schedule, t.Location)
	if err != nil {
		return Timing{}, fmt.Errorf("DAG %s: %w", doc.ID, err)
	}
	t.Schedule = s
	return t, nil
}
