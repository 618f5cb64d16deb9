package cmdutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The context file says which servers the admin commands know, kubectl
// style: $VIGIL_CONTEXTS, or ~/.config/vigil/contexts.yaml.
//
//	current-context: prod
//	contexts:
//	- name: prod
//	  server: https://vigil.internal:8975
//	  token-file: ~/.config/vigil/prod.token
//	  certificate-authority: ~/.config/vigil/prod-ca.pem
//	- name: dev
//	  server: http://127.0.0.1:8975
//	  token-file: /run/user/1000/vigil/api-token
//	  insecure-skip-tls-verify: false

// EnvContexts names the context file.
const EnvContexts = "VIGIL_CONTEXTS"

// Contexts is the context file.
type Contexts struct {
	// Path is where it was read from (or will be written).
	Path           string    `yaml:"-" json:"path"`
	CurrentContext string    `yaml:"current-context,omitempty" json:"current_context,omitempty"`
	Contexts       []Context `yaml:"contexts" json:"contexts"`
}

// Context is one named server and how to reach it.
type Context struct {
	Name      string `yaml:"name" json:"name"`
	Server    string `yaml:"server" json:"server"`
	TokenFile string `yaml:"token-file,omitempty" json:"token_file,omitempty"`
	CAFile    string `yaml:"certificate-authority,omitempty" json:"certificate_authority,omitempty"`
	Insecure  bool   `yaml:"insecure-skip-tls-verify,omitempty" json:"insecure_skip_tls_verify,omitempty"`
}

// DefaultContextsPath is $VIGIL_CONTEXTS, or contexts.yaml in the user's
// config folder (~/.config/vigil).
func DefaultContextsPath(getenv func(string) string) string {
	if p := getenv(EnvContexts); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "vigil", "contexts.yaml")
}

// Get returns the context named name.
func (c *Contexts) Get(name string) (Context, bool) {
	for _, x := range c.Contexts {
		if x.Name == name {
			return x, true
		}
	}
	return Context{}, false
}

// Names lists the contexts' names, sorted.
func (c *Contexts) Names() []string {
	var out []string
	for _, x := range c.Contexts {
		out = append(out, x.Name)
	}
	sort.Strings(out)
	return out
}

// Set adds ctx or replaces the context of its name.
func (c *Contexts) Set(ctx Context) {
	for i, x := range c.Contexts {
		if x.Name == ctx.Name {
			c.Contexts[i] = ctx
			return
		}
	}
	c.Contexts = append(c.Contexts, ctx)
}

// Delete removes the context named name; it reports whether there was one.
func (c *Contexts) Delete(name string) bool {
	for i, x := range c.Contexts {
		if x.Name == name {
			c.Contexts = append(c.Contexts[:i], c.Contexts[i+1:]...)
			if c.CurrentContext == name {
				c.CurrentContext = ""
			}
			return true
		}
	}
	return false
}

// LoadContexts reads the context file at path; a missing file is an empty
// one. Errors name the file, the line and the key.
func LoadContexts(path string) (*Contexts, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Contexts{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("context file: %w", err)
	}
	return ParseContexts(path, data)
}

// ParseContexts reads a context file's text. It is strict: an unknown key,
// a value of the wrong kind, a context without a name or server, or two
// of one name is an error that names path:line and the key.
func ParseContexts(path string, data []byte) (*Contexts, error) {
	c := &Contexts{Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return c, nil
	}
	root := doc.Content[0]
	bad := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, n.Line, fmt.Sprintf(format, args...))
	}
	if root.Kind != yaml.MappingNode {
		return nil, bad(root, "want a mapping with current-context and contexts")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "current-context":
			if v.Kind != yaml.ScalarNode {
				return nil, bad(v, "current-context: want a context's name")
			}
			c.CurrentContext = v.Value
		case "contexts":
			if v.Kind != yaml.SequenceNode {
				if v.Tag == "!!null" {
					continue
				}
				return nil, bad(v, "contexts: want a list of {name, server, token-file, certificate-authority, insecure-skip-tls-verify}")
			}
			seen := map[string]int{}
			for _, item := range v.Content {
				ctx, err := parseContext(item, bad)
				if err != nil {
					return nil, err
				}
				if line, dup := seen[ctx.Name]; dup {
					return nil, bad(item, "contexts: a second context named %q (the first is on line %d)", ctx.Name, line)
				}
				seen[ctx.Name] = item.Line
				c.Contexts = append(c.Contexts, ctx)
			}
		default:
			return nil, bad(k, "unknown key %q: the file holds current-context and contexts", k.Value)
		}
	}
	return c, nil
}

func parseContext(n *yaml.Node, bad func(*yaml.Node, string, ...any) error) (Context, error) {
	var ctx Context
	if n.Kind != yaml.MappingNode {
		return ctx, bad(n, "contexts: each item is a mapping with name and server")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return ctx, bad(v, "%s: want a single value", k.Value)
		}
		switch k.Value {
		case "name":
			ctx.Name = v.Value
		case "server":
			ctx.Server = v.Value
		case "token-file":
			ctx.TokenFile = v.Value
		case "certificate-authority":
			ctx.CAFile = v.Value
		case "insecure-skip-tls-verify":
			if err := v.Decode(&ctx.Insecure); err != nil {
				return ctx, bad(v, "insecure-skip-tls-verify: want true or false, not %q", v.Value)
			}
		default:
			return ctx, bad(k, "unknown key %q in a context: use name, server, token-file, certificate-authority, insecure-skip-tls-verify", k.Value)
		}
	}
	if ctx.Name == "" {
		return ctx, bad(n, "a context without a name")
	}
	if ctx.Server == "" {
		return ctx, bad(n, "context %q has no server", ctx.Name)
	}
	if !strings.HasPrefix(ctx.Server, "http://") && !strings.HasPrefix(ctx.Server, "https://") {
		return ctx, bad(n, "context %q: server %q: want http://HOST:PORT or https://HOST:PORT", ctx.Name, ctx.Server)
	}
	return ctx, nil
}

// Save writes the context file (mode 0600, its folder created 0700),
// through a temporary file so that a reader never sees half of it.
func (c *Contexts) Save() error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if c.Contexts == nil {
		c.Contexts = []Context{}
	}
	if err := enc.Encode(c); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o700); err != nil {
		return fmt.Errorf("context file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), ".contexts-*.yaml")
	if err != nil {
		return fmt.Errorf("context file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("context file %s: %w", c.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("context file %s: %w", c.Path, err)
	}
	if err := os.Rename(tmp.Name(), c.Path); err != nil {
		return fmt.Errorf("context file %s: %w", c.Path, err)
	}
	return nil
}
