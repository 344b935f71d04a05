//go:build unix

package model

import (
	"io/fs"
	"syscall"
)

// readFileLimited reads a whole regular file of at most max bytes with the
// fewest system calls: open, fstat, read, close. os.ReadFile also registers
// the file with the poller, toggles its flags and reads once more to see the
// end, which doubles the calls; with tens of thousands of small model files
// the calls dominate reading.
//
// A symbolic link is not followed (O_NOFOLLOW), and a named pipe or device
// that took a file's place since it was listed is not read: O_NONBLOCK keeps
// the open of a pipe from waiting for a writer, fstat then refuses it. A
// file larger than max is refused from its size, before any read.
func readFileLimited(name string, max int64) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
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
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	if st.Size > max {
		return nil, &tooLargeError{size: st.Size, limit: max}
	}
	// One byte more than the size, so that a file that grew is noticed and
	// read to its end (or to the limit).
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
		if int64(len(data)) > max {
			return nil, &tooLargeError{size: -1, limit: max}
		}
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
