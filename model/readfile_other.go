//go:build !unix

package model

import (
	"io"
	"io/fs"
	"os"
)

// readFileLimited reads a regular file of at most max bytes; a link is not
// followed, anything but a regular file is not opened.
func readFileLimited(name string, max int64) ([]byte, error) {
	st, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	if st.Size() > max {
		return nil, &tooLargeError{size: st.Size(), limit: max}
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		return nil, &tooLargeError{size: -1, limit: max}
	}
	return b, err
}
