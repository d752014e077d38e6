package arifake

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// pbSeq reads the next n playback events of playback id and writes each as
// "Type media[>next] state".
func pbSeq(t *testing.T, ctx context.Context, st *stream, id string, n int) string {
	t.Helper()
	var out []string
	for range n {
		e, err := st.next(ctx, func(e ev) bool {
			return strings.HasPrefix(e.Type, "Playback") && e.Playback != nil && e.Playback.ID == id
		})
		if err != nil {
			t.Fatalf("playback %s: after %v: %v", id, out, err)
		}
		s := strings.TrimPrefix(e.Type, "Playback") + " " + e.Playback.MediaURI
		if e.Playback.NextMediaURI != "" {
			s += ">" + e.Playback.NextMediaURI
		}
		out = append(out, s+" "+e.Playback.State)
	}
	return strings.Join(out, ", ")
}

// answeredCall places a call and answers it.
func answeredCall(t *testing.T, s *Server, c *tclient, st *stream, ctx context.Context) string {
	t.Helper()
	call, err := s.PlaceCall(CallSpec{Number: "0945550201"})
	if err != nil {
		t.Fatal(err)
	}
	st.want(t, ctx, "StasisStart", call.ID())
	c.must(t, ctx, 204, "POST", "/channels/"+call.ID()+"/answer")
	return call.ID()
}

func TestMediaListPlaysItemByItem(t *testing.T) {
	long := 300 * time.Millisecond
	s, c, st, ctx := setup(t, Options{
		// MediaLength works per item: the greeting is long, the rest short.
		MediaLength: func(uri string) time.Duration {
			if uri == "sound:vi/greeting" {
				return long
			}
			return 0
		},
	})
	id := answeredCall(t, s, c, st, ctx)
	var p Playback
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/list", "media", "sound:vi/digit-1,sound:vi/greeting,digits:12").decode(t, &p)
	if p.MediaURI != "sound:vi/digit-1" || p.NextMediaURI != "sound:vi/greeting" || p.State != "queued" {
		t.Fatalf("answer %+v", p)
	}
	if got := pbSeq(t, ctx, st, "list", 3); got !=
		"Started sound:vi/digit-1>sound:vi/greeting playing, Continuing sound:vi/digit-1>sound:vi/greeting continuing, "+
			"Started sound:vi/greeting>digits:12 playing" {
		t.Fatalf("first items: %s", got)
	}
	// GET shows the current item while the greeting plays.
	c.must(t, ctx, 200, "GET", "/playbacks/list").decode(t, &p)
	if p.MediaURI != "sound:vi/greeting" || p.NextMediaURI != "digits:12" || p.State != "playing" {
		t.Fatalf("GET during the second item %+v", p)
	}
	if got := pbSeq(t, ctx, st, "list", 3); got !=
		"Continuing sound:vi/greeting>digits:12 continuing, Started digits:12 playing, Finished digits:12 done" {
		t.Fatalf("last items: %s", got)
	}
	c.must(t, ctx, 404, "GET", "/playbacks/list")
	finished := 0
	for _, e := range st.all() {
		if e.Type == "PlaybackFinished" {
			finished++
		}
	}
	if finished != 1 {
		t.Fatalf("PlaybackFinished %d times, want once", finished)
	}
}

func TestMediaListFailuresAndSkips(t *testing.T) {
	s, c, st, ctx := setup(t, Options{SoundExists: func(name, lang string) bool { return name != "vi/x" }})
	id := answeredCall(t, s, c, st, ctx)
	for _, tc := range []struct{ media, want string }{
		// A missing sound fails its item ("Playback failed for sound:vi/x");
		// the list goes on.
		{"sound:a,sound:vi/x,sound:b", "Started sound:a>sound:vi/x playing, Continuing sound:a>sound:vi/x continuing, " +
			"Started sound:vi/x>sound:b playing, Continuing sound:vi/x>sound:b continuing, Started sound:b playing, Finished sound:b done"},
		// Failing last: the playback finishes "failed".
		{"sound:a,sound:vi/x", "Started sound:a>sound:vi/x playing, Continuing sound:a>sound:vi/x continuing, " +
			"Started sound:vi/x playing, Finished sound:vi/x failed"},
		{"sound:vi/x", "Started sound:vi/x playing, Finished sound:vi/x failed"},
		// Items Asterisk cannot start: PlaybackStarted and straight on.
		{"recording:nope,number:abc,bogus:x,sound:b", "Started recording:nope>number:abc playing, " +
			"Started number:abc>bogus:x playing, Started bogus:x>sound:b playing, Started sound:b playing, Finished sound:b done"},
	} {
		pid := fmt.Sprintf("p%d", len(tc.media))
		c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/"+pid, "media", tc.media)
		if got := pbSeq(t, ctx, st, pid, strings.Count(tc.want, ",")+1); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.media, got, tc.want)
		}
	}
	// A list ending with an item that cannot start never finishes: the
	// playback is gone without PlaybackFinished, and the next one plays.
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/gone", "media", "sound:a,recording:nope")
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/after", "media", "sound:b")
	if got := pbSeq(t, ctx, st, "after", 2); got != "Started sound:b playing, Finished sound:b done" {
		t.Fatalf("after: %s", got)
	}
	c.must(t, ctx, 404, "GET", "/playbacks/gone")
	for _, e := range st.all() {
		if e.Type == "PlaybackFinished" && e.Playback.ID == "gone" {
			t.Fatal("PlaybackFinished for a list whose last item cannot start")
		}
	}
}

