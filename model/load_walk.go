package model

import (
	"context"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
)

// The model's layout, relative to its root:
//
//	ecosystem.yaml
//	zones/<zone>/zone.yaml
//	zones/<zone>/teams/<team>/team.yaml
//	zones/<zone>/teams/<team>/datastores/<name>.yaml
//	zones/<zone>/teams/<team>/workspaces/<name>.yaml
//
// Every source, a git revision or a folder, is read by the same rules,
// applied by one walk to the entries it lists without following links or
// opening files:
//   - at the root, ecosystem.yaml must be a regular file and zones a real
//     folder; every other entry (README.md, .gitlab-ci.yml, CODEOWNERS,
//     docs/, .git, ...) is not part of the model and is neither read nor
//     walked;
//   - under zones/ every entry is part of the model: a folder of the layout,
//     or a model file (a regular file, executable or not). Anything else is
//     refused: a symbolic link, a git submodule, a device, named pipe or
//     socket, a hidden file or folder (a name starting with "."), a folder
//     the layout does not have, or a file that is not a model file.
//
// A link is refused rather than followed because git stores a link as its
// target string, which a checkout resolves to other bytes: the two would be
// different models.

// IsModelPath reports whether name, a slash-separated path relative to the
// model's root, is a model file of the layout: ecosystem.yaml or a zone,
// team, datastore or workspace file under zones/. The loader reads exactly
// these; every other path under zones/ is refused, every other path outside
// zones/ is not part of the model.
func IsModelPath(name string) bool {
	_, _, _, ok := classify(name)
	return ok
}

// inLayoutDir reports whether dir, a folder under zones/, is one the
// layout has.
func inLayoutDir(dir string) bool {
	p := strings.Split(dir, "/")
	switch len(p) {
	case 1, 2:
		return true // zones, zones/<zone>
	case 3:
		return p[2] == "teams"
	case 4:
		return p[2] == "teams"
	case 5:
		return p[2] == "teams" && (p[4] == "datastores" || p[4] == "workspaces")
	}
	return false
}

type entryKind uint8

const (
	entryFile entryKind = iota + 1 // a regular file (git: 100644 or 100755)
	entryDir
	entrySymlink
	entrySubmodule
	entryDevice
	entryPipe
	entrySocket
	entryOther // an unknown git mode, or a name no checkout can have
)

func (k entryKind) String() string {
	switch k {
	case entryFile:
		return "a file"
	case entryDir:
		return "a folder"
	case entrySymlink:
		return "a symbolic link"
	case entrySubmodule:
		return "a git submodule"
	case entryDevice:
		return "a device"
	case entryPipe:
		return "a named pipe"
	case entrySocket:
		return "a socket"
	}
	return "neither a file nor a folder"
}

// dirEntry is one entry of a listed folder.
type dirEntry struct {
	name string
	kind entryKind
	ref  plumbing.Hash // git: the entry's object; zero for folders on disk
}

// walked is a path the walk reached, with the lister's reference to it.
type walked struct {
	path    string
	ref     plumbing.Hash
	outside bool // a folder the layout does not have: everything in it is refused
}

// lister lists one folder of a source, given the walked reference to it
// ({"", zero} for the model's root); it may be called from several
// goroutines at once.
type lister interface {
	list(dir walked) ([]dirEntry, error)
}

// walkedSource is a source whose files the walk lists and judges.
type walkedSource interface {
	Source
	// walkModel lists the model files, and the entries refused by the rules.
	walkModel(ctx context.Context) ([]string, []*LoadError, error)
}

