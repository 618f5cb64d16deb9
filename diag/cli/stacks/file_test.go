package stacks

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestStripTimestamp(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-12-07T03:12:44.123456789Z goroutine 1 [running]:\n", "goroutine 1 [running]:\n"},
		{"2026-12-07T03:12:44Z \t/src/main.go:12 +0x1d\n", "\t/src/main.go:12 +0x1d\n"},
		{"2026-12-07T03:12:44+02:00 main.main()\n", "main.main()\n"},
		{"2026-12-07T03:12:44.5-07:00 x\n", "x\n"},
		{"goroutine 1 [running]:\n", "goroutine 1 [running]:\n"},
		{"2026-12-07 03:12:44 not RFC 3339\n", "2026-12-07 03:12:44 not RFC 3339\n"},
		{"2026-12-07T03:12:44Zgoroutine\n", "2026-12-07T03:12:44Zgoroutine\n"},
		{"2026-12-07T03:12:44.Z(x) y\n", "2026-12-07T03:12:44.Z(x) y\n"},
		{"2026-12-07T0", "2026-12-07T0"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(stripTimestamp([]byte(tt.in))); got != tt.want {
			t.Errorf("stripTimestamp(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzUntimestamp: reading through untimestamp, in chunks of any size and
// over lines longer than its buffer, gives each line without its
// timestamp, and never panics.
func FuzzUntimestamp(f *testing.F) {
	f.Add("2026-12-07T03:12:44.123456789Z goroutine 1 [running]:\n2026-12-07T03:12:44.123456789Z main.main()\n", 3)
	f.Add("log line\n2026-12-07T03:12:44Z \t/src/main.go:12 +0x1d\r\nno newline at end", 1)
	f.Add(strings.Repeat("x", 100)+"\n2026-12-07T03:12:44Z y\n2026-12-07T03:12:44.123456789+02:00 "+strings.Repeat("z", 100)+"\n", 7)
	f.Fuzz(func(t *testing.T, in string, chunk int) {
		chunk = 1 + abs(chunk)%64
		// A 64-byte buffer (ReadFile's is 64 KiB): lines longer than it
		// come in several slices, and only the first may lose a timestamp,
		// which always fits in one (at most 36 bytes).
		u := &untimestamp{r: bufio.NewReaderSize(strings.NewReader(in), 64)}
		var got bytes.Buffer
		buf := make([]byte, chunk)
		for {
			n, err := u.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		var want strings.Builder
		for _, line := range strings.SplitAfter(in, "\n") {
			want.WriteString(string(stripTimestamp([]byte(line))))
		}
		if got.String() != want.String() {
			t.Errorf("read %q\nwant %q", got.String(), want.String())
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
