package bundle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
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

// clock returns a Now that moves a second at each call, so bundles get
// distinct names.
func clock() func() time.Time {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return func() time.Time { now = now.Add(time.Second); return now }
}

// breakDir makes dir unusable as a folder, as an unwritable volume would
// be (a file in its place: the tests may run as root, whom modes do not
// stop).
func breakDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// With the bundle folder unwritable, the bundle goes to the first usable
// fallback, says why, and is listed and opened from there (issue 16).
func TestFallbackWhenTheFolderIsUnwritable(t *testing.T) {
	root := t.TempDir()
	dir, fb := root+"/bundles", root+"/run/bundles"
	w, err := bundle.New(bundle.Options{Dir: dir, Fallbacks: []string{fb}, Now: clock(),
		Summary: func() string { return "scheduler.loop stale 41s; blocked in DELETE /pods/x\n" }})
	if err != nil {
		t.Fatal(err)
	}
	breakDir(t, dir)
	info, err := w.Write(context.Background(), "stale")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Path, fb+"/") || !strings.Contains(info.DirError, "bundle folder "+dir) {
		t.Errorf("info = %+v, want it in %s with the bundle folder's error", info, fb)
	}
	if fi, err := os.Stat(fb); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("fallback folder: %v, %v; want mode 0700", fi, err)
	}
	list, _ := w.List()
	if len(list) != 1 || list[0].Name != info.Name || !strings.Contains(list[0].Summary, "blocked in DELETE") {
		t.Errorf("List = %+v, want the bundle in the fallback", list)
	}
	f, err := w.Open(info.Name)
	if err != nil {
		t.Fatalf("Open from the fallback: %v", err)
	}
	f.Close()
}

// No folder takes the bundle: the error says so, and the Info still holds
// the summary for the caller to log. A fallback open to others is not
// used.
func TestNoFolderTakesTheBundle(t *testing.T) {
	root := t.TempDir()
	dir, fb := root+"/bundles", root+"/shared"
	if err := os.Mkdir(fb, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(fb, 0o777); err != nil {
		t.Fatal(err)
	}
	w, err := bundle.New(bundle.Options{Dir: dir, Fallbacks: []string{fb}, Now: clock(),
		Summary: func() string { return "scheduler.loop stale 41s; blocked in DELETE /pods/x\n" }})
	if err != nil {
		t.Fatal(err)
	}
	breakDir(t, dir)
	info, err := w.Write(context.Background(), "stale")
	if err == nil {
		t.Fatalf("Write = %+v, want an error", info)
	}
	if !strings.Contains(err.Error(), "lets others in") || !strings.Contains(err.Error(), "bundle folder "+dir) {
		t.Errorf("error = %v, want both folders' reasons", err)
	}
	if !strings.Contains(info.Summary, "blocked in DELETE /pods/x") || info.Path != "" {
		t.Errorf("info = %+v, want the summary kept and no path", info)
	}
	if ents, _ := os.ReadDir(fb); len(ents) != 0 {
		t.Errorf("wrote into a folder open to others: %v", ents)
	}
	if n := w.Written(); len(n) != 0 {
		t.Errorf("Written = %v after no bundle was stored, want none", n)
	}
}

// Written counts the bundles stored by class of reason: a Protected
// reason is its own, any other (free text) is "requested".
func TestWrittenByReasonClass(t *testing.T) {
	w, err := bundle.New(bundle.Options{Dir: t.TempDir(), Protected: []string{"stale"}, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"stale", "on-demand", "loop stuck in DELETE", "stale"} {
		if _, err := w.Write(context.Background(), reason); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Written(); !maps.Equal(got, map[string]int64{"stale": 2, bundle.ReasonRequested: 2}) {
		t.Errorf("Written = %v, want stale 2, requested 2", got)
	}
}

// Eviction keeps the watchdog's bundles: a run of on-demand bundles
// evicts older on-demand ones, never a stale one, while there are any
// (issue 16).
func TestWatchdogBundlesOutliveOnDemandOnes(t *testing.T) {
	dir := t.TempDir()
	w, err := bundle.New(bundle.Options{Dir: dir, Keep: 3, Protected: []string{"stale"}, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	write := func(reason string) string {
		t.Helper()
		info, err := w.Write(context.Background(), reason)
		if err != nil {
			t.Fatal(err)
		}
		return info.Name
	}
	stale := write("stale")
	var onDemand []string
	for range 5 {
		onDemand = append(onDemand, write("on-demand"))
	}
	names := func() []string {
		list, err := bundle.List(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range list {
			out = append(out, b.Name)
		}
		return out
	}
	if got, want := names(), []string{onDemand[4], onDemand[3], stale}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after 1 stale and 5 on-demand bundles, kept %v, want %v", got, want)
	}
	// Stale bundles alone compete among themselves.
	var stales []string
	for range 4 {
		stales = append(stales, write("stale"))
	}
	if got, want := names(), []string{stales[3], stales[2], stales[1]}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after 4 more stale bundles, kept %v, want %v", got, want)
	}
}
