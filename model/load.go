package model

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/datasurface/datasurface/model/internal/decode"
	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// LoadError is a problem that keeps a model from being read: a YAML syntax
// error, an unknown or duplicate key, a value of the wrong type, a file where
// the layout does not expect one. Code says which.
type LoadError = decode.Error

// Source is where model files come from: a folder or a git revision.
type Source interface {
	// Describe says what the source is, for messages.
	Describe() string
	// Files lists the files of the model, slash-separated and relative to its root.
	Files(ctx context.Context) ([]string, error)
	// ReadFile reads one of them.
	ReadFile(name string) ([]byte, error)
	// Commit is the git commit, empty for a folder.
	Commit() string
	// Display turns a model path into what messages show (the folder prefix).
	Display(name string) string
}

// LoadDir loads the model in a folder.
func LoadDir(ctx context.Context, dir string) (*Model, []*LoadError, error) {
	return Load(ctx, DirSource(dir))
}

// Load reads every model file of src, in parallel, and assembles the model.
// A non-nil error means the source itself could not be read; load errors mean
// some files could not be decoded (the model is then incomplete: do not lint it).
func Load(ctx context.Context, src Source) (*Model, []*LoadError, error) {
	names, err := src.Files(ctx)
	if err != nil {
		return nil, nil, err
	}
	m, errs, _, err := load(ctx, src, names, false)
	closeSource(src)
	return m, errs, err
}

// closeSource releases what a source holds open once its files are read.
func closeSource(src Source) {
	if c, ok := src.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// load reads the named files of src; with hash it also returns each model
// file's git blob hash, computed from the bytes it parsed.
func load(ctx context.Context, src Source, names []string, hash bool) (*Model, []*LoadError, map[string]string, error) {
	var files []*modelFile
	var errs []*LoadError
	for _, name := range names {
		kind, zone, team, ok := classify(name)
		if !ok {
			if isYAMLish(name) && strings.HasPrefix(name, "zones/") {
				errs = append(errs, &LoadError{Pos: Pos{File: src.Display(name), Line: 1, Col: 1}, Code: "load-layout",
					Msg: "unexpected model file; files live at zones/<zone>/zone.yaml, zones/<zone>/teams/<team>/team.yaml, and .../datastores/<name>.yaml or .../workspaces/<name>.yaml"})
			}
			continue
		}
		files = append(files, &modelFile{name: name, display: src.Display(name), kind: kind, zone: zone, team: team})
	}
	if err := parseAll(ctx, src, files, hash); err != nil {
		return nil, nil, nil, err
	}
	m := &Model{Source: src.Describe(), Commit: src.Commit()}
	errs = append(errs, assemble(m, files)...)
	if m.Ecosystem == nil && !slices.Contains(names, "ecosystem.yaml") {
		errs = append(errs, &LoadError{Pos: Pos{File: src.Display("ecosystem.yaml"), Line: 1, Col: 1}, Code: "load-layout",
			Msg: "no ecosystem.yaml at the model's root; is this the right folder?"})
	}
	decode.SortErrors(errs)
	var hashes map[string]string
	if hash {
		hashes = make(map[string]string, len(files))
		for _, f := range files {
			hashes[f.name] = f.hash
		}
	}
	return m, errs, hashes, nil
}

type fileKind uint8

const (
	ecosystemFile fileKind = iota + 1
	zoneFile
	teamFile
	datastoreFile
	workspaceFile
)

type modelFile struct {
	name, display string
	kind          fileKind
	zone, team    string
	value         any // *Ecosystem, *Zone, *Team, *Datastore or *Workspace
	errs          []*LoadError
	hash          string // git blob hash of the content, when asked for
}

func isYAMLish(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// classify maps a path to its place in the layout.
func classify(name string) (kind fileKind, zone, team string, ok bool) {
	p := strings.Split(name, "/")
	switch {
	case name == "ecosystem.yaml":
		return ecosystemFile, "", "", true
	case len(p) == 3 && p[0] == "zones" && p[2] == "zone.yaml":
		return zoneFile, p[1], "", true
	case len(p) == 5 && p[0] == "zones" && p[2] == "teams" && p[4] == "team.yaml":
		return teamFile, p[1], p[3], true
	case len(p) == 6 && p[0] == "zones" && p[2] == "teams" && strings.HasSuffix(p[5], ".yaml"):
		switch p[4] {
		case "datastores":
			return datastoreFile, p[1], p[3], true
		case "workspaces":
			return workspaceFile, p[1], p[3], true
		}
	}
	return 0, "", "", false
}

// parseAll reads, parses and decodes the files on every core.
func parseAll(ctx context.Context, src Source, files []*modelFile, hash bool) error {
	work := make(chan *modelFile)
	var wg sync.WaitGroup
	var once sync.Once
	var readErr error
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			strs := decode.NewStrings() // shared by the files this worker decodes
			yp := new(yamlnode.Parser)
			for f := range work {
				data, err := src.ReadFile(f.name)
				if err != nil {
					once.Do(func() { readErr = fmt.Errorf("read %s: %w", f.display, err) })
					continue
				}
				if hash {
					f.hash = BlobHash(data)
				}
				f.decode(data, strs, yp)
			}
		}()
	}
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		work <- f
	}
	close(work)
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

