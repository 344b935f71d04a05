// Package connect makes a Kafka Connect cluster's connectors equal the
// connector configs rendered in a deploy tree (connect/*.json): it creates
// and updates the rendered connectors and deletes the connectors it created
// that are no longer rendered. A connector is this tool's when its config
// carries ManagedKey=true; connectors without the marker are never touched.
package connect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ManagedKey is the config key, set to "true" in every rendered connector,
// that marks a connector as created by datasurface.
const ManagedKey = "datasurface.managed"

// Connector is one rendered connector: a Kafka Connect REST body
// {"name": ..., "config": {...}}.
type Connector struct {
	Name   string
	Config map[string]string
	// File is the file it was read from, relative to the folder given to
	// Load, with slashes.
	File string
}

// Managed reports whether a connector config carries the datasurface marker.
func Managed(config map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(config[ManagedKey]), "true")
}

// ErrNotDeployTree is returned by Load for a folder that holds no connector
// file and is neither a deploy tree (no MANIFEST.json) nor a connect folder:
// applying nothing from it would delete every managed connector.
var ErrNotDeployTree = errors.New("no connect/*.json files, no MANIFEST.json and not a connect folder: is this a deploy tree?")

// Load reads every connect/*.json under dir (the deploy tree, a platform's
// folder or a connect folder itself), sorted by connector name. Hidden
// folders (.git) are skipped. It refuses a file that is not a connector body,
// a connector without the ManagedKey marker (it could never be deleted
// again) and two files naming the same connector.
func Load(dir string) ([]Connector, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	var paths []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".json") && filepath.Base(filepath.Dir(p)) == "connect" {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 && filepath.Base(filepath.Clean(dir)) != "connect" {
		if _, err := os.Stat(filepath.Join(dir, "MANIFEST.json")); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, ErrNotDeployTree)
		}
	}
	var errs []error
	var out []Connector
	byName := map[string]string{}
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		c, err := readConnector(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rel, err))
			continue
		}
		c.File = rel
		if prev, ok := byName[c.Name]; ok {
			errs = append(errs, fmt.Errorf("%s: connector %q is also rendered by %s", rel, c.Name, prev))
			continue
		}
		byName[c.Name] = rel
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readConnector(path string) (Connector, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Connector{}, err
	}
	var body struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return Connector{}, fmt.Errorf("not a Kafka Connect body {\"name\": ..., \"config\": {...}} with string values: %w", err)
	}
	if dec.More() {
		return Connector{}, errors.New("more than one JSON value")
	}
	switch {
	case body.Name == "":
		return Connector{}, errors.New(`no "name"`)
	case strings.TrimSpace(body.Name) != body.Name:
		return Connector{}, fmt.Errorf("connector name %q has leading or trailing space", body.Name)
	case len(body.Config) == 0:
		return Connector{}, errors.New(`no "config"`)
	}
	if n, ok := body.Config["name"]; ok && n != body.Name {
		return Connector{}, fmt.Errorf("config name %q differs from the connector name %q", n, body.Name)
	}
	if !Managed(body.Config) {
		return Connector{}, fmt.Errorf("connector %q has no %q: \"true\" in its config; only configs datasurface renders are applied", body.Name, ManagedKey)
	}
	return Connector{Name: body.Name, Config: body.Config}, nil
}
