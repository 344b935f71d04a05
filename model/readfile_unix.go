//go:build unix

package model

import (
	"io/fs"
	"syscall"
)

// readFile reads a whole file with the fewest system calls: open, fstat,
// read, close. os.ReadFile also registers the file with the poller, toggles
// its flags and reads once more to see the end, which doubles the calls; with
// tens of thousands of small model files the calls dominate reading.
func readFile(name string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	// One byte more than the size, so that a file that grew is noticed and
	// read to its end.
	data := make([]byte, 0, int(st.Size)+1)
	for {
		n, err := syscall.Read(fd, data[len(data):cap(data)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n <= 0 {
			return data, nil
		}
		data = data[:len(data)+n]
		if len(data) < cap(data) && int64(len(data)) == st.Size {
			return data, nil // all of it: no need for another call to see the end
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grow
		}
	}
}

func fstat(fd int, st *syscall.Stat_t) error {
	for {
		if err := syscall.Fstat(fd, st); err != syscall.EINTR {
			return err
		}
	}
}