func (f *modelFile) decode(data []byte, strs *decode.Strings, yp *yamlnode.Parser) {
	root, err := yp.Parse(f.display, data)
	if err != nil {
		pe, ok := err.(*yamlnode.Error)
		if !ok {
			pe = &yamlnode.Error{File: f.display, Line: 1, Column: 1, Msg: err.Error()}
		}
		f.errs = append(f.errs, &LoadError{Pos: Pos{File: f.display, Line: int32(pe.Line), Col: int32(pe.Column)}, Code: "load-syntax", Msg: pe.Msg})
		return
	}
	if root == nil {
		f.errs = append(f.errs, &LoadError{Pos: Pos{File: f.display, Line: 1, Col: 1}, Code: "load-syntax", Msg: "the file is empty; remove it or give it content"})
		return
	}
	d := &decode.Decoder{File: f.display, Strings: strs}
	switch f.kind {
	case ecosystemFile:
		v := &Ecosystem{}
		d.Decode(root, v)
		f.value = v
	case zoneFile:
		v := &Zone{}
		d.Decode(root, v)
		f.value = v
	case teamFile:
		v := &Team{}
		d.Decode(root, v)
		f.value = v
	case datastoreFile:
		v := &Datastore{}
		d.Decode(root, v)
		f.value = v
	case workspaceFile:
		v := &Workspace{}
		d.Decode(root, v)
		f.value = v
	}
	f.errs = append(f.errs, d.Errors...)
}

