// Package trino runs the Trino SQL files of a deploy tree (trino/*.sql)
// through Trino's HTTP client protocol: each file's statements in order,
// files sorted by path, stopping at the first statement that fails.
package trino

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is one SQL file and its statements.
type File struct {
	// Path is relative to the folder given to Load, with slashes.
	Path       string
	Statements []Statement
}

// ErrNotDeployTree is returned by Load for a folder that holds no SQL file
// and is neither a deploy tree (no MANIFEST.json) nor a trino folder: most
// likely a wrong path.
var ErrNotDeployTree = errors.New("no trino/*.sql files, no MANIFEST.json and not a trino folder: is this a deploy tree?")

// Load reads and splits every trino/*.sql under dir (the deploy tree, a
// platform's folder or a trino folder itself), sorted by path. Hidden
// folders (.git) are skipped. Every file is split before anything runs, so
// a file that cannot be split stops the whole apply.
func Load(dir string) ([]File, error) {
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
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".sql") && filepath.Base(filepath.Dir(p)) == "trino" {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 && filepath.Base(filepath.Clean(dir)) != "trino" {
		if _, err := os.Stat(filepath.Join(dir, "MANIFEST.json")); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, ErrNotDeployTree)
		}
	}
	var files []File
	var errs []error
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, err := Split(string(b))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rel, err))
			continue
		}
		files = append(files, File{Path: rel, Statements: st})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// Shorten puts a statement on one line and cuts it to about n bytes.
func Shorten(sql string, n int) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