func TestStoppingAMediaListStopsItAll(t *testing.T) {
	s, c, st, ctx := setup(t, Options{MediaLength: func(uri string) time.Duration {
		if strings.HasPrefix(uri, "sound:long") {
			return time.Hour
		}
		return 0
	}})
	id := answeredCall(t, s, c, st, ctx)
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/stop", "media", "sound:a,sound:long,sound:c")
	pbSeq(t, ctx, st, "stop", 3) // a started, continuing, long started
	c.must(t, ctx, 204, "DELETE", "/playbacks/stop")
	if got := pbSeq(t, ctx, st, "stop", 1); got != "Finished sound:long>sound:c done" {
		t.Fatalf("stopped: %s", got)
	}
	c.must(t, ctx, 404, "DELETE", "/playbacks/stop")

	// A queued playback: stopped while waiting, shown "done", finished
	// without PlaybackStarted when its turn comes. The ids may repeat.
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/q1", "media", "sound:long")
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/q2", "media", "sound:a,sound:b")
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/q1", "media", "sound:c")
	c.must(t, ctx, 204, "DELETE", "/playbacks/q2")
	var p Playback
	c.must(t, ctx, 200, "GET", "/playbacks/q2").decode(t, &p)
	if p.State != "done" || p.NextMediaURI != "sound:b" {
		t.Fatalf("stopped queued playback %+v", p)
	}
	c.must(t, ctx, 200, "GET", "/playbacks/q1").decode(t, &p)
	if p.MediaURI != "sound:long" {
		t.Fatalf("GET of a repeated id finds %+v, want the older one", p)
	}
	c.must(t, ctx, 204, "DELETE", "/playbacks/q1")
	if got := pbSeq(t, ctx, st, "q1", 2) + " / " + pbSeq(t, ctx, st, "q2", 1) + " / " + pbSeq(t, ctx, st, "q1", 2); got !=
		"Started sound:long playing, Finished sound:long done / Finished sound:a>sound:b done / Started sound:c playing, Finished sound:c done" {
		t.Fatalf("queue: %s", got)
	}

	// Before any sound:, recording: or tone: item a playback cannot be stopped.
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/dig", "media", "digits:12,sound:long")
	pbSeq(t, ctx, st, "dig", 1)
	if r := c.must(t, ctx, 500, "DELETE", "/playbacks/dig"); r.message() != "Could not stop playback" {
		t.Fatalf("stop digits: %s", r.body)
	}
	pbSeq(t, ctx, st, "dig", 2) // continuing, sound:long started
	c.must(t, ctx, 204, "DELETE", "/playbacks/dig")
}

func TestHangupFailsPlayingAndQueuedPlaybacks(t *testing.T) {
	s, c, st, ctx := setup(t, Options{MediaLength: func(string) time.Duration { return time.Hour }})
	call, _ := s.PlaceCall(CallSpec{Number: "0945550201"})
	id := call.ID()
	st.want(t, ctx, "StasisStart", id)
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/h1", "media", "sound:a,sound:b")
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/h2", "media", "sound:c,sound:d")
	pbSeq(t, ctx, st, "h1", 1)
	c.must(t, ctx, 204, "DELETE", "/channels/"+id)
	if got := pbSeq(t, ctx, st, "h1", 1) + " / " + pbSeq(t, ctx, st, "h2", 2); got !=
		"Finished sound:a>sound:b failed / Started sound:c>sound:d playing, Finished sound:c>sound:d failed" {
		t.Fatalf("hangup: %s", got)
	}
	st.want(t, ctx, "StasisEnd", id)
}

func TestContinueWaitsForPlaybacks(t *testing.T) {
	s, c, st, ctx := setup(t, Options{})
	id := answeredCall(t, s, c, st, ctx)
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/c1", "media", "sound:a,sound:b")
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/c2", "media", "sound:c")
	c.must(t, ctx, 204, "POST", "/channels/"+id+"/continue")
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/c3", "media", "sound:never")
	st.want(t, ctx, "StasisEnd", id)
	var order []string
	for _, e := range st.all() {
		switch {
		case e.Type == "StasisEnd":
			order = append(order, "StasisEnd")
		case e.Type == "PlaybackFinished":
			order = append(order, e.Playback.ID)
		}
	}
	if strings.Join(order, " ") != "c1 c2 StasisEnd" {
		t.Fatalf("order %v: the continue must wait for c1 and c2; c3 never plays", order)
	}
}

func TestSoundFilesDecideWhichSoundsPlay(t *testing.T) {
	s, c, st, ctx := setup(t, Options{SoundFiles: []string{"vi/greeting.wav", "en/beep.gsm"}})
	id := answeredCall(t, s, c, st, ctx)
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/sf", "media", "sound:vi/greeting,sound:beep,sound:vi/nope")
	if got := pbSeq(t, ctx, st, "sf", 6); !strings.HasSuffix(got, "Started sound:vi/nope playing, Finished sound:vi/nope failed") ||
		strings.Contains(got, "greeting>sound:beep failed") {
		t.Fatalf("%s", got)
	}
	c.must(t, ctx, 201, "POST", "/channels/"+id+"/play/sf2", "media", "sound:greeting", "lang", "vi")
	if got := pbSeq(t, ctx, st, "sf2", 2); got != "Started sound:greeting playing, Finished sound:greeting done" {
		t.Fatalf("lang vi: %s", got)
	}
}
