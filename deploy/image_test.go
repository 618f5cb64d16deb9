package deploy

import (
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDockerfileBinaries builds what the Dockerfile builds, the way it
// builds it (no Docker engine here): every binary the runtime stage
// copies is built by the build stage, static (no ELF interpreter, so it
// runs on scratch), with its modules listed by `go version -m`; and the
// SBOM the Dockerfile writes names every binary and the modules linked in.
func TestDockerfileBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries")
	}
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]string{} // /out name → package
	for _, m := range regexp.MustCompile(`go build -ldflags="-s -w[^"]*" -o /out/(\S+) (\./cmd/\S+)`).FindAllStringSubmatch(string(df), -1) {
		built[m[1]] = m[2]
	}
	copied := regexp.MustCompile(`COPY --from=build /out/(\S+) /`).FindAllStringSubmatch(string(df), -1)
	if len(built) != 3 || len(copied) < 3 {
		t.Fatalf("Dockerfile builds %v and copies %v; want vigil, diag and kubectl-diag", built, copied)
	}
	for _, c := range copied {
		if name := c[1]; name != "sbom.cdx.json" && name != "passwd" && name != "group" && built[name] == "" {
			t.Errorf("the runtime stage copies /out/%s, which the build stage does not build", name)
		}
	}
	// Without .git in the build context, the version comes in as a build argument.
	if !strings.Contains(string(df), "ARG VERSION") || strings.Count(string(df), "$X.version=${VERSION}") != 3 {
		t.Error("the Dockerfile should stamp each binary with --build-arg VERSION (-X .../internal/buildinfo.version)")
	}
	if !strings.Contains(string(df), "USER 65532:65532") || !strings.Contains(string(df), "FROM scratch") {
		t.Error("the runtime stage should be scratch, run as 65532")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	out := t.TempDir()
	var bins []string
	for name, pkg := range built {
		bin := filepath.Join(out, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-ldflags=-s -w", "-o", bin, pkg)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-trimpath")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		bins = append(bins, bin)
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked; it would not start on scratch", name)
			}
		}
		f.Close()
		info, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"mod\tgithub.com/vigilhq/vigil", "dep\tk8s.io/client-go", "build\t-trimpath=true", "build\tCGO_ENABLED=0"} {
			if !strings.Contains(string(info), want) {
				t.Errorf("go version -m %s lacks %q:\n%s", name, want, info)
			}
		}
	}
	if b, err := exec.CommandContext(ctx, filepath.Join(out, "vigil"), "--help").CombinedOutput(); err != nil {
		t.Errorf("the static vigil does not run: %v\n%s", err, b)
	}

	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "./cmd/vigil-sbom"}, bins...)...)
	cmd.Dir = ".."
	sbom, err := cmd.Output()
	if err != nil {
		t.Fatalf("vigil-sbom: %v", err)
	}
	var doc struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Type, Name, PURL string
			Hashes           []struct{ Alg, Content string }
		} `json:"components"`
	}
	if err := json.Unmarshal(sbom, &doc); err != nil {
		t.Fatalf("SBOM is not JSON: %v", err)
	}
	apps, purls := 0, map[string]bool{}
	for _, c := range doc.Components {
		switch c.Type {
		case "application":
			apps++
			if len(c.Hashes) == 0 {
				t.Errorf("binary %s has no hash in the SBOM", c.Name)
			}
		case "library":
			purls[strings.SplitN(c.PURL, "@", 2)[0]] = true
		}
	}
	if doc.BOMFormat != "CycloneDX" || apps != 3 {
		t.Errorf("SBOM format %q with %d binaries; want CycloneDX with 3", doc.BOMFormat, apps)
	}
	for _, want := range []string{"pkg:golang/k8s.io/client-go", "pkg:golang/github.com/jackc/pgx/v5", "pkg:golang/modernc.org/sqlite", "pkg:golang/github.com/grafana/pyroscope-go"} {
		if !purls[want] {
			t.Errorf("SBOM lacks %s", want)
		}
	}
}
