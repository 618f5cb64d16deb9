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
		{"CRON_TZ=UTC 0 * * * *", "schedules are in UTC"},
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
