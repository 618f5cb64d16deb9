package dag

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	// A Friday, 10:17:30 UTC.
	from := time.Date(2026, 1, 2, 10, 17, 30, 0, time.UTC)
	for _, tt := range []struct {
		expr string
		want time.Time
	}{
		{"@hourly", time.Date(2026, 1, 2, 11, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)},
		{"@midnight", time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)},
		{"@weekly", time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)},
		{"@monthly", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"@yearly", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"@every 5m", time.Date(2026, 1, 2, 10, 22, 30, 0, time.UTC)},
		{"*/15 * * * *", time.Date(2026, 1, 2, 10, 30, 0, 0, time.UTC)},
		{"30  2 * * *", time.Date(2026, 1, 3, 2, 30, 0, 0, time.UTC)},
		{"0 9 * * MON-FRI", time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)},
		// Day of month and day of week both set: either matches, as in
		// crontab(5). Saturday the 3rd comes before the next 15th.
		{"0 0 15 * SAT", time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := ParseSchedule(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(from); !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Next(%v) = %v, want %v", from, got, tt.want)
			}
		})
	}
}

// TestScheduleUTC checks that the process's time zone and the zone of the
// time passed in do not move the schedule.
func TestScheduleUTC(t *testing.T) {
	s, err := ParseSchedule("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	tokyo := time.FixedZone("JST", 9*3600)
	from := time.Date(2026, 1, 2, 11, 0, 0, 0, tokyo) // 02:00 UTC
	want := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	if got := s.Next(from); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Next(%v) = %v, want %v", from, got, want)
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{"", "empty schedule"},
		{"* * * *", "has 4 fields; a cron expression has 5"},
		{"0 0 0 * * *", "has 6 fields"},
		{"60 * * * *", `bad schedule "60 * * * *"`},
		{"* * * * FOO", `bad schedule "* * * * FOO"`},
		{"@reboot", `unknown schedule "@reboot"`},
		{"@every", "needs an interval"},
		{"@every 0s", "at least 1s"},
		{"@every 1500ms", "whole seconds"},
		{"@every soon", `bad interval "soon"`},
		{"CRON_TZ=UTC 0 * * * *", "set the DAG's timezone:"},
		{"0 0 31 2 *", "never fires"},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseSchedule(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", tt.expr, err, tt.want)
			}
		})
	}
}

// ticks returns the schedule's ticks in [from, to), in UTC.
func ticks(t *testing.T, s Schedule, from, to time.Time) []string {
	t.Helper()
	var got []string
	for n := s.Next(from.Add(-time.Nanosecond)); !n.IsZero() && n.Before(to); n = s.Next(n) {
		if n.Location() != time.UTC {
			t.Fatalf("tick %v is not in UTC", n)
		}
		got = append(got, n.Format(time.RFC3339))
	}
	return got
}

// Europe/Berlin in 2026: clocks jump from 02:00 CET to 03:00 CEST on 29
// March (01:00 UTC) and go back from 03:00 CEST to 02:00 CET on 25
// October (01:00 UTC).
func TestScheduleInZoneDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, berlin) }
	for _, tt := range []struct {
		name, expr string
		from, to   time.Time
		want       []string
	}{
		{"daily 02:30 across spring-forward runs once, at 03:30 CEST", "30 2 * * *", day(3, 28), day(3, 31),
			[]string{"2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"}},
		{"daily 02:30 across fall-back runs once, at the first 02:30", "30 2 * * *", day(10, 24), day(10, 27),
			[]string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"daily 01:30 across fall-back", "30 1 * * *", day(10, 24), day(10, 27),
			[]string{"2026-10-23T23:30:00Z", "2026-10-24T23:30:00Z", "2026-10-26T00:30:00Z"}},
		{"hourly across spring-forward: every real hour", "0 * * * *",
			time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 3, 0, 0, 0, time.UTC),
			[]string{"2026-03-28T23:00:00Z", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
		{"hourly across fall-back: every real hour, both 02:00s", "@hourly",
			time.Date(2026, 10, 24, 23, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 3, 0, 0, 0, time.UTC),
			[]string{"2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
		{"quarter-hourly across fall-back keeps its spacing", "*/30 * * * *",
			time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC),
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z"}},
		{"daily midnight is local midnight", "@daily", day(7, 1), day(7, 3),
			[]string{"2026-06-30T22:00:00Z", "2026-07-01T22:00:00Z"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseScheduleIn(tt.expr, berlin)
			if err != nil {
				t.Fatal(err)
			}
			got := ticks(t, s, tt.from, tt.to)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ticks in [%v, %v):\n got %v\nwant %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestPrevTick(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		expr       string
		loc        *time.Location
		tick, want string
	}{
		{"*/5 * * * *", time.UTC, "2026-01-02T10:05:00Z", "2026-01-02T10:00:00Z"},
		{"@hourly", time.UTC, "2026-01-02T00:00:00Z", "2026-01-01T23:00:00Z"},
		{"@daily", time.UTC, "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"@monthly", time.UTC, "2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z"},
		{"@yearly", time.UTC, "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"@every 90s", time.UTC, "2026-01-02T10:05:07Z", "2026-01-02T10:03:37Z"},
		// The day after spring-forward: the interval is 23 hours long.
		{"30 2 * * *", berlin, "2026-03-30T00:30:00Z", "2026-03-29T01:30:00Z"},
		// Fall-back: the second 02:00 follows the first an hour later.
		{"@hourly", berlin, "2026-10-25T01:00:00Z", "2026-10-25T00:00:00Z"},
		{"30 2 * * *", berlin, "2026-10-26T01:30:00Z", "2026-10-25T00:30:00Z"},
	} {
		s, err := ParseScheduleIn(tt.expr, tt.loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := PrevTick(s, utc(tt.tick)); !got.Equal(utc(tt.want)) {
			t.Errorf("PrevTick(%q in %v, %s) = %v, want %s", tt.expr, tt.loc, tt.tick, got, tt.want)
		}
	}
}
