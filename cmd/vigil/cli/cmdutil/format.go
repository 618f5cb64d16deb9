package cmdutil

import (
	"time"
)

// Ago renders the age of t at now for a human: "4m12s ago", or "-" for zero.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return d.Round(100*time.Millisecond).String() + " ago"
	}
	return d.Round(time.Second).String() + " ago"
}

// Stamp renders t for a table, or "-" for zero.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// OrDash is s, or "-" for empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
