package dag

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml":             "id: alpha\n" + oneTask,
		"b_broken.yaml":      "id: broken\ntasks: []\n",
		"c.yml":              "id: gamma\n" + oneTask,
		"d_dup.yaml":         "id: alpha\n" + oneTask,
		"sub/e.yaml":         "id: epsilon\n" + oneTask,
		"notes.txt":          "not a DAG",
		".hidden.yaml":       "garbage: [",
		".git/config.yaml":   "garbage: [",
		"sub/.cache/x.yaml":  "garbage: [",
		"sub/README.md":      "# docs",
		"sub/deeper/f.YAML":  "id: phi\n" + oneTask,
		"sub/deeper/g2.yaml": "id: g2\n" + oneTask,
	})
	res := LoadDir(dir, nil)

	var ids []string
	for _, d := range res.DAGs {
		ids = append(ids, d.ID)
	}
	// By path: sub/deeper/ sorts before sub/e.yaml.
	if got, want := strings.Join(ids, " "), "alpha gamma phi g2 epsilon"; got != want {
		t.Errorf("DAGs = %s, want %s", got, want)
	}
	if got := res.DAGs[0].File; got != filepath.Join(dir, "a.yaml") {
		t.Errorf("File = %s, want the path under dir", got)
	}
	if len(res.Errors) != 2 {
		t.Fatalf("Errors = %v, want 2", res.Errors)
	}
	broken, dup := res.Errors[0], res.Errors[1]
	if want := filepath.Join(dir, "b_broken.yaml") + ":2:8: tasks is empty"; !strings.HasPrefix(broken.Error(), want) {
		t.Errorf("broken file error = %q, want it to start with %q", broken.Error(), want)
	}
	want := filepath.Join(dir, "d_dup.yaml") + `: DAG id "alpha" is already declared by ` + filepath.Join(dir, "a.yaml") + "; give each DAG its own id"
	if dup.File != filepath.Join(dir, "d_dup.yaml") || dup.Error() != want {
		t.Errorf("duplicate error = %q, want %q", dup.Error(), want)
	}
}

// TestLoadDirSymlinks: a Kubernetes ConfigMap volume holds its files as
// symlinks into a hidden, timestamped folder.
func TestLoadDirSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"..2026_01_01/etl.yaml": "id: etl\n" + oneTask})
	if err := os.Symlink("..2026_01_01", filepath.Join(dir, "..data")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := os.Symlink(filepath.Join("..data", "etl.yaml"), filepath.Join(dir, "etl.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing.yaml", filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Fatal(err)
	}
	res := LoadDir(dir, nil)
	if len(res.DAGs) != 1 || res.DAGs[0].ID != "etl" {
		t.Errorf("DAGs = %+v, want etl once, through the link", res.DAGs)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "dangling.yaml: cannot follow the link") {
		t.Errorf("Errors = %v, want one for the dangling link", res.Errors)
	}
}

func TestLoadDirMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	res := LoadDir(dir, nil)
	if len(res.DAGs) != 0 || len(res.Errors) != 1 {
		t.Fatalf("LoadDir = %+v, want one error", res)
	}
	want := dir + ": cannot read the DAG folder: no such file or directory; create it or point vigil at the folder that holds your DAG files"
	if got := res.Errors[0].Error(); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestLoadDirNotAFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "dag.yaml")
	writeFiles(t, filepath.Dir(file), map[string]string{"dag.yaml": "id: x\n" + oneTask})
	res := LoadDir(file, nil)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "is not a folder") {
		t.Errorf("LoadDir(file) = %+v, want a not-a-folder error", res)
	}
}

func TestLoadDirUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": "id: a\n" + oneTask, "b.yaml": "id: b\n" + oneTask})
	if err := os.Chmod(filepath.Join(dir, "a.yaml"), 0); err != nil {
		t.Fatal(err)
	}
	res := LoadDir(dir, nil)
	if len(res.DAGs) != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "a.yaml: cannot read: permission denied") {
		t.Errorf("LoadDir = DAGs %v, errors %v; want b loaded and a permission error for a", res.DAGs, res.Errors)
	}
}
