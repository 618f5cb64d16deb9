package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	diagbundle "github.com/vigilhq/vigil/diag/bundle"
	"github.com/vigilhq/vigil/diag/cli/bundle"
	"github.com/vigilhq/vigil/diag/cli/clitest"
)

// TestBundle writes a bundle through a live scheduler, lists it and
// copies it out again; every local copy is a readable tar.gz of mode 0600.
func TestBundle(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	dir := t.TempDir()
	first := filepath.Join(dir, "first.tar.gz")

	r := clitest.Run(t, s, "bundle", "--reason", "e2e check", "-f", first)
	if r.Code != 0 {
		t.Fatalf("bundle: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	for _, want := range []string{"Saved " + first, "Summary: ", "SUMMARY.txt"} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("bundle output lacks %q:\n%s", want, r.Out)
		}
	}
	files := readBundle(t, first)
	for _, want := range []string{"SUMMARY.txt", "MANIFEST.json", "stacks.txt", "heap.pprof"} {
		if _, ok := files[want]; !ok {
			t.Errorf("bundle lacks %s; has %d files", want, len(files))
		}
	}
	if !strings.Contains(files["SUMMARY.txt"], "reason: e2e check") {
		t.Errorf("SUMMARY.txt lacks the reason:\n%s", files["SUMMARY.txt"])
	}

	var name string
	t.Run("ls", func(t *testing.T) {
		r := clitest.Run(t, s, "bundle", "ls", "-o", "json")
		var list []diagbundle.Info
		if err := json.Unmarshal([]byte(r.Out), &list); err != nil || r.Code != 0 {
			t.Fatalf("bundle ls -o json: exit %d, %v\n%s%s", r.Code, err, r.Out, r.Err)
		}
		for _, b := range list {
			if b.Reason == "e2e-check" {
				name = b.Name
			}
		}
		if name == "" {
			t.Fatalf("no bundle with reason e2e-check in %+v", list)
		}
		r = clitest.Run(t, s, "bundle", "ls")
		if r.Code != 0 || !strings.Contains(r.Out, "NAME") || !strings.Contains(r.Out, name) || !strings.Contains(r.Out, "e2e-check") {
			t.Errorf("bundle ls: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
	})
	if name == "" {
		t.FailNow()
	}

	t.Run("get", func(t *testing.T) {
		second := filepath.Join(dir, "second.tar.gz")
		r := clitest.Run(t, s, "bundle", "get", name, "-f", second)
		if r.Code != 0 || !strings.Contains(r.Out, "Saved "+second) {
			t.Fatalf("bundle get: exit %d\n%s%s", r.Code, r.Out, r.Err)
		}
		a, _ := os.ReadFile(first)
		b, _ := os.ReadFile(second)
		if !bytes.Equal(a, b) {
			t.Errorf("bundle get copied %d bytes; bundle wrote %d", len(b), len(a))
		}
		readBundle(t, second)
	})
	t.Run("get into a folder", func(t *testing.T) {
		sub := t.TempDir()
		r := clitest.Run(t, s, "bundle", "get", name, "-f", sub, "-o", "json")
		var res bundle.Result
		if err := json.Unmarshal([]byte(r.Out), &res); err != nil || r.Code != 0 {
			t.Fatalf("bundle get -o json: exit %d, %v\n%s%s", r.Code, err, r.Out, r.Err)
		}
		if want := filepath.Join(sub, name); res.File != want || res.Bytes == 0 {
			t.Errorf("result %+v; want the file %s", res, want)
		}
		readBundle(t, res.File)
	})
	t.Run("get a missing one", func(t *testing.T) {
		sub := t.TempDir()
		r := clitest.Run(t, s, "bundle", "get", "vigil-bundle-20000101T000000000Z-nope.tar.gz", "-f", sub)
		if r.Code != 4 || !strings.Contains(r.Err, "diag bundle ls") {
			t.Errorf("exit %d, stderr %q; want 4 and a pointer to diag bundle ls", r.Code, r.Err)
		}
		if ents, _ := os.ReadDir(sub); len(ents) != 0 {
			t.Errorf("a failed get left %v", ents)
		}
	})
	t.Run("get a path", func(t *testing.T) {
		r := clitest.Run(t, s, "bundle", "get", "../../etc/passwd")
		if r.Code != 2 {
			t.Errorf("exit %d, stderr %q; want 2", r.Code, r.Err)
		}
	})
}

// readBundle checks a bundle's mode and reads every file in it, by base
// name.
func readBundle(t *testing.T, path string) map[string]string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; want 0600", path, st.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: not gzip: %v", path, err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: %s: %v", path, hdr.Name, err)
		}
		files[filepath.Base(hdr.Name)] = string(b)
	}
	if len(files) == 0 {
		t.Fatalf("%s: an empty archive", path)
	}
	return files
}
