package statedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const lockFile = "luvs.lock"

// Lock is the held instance lock of one Dir.
type Lock struct{ fd int }

// HeldError says that another process holds the instance lock.
type HeldError struct {
	PID   int       // 0 when the holder has not yet written it
	Since time.Time // when the holder took the lock
	Path  string    // the lock file
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return "another luvs run holds " + e.Path
	}
	return fmt.Sprintf("another luvs run (pid %d, since %s) holds %s",
		e.PID, e.Since.Local().Format(time.RFC3339), e.Path)
}

// Lock takes the exclusive instance lock: flock(LOCK_EX|LOCK_NB) on
// Path/luvs.lock, which then holds this process's pid and the time. The lock
// lasts until Release or the process's end (however it ends: the kernel drops
// it), and is not inherited by child processes. When another process holds
// it, Lock returns a *HeldError.
//
// flock locks belong to an open file: a second Lock in the same process fails
// like one from another process.
func (d *Dir) Lock() (*Lock, error) {
	path := filepath.Join(d.Path, lockFile)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	// A Holder probe holds a shared lock for a moment; retry past it.
	for try := 0; ; try++ {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) || try == 4 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, readHolder(path)
		}
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	rec := fmt.Sprintf("%d %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339Nano))
	if err = unix.Ftruncate(fd, 0); err == nil {
		_, err = unix.Pwrite(fd, []byte(rec), 0)
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "write", Path: path, Err: err}
	}
	return &Lock{fd: fd}, nil
}

// Release clears the lock file and gives up the lock. Releasing twice is a
// no-op.
func (l *Lock) Release() error {
	if l.fd < 0 {
		return nil
	}
	unix.Ftruncate(l.fd, 0)
	err := unix.Close(l.fd)
	l.fd = -1
	return err
}

// Holder reports who holds the instance lock without taking it, for commands
// that must not run beside a daemon: nil when it is free. It probes with
// flock(LOCK_SH|LOCK_NB), which never disturbs a holder.
func (d *Dir) Holder() (*HeldError, error) {
	path := filepath.Join(d.Path, lockFile)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd) // also drops the shared lock
	err = unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB)
	switch {
	case err == nil:
		return nil, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return readHolder(path), nil
	}
	return nil, &os.PathError{Op: "flock", Path: path, Err: err}
}

// readHolder reads the held lock file at path, waiting a little for a holder
// that has just taken the lock to write it.
func readHolder(path string) *HeldError {
	e := &HeldError{Path: path}
	for try := 0; try < 20; try++ {
		b, _ := os.ReadFile(path)
		pid, since, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
		if ok {
			e.PID, _ = strconv.Atoi(pid)
			e.Since, _ = time.Parse(time.RFC3339Nano, since)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return e
}
