package bundle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/bundle"
)

func readBundle(t *testing.T, path string) map[string]string {
	t.Helper()
	files, err := bundle.ReadFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(files))
	for name, b := range files {
		out[name] = string(b)
	}
	return out
}

func TestWriteKeepsGoingPastAFailedPart(t *testing.T) {
	dir := t.TempDir()
	w, err := bundle.New(bundle.Options{
		Dir:          dir,
		MaxPartBytes: 10,
		Timeout:      200 * time.Millisecond,
		Summary:      func() string { return "scheduler.loop stale 41s\n" },
		Parts: []bundle.Part{
			{Name: "ok.txt", Write: func(ctx context.Context, w io.Writer) error { _, err := io.WriteString(w, "hello"); return err }},
			{Name: "big.txt", Write: func(ctx context.Context, w io.Writer) error {
				_, err := io.WriteString(w, strings.Repeat("x", 100))
				return err
			}},
			{Name: "fails.txt", Write: func(ctx context.Context, w io.Writer) error { return errors.New("no flight recorder") }},
			{Name: "hangs.txt", Write: func(ctx context.Context, w io.Writer) error { <-ctx.Done(); return ctx.Err() }},
			{Name: "panics.txt", Write: func(ctx context.Context, w io.Writer) error { panic("boom") }},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := w.Write(context.Background(), "stale")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.Name, "-stale.tar.gz") || info.Size == 0 || len(info.Errors) != 3 {
		t.Errorf("info = %+v, want a -stale bundle with 3 failed parts", info)
	}
	files := readBundle(t, info.Path)
	if !strings.Contains(files["SUMMARY.txt"], "reason: stale") || !strings.Contains(files["SUMMARY.txt"], "scheduler.loop stale 41s") {
		t.Errorf("SUMMARY.txt = %q", files["SUMMARY.txt"])
	}
	if files["ok.txt"] != "hello" || files["big.txt"] != "xxxxxxxxxx" {
		t.Errorf("parts = %q, %q", files["ok.txt"], files["big.txt"])
	}
	for _, name := range []string{"fails.txt.error.txt", "hangs.txt.error.txt", "panics.txt.error.txt", "MANIFEST.json"} {
		if files[name] == "" {
			t.Errorf("%s missing from the bundle; files: %v", name, keys(files))
		}
	}
	if !strings.Contains(files["MANIFEST.json"], `"truncated": true`) {
		t.Errorf("MANIFEST.json does not mark big.txt truncated: %s", files["MANIFEST.json"])
	}
	fi, _ := os.Stat(info.Path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("bundle mode %v, want 0600", fi.Mode().Perm())
	}
	// The listing reads each bundle's summary back, so a process started
	// after the one that wrote it can say why.
	list, err := bundle.List(dir)
	if err != nil || len(list) != 1 || list[0].Summary != files["SUMMARY.txt"] {
		t.Errorf("List = %+v, %v; want the one bundle with its summary", list, err)
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestKeepsTheNewestN(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	w, err := bundle.New(bundle.Options{Dir: dir, Keep: 3, Now: func() time.Time { now = now.Add(time.Second); return now }})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; i < 5; i++ {
		info, err := w.Write(context.Background(), "on-demand")
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, info.Name)
	}
	list, err := bundle.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Name != names[4] || list[2].Name != names[2] {
		t.Fatalf("List = %+v, want the newest three of %v, newest first", list, names)
	}
	if _, err := w.Open("../../etc/passwd"); err == nil {
		t.Error("Open accepted a path outside the bundle directory")
	}
	f, err := w.Open(names[4])
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// A part blocked on the resource that is stuck must not hold up the
// evidence (issue 16: tasks.json waited out the database's 20 s on a
// locked table). A part with a Timeout of its own is cut off at it, even
// one that ignores its context; what it wrote so far is kept, and its
// error says it timed out.
func TestPartTimeoutDoesNotHoldTheBundle(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	w, err := bundle.New(bundle.Options{
		Dir:     t.TempDir(),
		Timeout: time.Hour,
		Parts: []bundle.Part{
			{Name: "ok.txt", Write: func(ctx context.Context, w io.Writer) error { _, err := io.WriteString(w, "fine"); return err }},
			// Honours its context: returns at its deadline, with its reason.
			{Name: "db.json", Timeout: 50 * time.Millisecond, Write: func(ctx context.Context, w io.Writer) error {
				<-ctx.Done()
				return fmt.Errorf("list tasks: %w; held by pid 42", ctx.Err())
			}},
			// Ignores it: left behind after its deadline and the grace.
			{Name: "deaf.txt", Timeout: 50 * time.Millisecond, Write: func(ctx context.Context, w io.Writer) error {
				io.WriteString(w, "partial")
				<-stuck
				return nil
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var info bundle.Info
	go func() {
		defer close(done)
		info, err = w.Write(context.Background(), "stale")
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the bundle waited for parts past their deadlines (bundle timeout is an hour)")
	}
	if err != nil {
		t.Fatal(err)
	}
	files := readBundle(t, info.Path)
	if files["ok.txt"] != "fine" {
		t.Errorf("ok.txt = %q", files["ok.txt"])
	}
	if e := files["db.json.error.txt"]; !strings.HasPrefix(e, "timed out after ") || !strings.Contains(e, "held by pid 42") {
		t.Errorf("db.json.error.txt = %q, want it to say it timed out and keep the part's reason", e)
	}
	if files["deaf.txt"] != "partial" || !strings.Contains(files["deaf.txt.error.txt"], "did not return within") {
		t.Errorf("deaf.txt = %q, error %q; want what it wrote and why it was left", files["deaf.txt"], files["deaf.txt.error.txt"])
	}
}
