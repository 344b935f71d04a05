// Package templates holds the text/template files the generator renders
// (embedded), the functions they may call, and the escaping helpers that are
// the only way model text reaches an artifact.
//
// A folder given with --templates overrides any embedded template by file
// name; the rest stay embedded.
package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

//go:embed *.tmpl
var embedded embed.FS

// Set is the parsed templates, one per file name.
type Set struct {
	t       *template.Template
	sources map[string]string // name -> "embedded" or the override path
}

// Funcs are the functions templates can call: sprig's (minus those that read
// the environment or the network, so a template cannot leak a secret) and
// the escapers.
func Funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	for _, unsafe := range []string{"env", "expandenv", "getHostByName"} {
		delete(f, unsafe)
	}
	f["py"] = Python
	f["pyList"] = PythonList
	f["pyComment"] = PythonComment
	f["json"] = JSON
	f["sqlIdent"] = SQLIdent
	f["sqlString"] = SQLString
	f["sqlComment"] = SQLComment
	return f
}

// Load parses the embedded templates, replacing any whose file name is in
// overrideDir (which may be empty). An override with a name no embedded
// template has is an error: it would never be used.
func Load(overrideDir string) (*Set, error) {
	s := &Set{t: template.New("").Funcs(Funcs()).Option("missingkey=error"), sources: map[string]string{}}
	names, err := fs.Glob(embedded, "*.tmpl")
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	overrides := map[string]string{}
	if overrideDir != "" {
		entries, err := os.ReadDir(overrideDir)
		if err != nil {
			return nil, fmt.Errorf("templates folder: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
				continue
			}
			if !known[e.Name()] {
				return nil, fmt.Errorf("templates folder %s: %s overrides no template; the templates are %s", overrideDir, e.Name(), strings.Join(names, ", "))
			}
			overrides[e.Name()] = filepath.Join(overrideDir, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		var text []byte
		if p, ok := overrides[n]; ok {
			text, err = os.ReadFile(p)
			s.sources[n] = p
		} else {
			text, err = embedded.ReadFile(n)
			s.sources[n] = "embedded"
		}
		if err != nil {
			return nil, err
		}
		if _, err := s.t.New(n).Parse(string(text)); err != nil {
			return nil, fmt.Errorf("template %s (%s): %w", n, s.sources[n], err)
		}
	}
	return s, nil
}

// Render executes one template.
func (s *Set) Render(name string, data any) ([]byte, error) {
	var b strings.Builder
	if err := s.t.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s (%s): %w", name, s.sources[name], err)
	}
	return []byte(b.String()), nil
}
