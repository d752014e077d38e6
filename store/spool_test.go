package store

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// spoolIDs returns the ids of the records in the spool file, in order.
func spoolIDs(t *testing.T, s *spool) []string {
	t.Helper()
	recs, bad, _, err := s.readAll()
	require.NoError(t, err)
	require.Empty(t, bad)
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

// A compaction whose rename succeeded but whose directory fsync failed must
// not leave the spool appending to the file it just replaced: every record
// appended afterwards is in the spool file. (Before the fix, dropHead
// returned before reopening, so later appends went to an unlinked file and
// were lost.)
func TestSpoolCompactionDirSyncFailureLosesNothing(t *testing.T) {
	s, err := openSpool(filepath.Join(t.TempDir(), "calls.jsonl"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.close() })

	for _, id := range []string{"A", "B"} {
		require.NoError(t, s.append(&CallRecord{ID: id}))
	}
	_, _, end, err := s.readAll() // A and B replayed…
	require.NoError(t, err)
	require.NoError(t, s.append(&CallRecord{ID: "C"})) // …while C was appended

	failed := false
	s.syncDir = func(string) error {
		failed = true
		return errors.New("injected: fsync of the spool directory failed")
	}
	require.Error(t, s.dropHead(end), "the failure is reported")
	require.True(t, failed, "the compaction path (rename + directory fsync) was taken")
	require.Equal(t, 1, s.count())

	require.NoError(t, s.append(&CallRecord{ID: "D"}))
	require.Equal(t, []string{"C", "D"}, spoolIDs(t, s), "D reached the spool file")
	require.Equal(t, 2, s.count())

	// The next replay (directory fsync working again) compacts normally.
	s.syncDir = syncDir
	_, _, end, err = s.readAll()
	require.NoError(t, err)
	require.NoError(t, s.append(&CallRecord{ID: "E"}))
	require.NoError(t, s.dropHead(end))
	require.NoError(t, s.append(&CallRecord{ID: "F"}))
	require.Equal(t, []string{"E", "F"}, spoolIDs(t, s))
}

// A failed rename leaves the old spool in place and in use: nothing is lost
// and the next replay simply starts again from the head.
func TestSpoolCompactionRenameFailureLosesNothing(t *testing.T) {
	s, err := openSpool(filepath.Join(t.TempDir(), "calls.jsonl"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.close() })

	require.NoError(t, s.append(&CallRecord{ID: "A"}))
	_, _, end, err := s.readAll()
	require.NoError(t, err)
	require.NoError(t, s.append(&CallRecord{ID: "B"}))
	s.rename = func(string, string) error { return errors.New("injected: rename failed") }
	require.Error(t, s.dropHead(end))
	require.NoError(t, s.append(&CallRecord{ID: "C"}))
	require.Equal(t, []string{"A", "B", "C"}, spoolIDs(t, s))
	require.Equal(t, 3, s.count())
}
