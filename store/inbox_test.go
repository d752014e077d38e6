package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGetVoicemailAndBacklog(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)

	n, oldest, err := s.VoicemailBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.True(t, oldest.IsZero(), "no voicemail: no oldest")

	first := voicemailCall("vm-a")
	first.Voicemail.Length = 42500 * time.Millisecond
	second := voicemailCall("vm-b")
	second.StartedAt, second.EndedAt = t0.Add(time.Hour), t0.Add(time.Hour+time.Minute)
	for _, rec := range []*CallRecord{&first, &second} {
		_, err := WriteCall(ctx, db, rec)
		require.NoError(t, err)
	}
	n, oldest, err = s.VoicemailBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.True(t, oldest.Equal(first.EndedAt), "oldest %v, want %v", oldest, first.EndedAt)

	list, err := s.ListVoicemails(ctx, VoicemailFilter{WaitingOnly: true})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.NotNil(t, list[0].LengthSeconds)
	require.InDelta(t, 42.5, *list[0].LengthSeconds, 1e-9)
	require.Nil(t, list[1].LengthSeconds, "length not known")

	got, err := s.GetVoicemail(ctx, list[0].ID)
	require.NoError(t, err)
	require.Equal(t, list[0], got)
	_, err = s.GetVoicemail(ctx, 987654)
	require.ErrorIs(t, err, ErrNotFound)

	// Handling the oldest moves the backlog's oldest to the next one, and
	// handling both clears it.
	require.NoError(t, s.MarkVoicemailHandled(ctx, list[0].ID, "QL01", "called back"))
	n, oldest, err = s.VoicemailBacklog(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.True(t, oldest.Equal(second.EndedAt))
	require.NoError(t, s.MarkVoicemailHandled(ctx, list[1].ID, "QL01", ""))
	n, oldest, err = s.VoicemailBacklog(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.True(t, oldest.IsZero())
}

func TestNegativeVoicemailLengthRejected(t *testing.T) {
	rec := voicemailCall("neg")
	rec.Voicemail.Length = -time.Second
	require.ErrorContains(t, rec.Validate(), "negative voicemail length")
}

func TestComplaintsInbox(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	s := New(db)
	_, err := db.ExecContext(ctx, `
INSERT INTO staff (code, name, role) VALUES ('KTV01', 'KTV Nguyễn Văn A', 'technician');
INSERT INTO cafes (code, name, province_code) VALUES ('KG001', 'Net Cỏ Mây', 'kien-giang')`)
	require.NoError(t, err)

	older := sampleCall("c-older") // KTV01 accepted; complaint with score 2
	older.Rating = &Rating{Score: 2, Complaint: true, Staff: "KTV01"}
	newer := sampleCall("c-newer")
	newer.StartedAt, newer.AcceptedAt, newer.EndedAt = t0.Add(time.Hour), t0.Add(time.Hour+20*time.Second), t0.Add(2*time.Hour)
	newer.Legs = nil
	newer.AcceptedBy = "KTV09" // not in the directory (any more)
	newer.Caller = ""          // withheld or invalid: the raw caller ID is shown
	newer.Rating = &Rating{Complaint: true, Staff: "KTV09"}
	happy := sampleCall("happy") // rated 5: not a complaint
	for _, rec := range []*CallRecord{&older, &newer, &happy} {
		_, err := WriteCall(ctx, db, rec)
		require.NoError(t, err)
	}

	n, err := s.ComplaintsWaiting(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	list, err := s.ListComplaints(ctx, ComplaintFilter{WaitingOnly: true})
	require.NoError(t, err)
	require.Len(t, list, 2)
	two := 2
	require.Equal(t, ComplaintEntry{CallID: "c-older", Cafe: "KG001", CafeName: "Net Cỏ Mây", Caller: "+84945550101",
		Staff: "KTV01", StaffName: "KTV Nguyễn Văn A", Score: &two, CallStarted: list[0].CallStarted,
		TalkSeconds: 160, CreatedAt: list[0].CreatedAt}, list[0], "oldest first")
	require.True(t, list[0].CallStarted.Equal(t0))
	require.True(t, list[0].CreatedAt.Equal(older.EndedAt), "the complaint is dated at the call's end")
	require.Equal(t, "c-newer", list[1].CallID)
	require.Equal(t, "KTV09", list[1].Staff)
	require.Empty(t, list[1].StaffName)
	require.Nil(t, list[1].Score)
	require.Equal(t, "0945550101", list[1].Caller)

	tests := []struct {
		name, call, by string
		want           error
		wantText       string
	}{
		{name: "review", call: "c-older", by: "QL01"},
		{name: "twice", call: "c-older", by: "QL02", want: ErrAlreadyReviewed, wantText: "QL01"},
		{name: "a rating that is no complaint", call: "happy", by: "QL01", want: ErrNotFound},
		{name: "unknown call", call: "nope", by: "QL01", want: ErrNotFound},
		{name: "nobody", call: "c-newer", by: "", wantText: "who reviewed it is required"},
	}
	for _, tt := range tests {
		err := s.MarkComplaintReviewed(ctx, tt.call, tt.by, "đã nói chuyện với KTV")
		switch {
		case tt.want == nil && tt.wantText == "":
			require.NoError(t, err, tt.name)
		case tt.want != nil:
			require.ErrorIs(t, err, tt.want, tt.name)
		}
		if tt.wantText != "" {
			require.ErrorContains(t, err, tt.wantText, tt.name)
		}
	}

	n, err = s.ComplaintsWaiting(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	all, err := s.ListComplaints(ctx, ComplaintFilter{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "c-newer", all[0].CallID, "waiting first")
	require.Equal(t, "QL01", all[1].ReviewedBy)
	require.NotNil(t, all[1].ReviewedAt)
	require.Equal(t, "đã nói chuyện với KTV", all[1].Note)
	waiting, err := s.ListComplaints(ctx, ComplaintFilter{WaitingOnly: true, Limit: 5})
	require.NoError(t, err)
	require.Len(t, waiting, 1)

	// The schema keeps a review to complaints and who with when.
	_, err = db.ExecContext(ctx, "UPDATE ratings SET reviewed_by = 'X', reviewed_at = now() WHERE call_id = 'happy'")
	require.ErrorContains(t, err, "ratings_review_complaint")
	_, err = db.ExecContext(ctx, "UPDATE ratings SET reviewed_by = 'X' WHERE call_id = 'c-newer'")
	require.ErrorContains(t, err, "ratings_reviewed_by_at")
}
