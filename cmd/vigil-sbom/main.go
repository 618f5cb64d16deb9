// Command vigil-sbom writes a CycloneDX 1.5 SBOM (JSON) of Go binaries from
// the build information embedded in them: the main module and every module
// linked in, with versions, checksums and package URLs. The Dockerfile runs
// it on the binaries it ships (/sbom.cdx.json in the image).
//
//	vigil-sbom /out/vigil /out/diag /out/kubectl-diag > sbom.cdx.json
package main

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type hash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type component struct {
	Type    string `json:"type"`
	BOMRef  string `json:"bom-ref"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	Hashes  []hash `json:"hashes,omitempty"`
}

type dependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

type bom struct {
	BOMFormat    string       `json:"bomFormat"`
	SpecVersion  string       `json:"specVersion"`
	Version      int          `json:"version"`
	Components   []component  `json:"components"`
	Dependencies []dependency `json:"dependencies"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vigil-sbom BINARY... > sbom.cdx.json")
		os.Exit(2)
	}
	b, err := build(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigil-sbom:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		fmt.Fprintln(os.Stderr, "vigil-sbom:", err)
		os.Exit(1)
	}
}

func purl(path, version string) string {
	return "pkg:golang/" + strings.ToLower(path) + "@" + version
}

// build reads each binary's build information into one BOM: a component
// per binary (with its SHA-256), one per module, and what depends on what.
func build(paths []string) (bom, error) {
	out := bom{BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1}
	mods := map[string]component{}
	for _, p := range paths {
		info, err := buildinfo.ReadFile(p)
		if err != nil {
			return out, fmt.Errorf("%s: %w (not a Go binary built with module support?)", p, err)
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return out, err
		}
		app := component{Type: "application", BOMRef: "bin:" + filepath.Base(p), Name: filepath.Base(p),
			Version: info.Main.Version, Hashes: []hash{{Alg: "SHA-256", Content: sum}}}
		out.Components = append(out.Components, app)
		dep := dependency{Ref: app.BOMRef}
		for _, m := range append([]*linked{moduleOf(&info.Main)}, modulesOf(info.Deps)...) {
			if m == nil || m.Path == "" {
				continue
			}
			ref := purl(m.Path, m.Version)
			if _, ok := mods[ref]; !ok {
				c := component{Type: "library", BOMRef: ref, Name: m.Path, Version: m.Version, PURL: ref}
				if m.Sum != "" {
					c.Hashes = []hash{{Alg: "SHA-256", Content: goSumHex(m.Sum)}}
				}
				mods[ref] = c
			}
			dep.DependsOn = append(dep.DependsOn, ref)
		}
		out.Dependencies = append(out.Dependencies, dep)
	}
	refs := make([]string, 0, len(mods))
	for r := range mods {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	for _, r := range refs {
		out.Components = append(out.Components, mods[r])
	}
	return out, nil
}

// linked is the part of debug.Module the BOM uses, with a replaced
// module standing for what was linked.
type linked struct{ Path, Version, Sum string }

func moduleOf(m *debugModule) *linked {
	if m == nil {
		return nil
	}
	if m.Replace != nil {
		m = m.Replace
	}
	return &linked{Path: m.Path, Version: m.Version, Sum: m.Sum}
}

func modulesOf(ms []*debugModule) []*linked {
	out := make([]*linked, 0, len(ms))
	for _, m := range ms {
		out = append(out, moduleOf(m))
	}
	return out
}

// goSumHex turns a go.sum hash ("h1:" and base64 of a SHA-256) into hex.
func goSumHex(sum string) string {
	raw, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return sum
	}
	b, err := base64Std(raw)
	if err != nil {
		return sum
	}
	return hex.EncodeToString(b)
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
