package store

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVoicemailQueries(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)
	for _, id := range []string{"vm-1", "vm-2"} {
		rec := voicemailCall(id)
		_, err := WriteCall(ctx, db, &rec)
		require.NoError(t, err)
	}
	answered := sampleCall("ans-1")
	_, err := WriteCall(ctx, db, &answered)
	require.NoError(t, err)

	n, err := s.VoicemailsWaiting(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	list, err := s.ListVoicemails(ctx, VoicemailFilter{WaitingOnly: true})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "KG002", list[0].Cafe)
	require.Equal(t, "vm-vm-1", list[0].Recording)

	require.NoError(t, s.MarkVoicemailHandled(ctx, list[0].ID, "OP01", "called back"))
	err = s.MarkVoicemailHandled(ctx, list[0].ID, "OP02", "")
	require.ErrorIs(t, err, ErrAlreadyHandled)
	require.ErrorContains(t, err, "OP01")
	err = s.MarkVoicemailHandled(ctx, 99999, "OP02", "")
	require.True(t, errors.Is(err, ErrNotFound), "got %v", err)

	n, err = s.VoicemailsWaiting(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	all, err := s.ListVoicemails(ctx, VoicemailFilter{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Nil(t, all[0].HandledAt, "waiting first")
	require.Equal(t, "OP01", all[1].HandledBy)
	require.Equal(t, "called back", all[1].Note)
}

func TestStaffScoresAndComplaints(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)
	a := sampleCall("a") // KTV01: busy leg + accepted leg, rated 5
	b := sampleCall("b")
	b.Rating = &Rating{Score: 2, Complaint: true, Staff: "KTV01"}
	c := voicemailCall("c") // KTV01: no answer
	for _, r := range []*CallRecord{&a, &b, &c} {
		_, err := WriteCall(ctx, db, r)
		require.NoError(t, err)
	}
	scores, err := s.StaffScores(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, scores, 1)
	sc := scores[0]
	require.Equal(t, "KTV01", sc.Staff)
	require.Equal(t, 5, sc.Rung)
	require.Equal(t, 2, sc.Accepted)
	require.Equal(t, 3, sc.Missed)
	require.Equal(t, 2, sc.Ratings)
	require.NotNil(t, sc.AvgScore)
	require.InDelta(t, 3.5, *sc.AvgScore, 1e-9)
	require.Equal(t, 1, sc.Complaints)

	comp, err := s.Complaints(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, comp, 1)
	require.Equal(t, "b", comp[0].CallID)
	require.Equal(t, "KG001", comp[0].Cafe)

	counts, err := s.CallCounts(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, map[Outcome]int{OutcomeAnswered: 2, OutcomeVoicemail: 1}, counts)
	byRegion, err := s.OutcomesByRegion(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []RegionOutcome{
		{Region: "", Outcome: OutcomeVoicemail, Calls: 1}, // sorted by region: "" first
		{Region: "MN", Outcome: OutcomeAnswered, Calls: 2},
	}, byRegion)

	none, err := s.StaffScores(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	importSample(t, db)
	s := New(db)
	require.NoError(t, s.AddRefusal(ctx, "KTV01", "KG001", "không hợp tác"))
	require.NoError(t, s.AddRefusal(ctx, "KTV01", "KG001", "again"))
	require.ErrorIs(t, s.AddRefusal(ctx, "KTV99", "KG001", ""), ErrNotFound)
	d, err := LoadDirectory(ctx, db)
	require.NoError(t, err)
	require.True(t, d.Refuses("KTV01", "KG001"))
	require.False(t, d.Refuses("KTV01", "KG002"))
	require.NoError(t, s.RemoveRefusal(ctx, "KTV01", "KG001"))
	require.ErrorIs(t, s.RemoveRefusal(ctx, "KTV01", "KG001"), ErrNotFound)
}