// walkModel applies the layout's rules to what l lists: it returns the
// model files (sorted) with their references, and a load error for each
// entry it refuses.
func walkModel(ctx context.Context, l lister, display func(string) string) ([]walked, []*LoadError, error) {
	root, err := l.list(walked{})
	if err != nil {
		return nil, nil, err
	}
	var files, level []walked
	var refused []*LoadError
	rootSeen := map[string]bool{}
	for _, e := range root {
		if e.name == "ecosystem.yaml" || e.name == "zones" {
			if rootSeen[e.name] {
				e.kind = entryOther
			}
			rootSeen[e.name] = true
		}
		switch {
		case e.name == "ecosystem.yaml" && e.kind == entryFile:
			files = append(files, walked{path: e.name, ref: e.ref})
		case e.name == "zones" && e.kind == entryDir:
			level = append(level, walked{path: e.name, ref: e.ref})
		case e.name == "ecosystem.yaml":
			refused = append(refused, kindError(display(e.name), e.kind, "ecosystem.yaml must be a regular file"+rootRemedy(e.kind)))
		case e.name == "zones":
			refused = append(refused, kindError(display(e.name), e.kind, "zones must be a real folder holding the zones' folders"+rootRemedy(e.kind)))
		}
	}
	workers := 2 * runtime.GOMAXPROCS(0)
	for len(level) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		// Folders are listed several at a time: a model has thousands, each
		// a few system calls or an object read.
		entries := make([][]dirEntry, len(level))
		errs := make([]error, len(level))
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
					entries[i], errs[i] = l.list(level[i])
				}
			}()
		}
		wg.Wait()
		var deeper []walked
		for i, dir := range level {
			if errs[i] != nil {
				return nil, nil, errs[i]
			}
			if dir.outside && len(entries[i]) == 0 {
				// Only a folder can show it: git keeps no empty folders (a
				// checkout shows a submodule it did not clone as one).
				refused = append(refused, &LoadError{Pos: Pos{File: display(dir.path), Line: 1, Col: 1}, Code: "load-layout",
					Msg: "an empty folder outside the model layout; under zones/ there are only zones/<zone>/, its teams/<team>/ and their datastores/ and workspaces/: remove it"})
			}
			seen := make(map[string]bool, len(entries[i]))
			for _, e := range entries[i] {
				p := dir.path + "/" + e.name
				if strings.ContainsAny(e.name, "/\\\x00") || e.name == "" || seen[e.name] {
					// A name no checkout can have, or one a (malformed) git
					// tree holds twice.
					e.kind = entryOther
				}
				seen[e.name] = true
				switch {
				case e.kind != entryFile && e.kind != entryDir:
					refused = append(refused, kindError(display(p), e.kind, kindRemedy(e.kind)))
				case e.name[0] == '.':
					// Once, at the hidden entry: a hidden folder (another
					// repository's .git) may hold any number of files.
					refused = append(refused, &LoadError{Pos: Pos{File: display(p), Line: 1, Col: 1}, Code: "load-layout",
						Msg: e.kind.String() + " whose name starts with \".\" (hidden); everything under zones/ is part of the model and nothing there may be hidden: rename or remove it"})
				case e.kind == entryDir:
					// A folder the layout does not have is walked too, so that
					// each file in it is named.
					deeper = append(deeper, walked{p, e.ref, dir.outside || !inLayoutDir(p)})
				case !dir.outside && IsModelPath(p):
					files = append(files, walked{path: p, ref: e.ref})
				default:
					refused = append(refused, notModelFile(display(p)))
				}
			}
		}
		level = deeper
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	sort.SliceStable(refused, func(i, j int) bool { return refused[i].Pos.File < refused[j].Pos.File })
	return files, refused, nil
}

func kindError(display string, k entryKind, remedy string) *LoadError {
	return &LoadError{Pos: Pos{File: display, Line: 1, Col: 1}, Code: "load-file-kind", Msg: k.String() + "; " + remedy}
}

func kindRemedy(k entryKind) string {
	switch k {
	case entrySymlink:
		return "the model is read from git and from checkouts, which see a link differently (git stores its target as text, a checkout follows it), so model files and folders must be real: replace the link with a copy of what it points to, or remove it"
	case entrySubmodule:
		return "the model cannot include another repository: commit its files into this one, or remove the submodule"
	case entryOther:
		return "its name or git mode is not one a checkout can have (git fsck refuses such a commit): remove it"
	}
	return "model folders hold only regular files and folders: remove it"
}

func rootRemedy(k entryKind) string {
	switch k {
	case entrySymlink, entrySubmodule, entryOther:
		return "; " + kindRemedy(k)
	}
	return ""
}

// notModelFile is the load error for a file under zones/ that is not one of
// the layout's.
func notModelFile(display string) *LoadError {
	return &LoadError{Pos: Pos{File: display, Line: 1, Col: 1}, Code: "load-layout",
		Msg: "not a model file; under zones/ the files are zones/<zone>/zone.yaml, zones/<zone>/teams/<team>/team.yaml and .../datastores/<name>.yaml or .../workspaces/<name>.yaml: rename it, or move it outside zones/ (e.g. to docs/ at the root)"}
}

// judgeNames applies the walk's rules to a bare list of paths, for a source
// that can only list them: every path is taken as a regular file.
func judgeNames(src Source, names []string) ([]string, []*LoadError) {
	var files []string
	var refused []*LoadError
	for _, n := range names {
		switch {
		case IsModelPath(n):
			files = append(files, n)
		case strings.HasPrefix(n, "zones/"):
			refused = append(refused, notModelFile(src.Display(n)))
		}
	}
	return files, refused
}

// listSource lists a source's model files and the entries it refuses.
func listSource(ctx context.Context, src Source) ([]string, []*LoadError, error) {
	if w, ok := src.(walkedSource); ok {
		return w.walkModel(ctx)
	}
	names, err := src.Files(ctx)
	if err != nil {
		return nil, nil, err
	}
	files, refused := judgeNames(src, names)
	return files, refused, nil
}

func paths(ws []walked) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.path
	}
	return out
}
