package dag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// age sets a file's times an hour back, as for a file written long before
// the loader first read it.
func age(t *testing.T, path string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// An unchanged folder is not parsed again (issue 16: every 2 s, forever).
// An old file is not even read; a recent one is read and hashed, and
// parsed again only when its content changed, even if its size and
// modification time did not.
func TestLoaderParsesOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": "id: alpha\n" + oneTask, "b.yaml": "id: bravo\n" + oneTask})
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	age(t, a)
	l := NewLoader(dir, nil, LoaderOptions{})

	res, changed := l.Load()
	if !changed || len(res.DAGs) != 2 || len(res.Errors) != 0 {
		t.Fatalf("first Load = %+v, changed %v; want two DAGs, changed", res, changed)
	}
	if got := l.Stats(); got.Parsed != 2 || got.Read != 2 {
		t.Fatalf("after the first Load: %+v, want 2 read, 2 parsed", got)
	}
	first := res.DAGs[0]
	for range 5 {
		res, changed = l.Load()
		if changed || len(res.DAGs) != 2 || res.DAGs[0] != first {
			t.Fatalf("Load of an unchanged folder = %+v, changed %v; want the same DAGs, unchanged", res, changed)
		}
	}
	// b.yaml was written just now, so its times do not vouch for it: it
	// is read each time, a.yaml is not. Neither is parsed.
	if got := l.Stats(); got.Parsed != 2 || got.Read != 2+5 {
		t.Fatalf("after 5 Loads of an unchanged folder: %+v, want 7 read (b.yaml each time), 2 parsed", got)
	}

	// The same size and modification time, another content.
	info, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"b.yaml": "id: bravx\n" + oneTask})
	if err := os.Chtimes(b, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	res, changed = l.Load()
	if !changed || len(res.DAGs) != 2 || res.DAGs[1].ID != "bravx" {
		t.Fatalf("Load after b.yaml changed = %+v, changed %v; want bravx", res.DAGs, changed)
	}
	if res.DAGs[0] != first {
		t.Error("a.yaml was parsed again though it did not change")
	}
	if got := l.Stats().Parsed; got != 3 {
		t.Errorf("parsed %d files in all, want 3 (only b.yaml again)", got)
	}

	// A file removed is a change; the rest is kept.
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	res, changed = l.Load()
	if !changed || len(res.DAGs) != 1 || res.DAGs[0] != first {
		t.Fatalf("Load after b.yaml was removed = %+v, changed %v", res.DAGs, changed)
	}
}

// A broken file is not parsed again while it stays the same, and keeps
// its error.
func TestLoaderKeepsErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bad.yaml": "id: bad\ntasks: []\n"})
	age(t, filepath.Join(dir, "bad.yaml"))
	l := NewLoader(dir, nil, LoaderOptions{})
	res1, _ := l.Load()
	res2, changed := l.Load()
	if changed || len(res2.Errors) != 1 || res2.Errors[0].Error() != res1.Errors[0].Error() {
		t.Fatalf("second Load = %+v, changed %v; want the same error, unchanged", res2, changed)
	}
	if got := l.Stats(); got.Parsed != 1 || got.Read != 1 {
		t.Errorf("stats %+v, want the broken file read and parsed once", got)
	}
}

// A file over the limit is refused unread, with an error naming it and the
// limit; the other DAGs load.
func TestLoaderRefusesHugeFile(t *testing.T) {
	dir := t.TempDir()
	huge := "id: huge\ntasks:\n" + strings.Repeat("  - id: t\n    command: [\"true\"]\n", 200)
	writeFiles(t, dir, map[string]string{"a.yaml": "id: alpha\n" + oneTask, "huge.yaml": huge})
	var parsed []string
	l := NewLoader(dir, nil, LoaderOptions{MaxFileSize: 4096, Parse: func(file string, data []byte, presets Presets) (*DAG, error) {
		parsed = append(parsed, filepath.Base(file))
		return Parse(file, data, presets)
	}})
	res, _ := l.Load()
	if len(res.DAGs) != 1 || res.DAGs[0].ID != "alpha" {
		t.Errorf("DAGs = %+v, want alpha", res.DAGs)
	}
	if len(res.Errors) != 1 {
		t.Fatalf("Errors = %v, want one for huge.yaml", res.Errors)
	}
	want := filepath.Join(dir, "huge.yaml") + ": is 6.3 KiB (6416 bytes), more than the 4.0 KiB (4096 bytes) a DAG file may hold; split it into several DAG files"
	if got := res.Errors[0].Error(); got != want {
		t.Errorf("error = %q\nwant      %q", got, want)
	}
	if strings.Join(parsed, " ") != "a.yaml" {
		t.Errorf("parsed %v, want only a.yaml (huge.yaml unread)", parsed)
	}
}