// assemble links the decoded files into a model. Folders and files are
// visited in path order, so the model is the same however it was read.
func assemble(m *Model, files []*modelFile) []*LoadError {
	var errs []*LoadError
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	zones := map[string]*Zone{}
	teams := map[[2]string]*Team{}
	// A parent file that exists but failed to decode has its own errors;
	// its children are then skipped quietly rather than reported as orphans.
	present := map[[2]string]bool{}
	for _, f := range files {
		errs = append(errs, f.errs...)
		if f.kind == zoneFile || f.kind == teamFile {
			present[[2]string{f.zone, f.team}] = true
		}
	}
	for _, f := range files {
		switch v := f.value.(type) {
		case *Ecosystem:
			m.Ecosystem = v
		case *Zone:
			v.Dir = path.Dir(f.name)
			zones[f.zone] = v
			m.Zones = append(m.Zones, v)
		}
	}
	for _, f := range files {
		if v, ok := f.value.(*Team); ok {
			z := zones[f.zone]
			if z == nil {
				if !present[[2]string{f.zone, ""}] {
					errs = append(errs, missingParent(f, "zones/"+f.zone+"/zone.yaml"))
				}
				continue
			}
			v.Dir, v.Zone = path.Dir(f.name), z
			teams[[2]string{f.zone, f.team}] = v
			z.Defs = append(z.Defs, v)
		}
	}
	for _, f := range files {
		if f.kind != datastoreFile && f.kind != workspaceFile || f.value == nil {
			continue
		}
		t := teams[[2]string{f.zone, f.team}]
		if t == nil {
			// Quiet only when the team file exists (it failed to decode, or its
			// zone did): an absent team.yaml is always reported.
			if !present[[2]string{f.zone, f.team}] {
				errs = append(errs, missingParent(f, "zones/"+f.zone+"/teams/"+f.team+"/team.yaml"))
			}
			continue
		}
		switch v := f.value.(type) {
		case *Datastore:
			v.Team = t
			t.Datastores = append(t.Datastores, v)
		case *Workspace:
			v.Team = t
			t.Workspaces = append(t.Workspaces, v)
			for i := range v.Transformers {
				tr := &v.Transformers[i]
				if tr.Output != nil {
					tr.Output.Team, tr.Output.Transformer = t, tr
				}
			}
		}
	}
	return errs
}

func missingParent(f *modelFile, parent string) *LoadError {
	return &LoadError{Pos: Pos{File: f.display, Line: 1, Col: 1}, Code: "load-layout",
		Msg: fmt.Sprintf("%s is missing, so this file belongs to nothing; add it or move the file", parent)}
}

// DirSource reads a model from a folder.
type DirSource string

func (d DirSource) Describe() string { return string(d) }
func (d DirSource) Commit() string   { return "" }
func (d DirSource) Display(name string) string {
	return filepath.ToSlash(filepath.Join(string(d), filepath.FromSlash(name)))
}

func (d DirSource) ReadFile(name string) ([]byte, error) {
	return readFile(filepath.Join(string(d), filepath.FromSlash(name)))
}

// FileHash is the git blob hash of a file's content, so a folder compares
// with a git revision (or another folder) by hash. It reads the file.
func (d DirSource) FileHash(name string) (string, bool) {
	b, err := d.ReadFile(name)
	if err != nil {
		return "", false
	}
	return BlobHash(b), true
}

// BlobHash is git's object hash of a blob with this content.
func BlobHash(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func (d DirSource) Files(ctx context.Context) ([]string, error) {
	root := string(d)
	if st, err := os.Stat(root); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", root)
	}
	return walkDir(ctx, root)
}

// walkDir lists the files under root, slash-separated and relative to it,
// sorted, skipping folders whose names start with a dot. Folders are read
// several at a time: a model has thousands, and each costs a few system calls.
func walkDir(ctx context.Context, root string) ([]string, error) {
	type result struct {
		files, dirs []string
		err         error
	}
	var names []string
	level := []string{""} // the folders to read next, relative to root
	workers := 2 * runtime.GOMAXPROCS(0)
	for len(level) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		results := make([]result, len(level))
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < min(workers, len(level)); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(level) {
						return
					}
					rel := level[i]
					entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(rel)))
					r := &results[i]
					r.err = err
					for _, e := range entries {
						name := e.Name()
						if rel != "" {
							name = rel + "/" + name
						}
						switch {
						case !e.IsDir():
							r.files = append(r.files, name)
						case !strings.HasPrefix(e.Name(), "."):
							r.dirs = append(r.dirs, name)
						}
					}
				}
			}()
		}
		wg.Wait()
		level = level[:0:0]
		for _, r := range results {
			if r.err != nil {
				return nil, r.err
			}
			names = append(names, r.files...)
			level = append(level, r.dirs...)
		}
	}
	sort.Strings(names)
	return names, nil
}
