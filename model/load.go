package model

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
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
	// Files lists the model files, slash-separated and relative to its root
	// (IsModelPath); the loader refuses every other entry under zones/.
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

// Load reads every model file of src, in parallel, and assembles the model,
// within DefaultLimits.
// A non-nil error means the source itself could not be read; load errors mean
// some files could not be decoded (the model is then incomplete: do not lint it).
func Load(ctx context.Context, src Source) (*Model, []*LoadError, error) {
	return LoadWith(ctx, src, DefaultLimits)
}

// LoadWith is Load within the given limits: a file, a value or a nesting
// over them is a load error at its position, a model over them one load
// error, and nothing over them is held in memory.
func LoadWith(ctx context.Context, src Source, lim Limits) (*Model, []*LoadError, error) {
	defer closeSource(src)
	names, refused, err := listSource(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	m, errs, _, err := load(ctx, src, names, refused, lim, false)
	return m, errs, err
}

// closeSource releases what a source holds open once its files are read.
func closeSource(src Source) {
	if c, ok := src.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// load reads the named model files of src (as listSource lists them, with
// the entries it refused); with hash it also returns each model file's git
// blob hash.
func load(ctx context.Context, src Source, names []string, refused []*LoadError, lim Limits, hash bool) (*Model, []*LoadError, map[string]string, error) {
	lim = lim.withDefaults()
	var files []*modelFile
	errs := append([]*LoadError(nil), refused...)
	for _, name := range names {
		kind, zone, team, ok := classify(name)
		if !ok {
			continue // listSource lists only model files
		}
		files = append(files, &modelFile{name: name, display: src.Display(name), kind: kind, zone: zone, team: team})
	}
	over, err := parseAll(ctx, src, files, hash, lim)
	if err != nil {
		return nil, nil, nil, err
	}
	m := &Model{Source: src.Describe(), Commit: src.Commit()}
	if over {
		// What was read before the limit depends on timing: report only the
		// limit, the same whatever the order.
		errs = append(errs, modelLimitError(src.Display("."), lim.ModelBytes))
		decode.SortErrors(errs)
		return m, errs, nil, nil
	}
	errs = append(errs, assemble(m, files)...)
	eco := src.Display("ecosystem.yaml")
	if m.Ecosystem == nil && !slices.Contains(names, "ecosystem.yaml") && !slices.ContainsFunc(refused, func(e *LoadError) bool { return e.Pos.File == eco }) {
		errs = append(errs, &LoadError{Pos: Pos{File: eco, Line: 1, Col: 1}, Code: "load-layout",
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

// classify maps a path to its place in the layout; no part of a model path
// is empty or hidden.
func classify(name string) (kind fileKind, zone, team string, ok bool) {
	p := strings.Split(name, "/")
	for _, part := range p {
		if part == "" || part[0] == '.' {
			return 0, "", "", false
		}
	}
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

// limitedReader is a source that reads a file only when it is within a
// size, learning the size before reading (a folder's fstat, a git object's
// header).
type limitedReader interface {
	readLimited(name string, max int64) ([]byte, error)
}

// knownHasher is a source that knows its files' git blob hashes without
// reading them.
type knownHasher interface {
	knownHash(name string) (string, bool)
}

// readLimited reads a file of src of at most max bytes; a larger one is a
// *tooLargeError.
func readLimited(src Source, name string, max int64) ([]byte, error) {
	if lr, ok := src.(limitedReader); ok {
		return lr.readLimited(name, max)
	}
	b, err := src.ReadFile(name)
	if err == nil && int64(len(b)) > max {
		return nil, &tooLargeError{size: int64(len(b)), limit: max}
	}
	return b, err
}

// parseAll reads, parses and decodes the files on every core. It reports
// over when the files add up to more than the model limit: it then stops
// reading, and the files' values are incomplete.
func parseAll(ctx context.Context, src Source, files []*modelFile, hash bool, lim Limits) (over bool, err error) {
	work := make(chan *modelFile)
	var wg sync.WaitGroup
	var once sync.Once
	var readErr error
	var total atomic.Int64
	var overLimit atomic.Bool
	kh, known := src.(knownHasher)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			strs := decode.NewStrings() // shared by the files this worker decodes
			yp := &yamlnode.Parser{MaxDepth: lim.Depth, MaxScalar: lim.TextBytes}
			for f := range work {
				if overLimit.Load() {
					continue
				}
				data, err := readLimited(src, f.name, lim.FileBytes)
				var big *tooLargeError
				if errors.As(err, &big) {
					f.errs = append(f.errs, fileLimitError(f.display, big))
					continue
				}
				if err != nil {
					once.Do(func() { readErr = fmt.Errorf("read %s: %w", f.display, err) })
					continue
				}
				if total.Add(int64(len(data))) > lim.ModelBytes {
					overLimit.Store(true)
					continue
				}
				if hash {
					h, ok := "", false
					if known {
						h, ok = kh.knownHash(f.name)
					}
					if !ok {
						h = BlobHash(data)
					}
					f.hash = h
				}
				f.decode(data, strs, yp)
			}
		}()
	}
	for _, f := range files {
		if ctx.Err() != nil || overLimit.Load() {
			break
		}
		work <- f
	}
	close(work)
	wg.Wait()
	if readErr != nil {
		return false, readErr
	}
	return overLimit.Load(), ctx.Err()
}

func (f *modelFile) decode(data []byte, strs *decode.Strings, yp *yamlnode.Parser) {
	root, err := yp.Parse(f.display, data)
	if err != nil {
		pe, ok := err.(*yamlnode.Error)
		if !ok {
			pe = &yamlnode.Error{File: f.display, Line: 1, Column: 1, Msg: err.Error()}
		}
		code, msg := "load-syntax", pe.Msg
		if pe.Limit != "" {
			code, msg = "load-limit", msg+limitRemedy(pe.Limit)
		}
		f.errs = append(f.errs, &LoadError{Pos: Pos{File: f.display, Line: int32(pe.Line), Col: int32(pe.Column)}, Code: code, Msg: msg})
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

// ReadFile reads a model file: a regular file (a link is not followed, a
// device or pipe not opened) of at most 1 GiB.
func (d DirSource) ReadFile(name string) ([]byte, error) {
	return d.readLimited(name, maxReadable)
}

func (d DirSource) readLimited(name string, max int64) ([]byte, error) {
	return readFileLimited(filepath.Join(string(d), filepath.FromSlash(name)), max)
}

// maxReadable is the most any model file can be: the parser's own limit.
const maxReadable = 1 << 30

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

// Files lists the model files, by the layout's rules (see IsModelPath).
func (d DirSource) Files(ctx context.Context) ([]string, error) {
	names, _, err := d.walkModel(ctx)
	return names, err
}

func (d DirSource) walkModel(ctx context.Context) ([]string, []*LoadError, error) {
	root := string(d)
	if st, err := os.Stat(root); err != nil {
		return nil, nil, err
	} else if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s is not a folder", root)
	}
	files, refused, err := walkModel(ctx, d, d.Display)
	if err != nil {
		return nil, nil, err
	}
	return paths(files), refused, nil
}

// list lists a folder's entries with their kinds as lstat sees them: a link
// is a link, whatever it points to.
func (d DirSource) list(dir walked) ([]dirEntry, error) {
	entries, err := os.ReadDir(filepath.Join(string(d), filepath.FromSlash(dir.path)))
	if err != nil {
		return nil, err
	}
	out := make([]dirEntry, len(entries))
	for i, e := range entries {
		out[i] = dirEntry{name: e.Name(), kind: kindOfMode(e.Type())}
	}
	return out, nil
}

func kindOfMode(m fs.FileMode) entryKind {
	switch t := m.Type(); {
	case t == 0:
		return entryFile
	case t&fs.ModeDir != 0:
		return entryDir
	case t&fs.ModeSymlink != 0:
		return entrySymlink
	case t&fs.ModeNamedPipe != 0:
		return entryPipe
	case t&fs.ModeSocket != 0:
		return entrySocket
	case t&fs.ModeDevice != 0:
		return entryDevice
	}
	return entryOther
}
