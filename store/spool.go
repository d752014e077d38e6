package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// spool is the Recorder's append-only file of call records (JSON lines). Every
// append is fsync'd before it returns. A lock file (flock) keeps a second
// Recorder off the same spool.
type spool struct {
	path string
	mu   sync.Mutex
	f    *os.File // opened O_APPEND
	lock *os.File
	n    int // records in the file

	// The steps of compaction that can fail, replaceable by tests to inject
	// a failure (default os.Rename and syncDir).
	rename  func(oldpath, newpath string) error
	syncDir func(dir string) error
}

func openSpool(path string) (*spool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: spool: %w", err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("store: spool: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("store: spool %s is in use by another process: %w", path, err)
	}
	s := &spool{path: path, lock: lock, rename: os.Rename, syncDir: syncDir}
	if err := s.reopen(); err != nil {
		_ = lock.Close()
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("store: spool: %w", err)
	}
	// A crash in the middle of an append leaves a torn last line: end it so
	// the next record starts on its own line (the torn one is rejected at
	// replay).
	if len(data) > 0 && data[len(data)-1] != '\n' {
		if _, err := s.f.Write([]byte{'\n'}); err != nil {
			s.closeFiles()
			return nil, fmt.Errorf("store: spool: %w", err)
		}
	}
	s.n = countLines(data)
	return s, nil
}

func (s *spool) reopen() error {
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("store: spool: %w", err)
	}
	if s.f != nil {
		_ = s.f.Close()
	}
	s.f = f
	return nil
}

func (s *spool) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *spool) append(rec *CallRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: spool: encode: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.f
	if f == nil {
		// After close (a record submitted during shutdown): append through a
		// short-lived handle; the next Recorder on this path replays it.
		if f, err = os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640); err != nil {
			return fmt.Errorf("store: spool: %w", err)
		}
		defer f.Close()
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("store: spool: write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: spool: fsync: %w", err)
	}
	s.n++
	return nil
}

// readAll returns the records in the file, the lines that do not decode, and
// the byte offset it read up to (for dropHead).
func (s *spool) readAll() (recs []*CallRecord, bad [][]byte, end int64, err error) {
	s.mu.Lock()
	data, err := os.ReadFile(s.path)
	s.mu.Unlock()
	if err != nil {
		return nil, nil, 0, err
	}
	// Only whole lines: an append racing with this read is left for later.
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec CallRecord
		if err := json.Unmarshal(line, &rec); err != nil || rec.ID == "" {
			bad = append(bad, append([]byte(nil), line...))
			continue
		}
		recs = append(recs, &rec)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, 0, err
	}
	return recs, bad, int64(len(data)), nil
}

// dropHead removes the first end bytes (the records just replayed), keeping
// any appended since: truncate when nothing was, else rewrite the tail to a
// temporary file, fsync it and rename it over the spool.
func (s *spool) dropHead(end int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	if int64(len(data)) < end {
		return fmt.Errorf("store: spool shrank under us (%d < %d bytes)", len(data), end)
	}
	tail := data[end:]
	if len(tail) == 0 && s.f != nil {
		if err := s.f.Truncate(0); err != nil {
			return err
		}
		if err := s.f.Sync(); err != nil {
			return err
		}
		s.n = 0
		return nil
	}
	tmp := s.path + ".tmp"
	if err := writeFileSync(tmp, tail); err != nil {
		return err
	}
	if err := s.rename(tmp, s.path); err != nil {
		return err // the old spool is still in place and in use
	}
	// From here on the path names the new file: switch to it whatever
	// happens next, or later appends would go to the unlinked old one.
	s.n = countLines(tail)
	reopenErr := s.reopen()
	if reopenErr != nil && s.f != nil {
		// Without a handle on the new file, append opens the path each time.
		_ = s.f.Close()
		s.f = nil
	}
	if err := s.syncDir(filepath.Dir(s.path)); err != nil {
		// The rename may not survive a crash: the old file would come back
		// with the replayed head, which is then skipped by its call ids.
		return errors.Join(fmt.Errorf("store: spool: fsync directory: %w", err), reopenErr)
	}
	return reopenErr
}

// reject appends rec with the reason to the .rejected file, for a person to
// look at; such records are never retried.
func (s *spool) reject(rec *CallRecord, cause error) error {
	line, err := json.Marshal(struct {
		RejectedAt time.Time   `json:"rejected_at"`
		Reason     string      `json:"reason"`
		Record     *CallRecord `json:"record"`
	}{time.Now().UTC(), cause.Error(), rec})
	if err != nil {
		return err
	}
	return s.appendRejected(line)
}

func (s *spool) rejectRaw(line []byte) {
	_ = s.appendRejected(line)
}

func (s *spool) appendRejected(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.path+".rejected", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return err
	}
	return f.Sync()
}

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.lock != nil {
		_ = s.lock.Close() // releases the flock
		s.lock = nil
	}
	return err
}

func (s *spool) closeFiles() {
	if s.f != nil {
		_ = s.f.Close()
	}
	_ = s.lock.Close()
}

func countLines(data []byte) int {
	n := 0
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	return n
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
