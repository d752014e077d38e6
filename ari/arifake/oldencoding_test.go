package arifake

import (
	"net/url"
	"testing"
)

// The ari client once sent list parameters as repeated keys
// (url.Values.Encode: channel=A&channel=B). Asterisk keeps only the last
// value, so the caller was never bridged and the technician heard only the
// announcement's last sound; the fake used to accept both forms and hid it.
// Now the old encoding fails against the fake as it does against Asterisk
// (recorded: j_rest_params, i_playback_lists).
func TestOldRepeatedKeyEncodingFailsAsOnAsterisk(t *testing.T) {
	s, c, st, ctx := setup(t, Options{DefaultPhone: Answers(0)})
	caller := answeredCall(t, s, c, st, ctx)
	c.must(t, ctx, 200, "POST", "/channels/create", "endpoint", "PJSIP/0945551519@gw-vinaphone", "app", "hotline", "channelId", "leg")
	st.want(t, ctx, "StasisStart", "leg")
	c.must(t, ctx, 204, "POST", "/channels/leg/dial")
	if e := st.want(t, ctx, "ChannelStateChange", "leg"); e.Channel.State != "Up" {
		t.Fatalf("leg %s", e.raw)
	}
	c.must(t, ctx, 200, "POST", "/bridges/br")

	old := url.Values{"channel": {caller, "leg"}}.Encode()
	r, err := c.doRaw(ctx, "POST", "/bridges/br/addChannel", old, "", "")
	if err != nil || r.status != 204 {
		t.Fatalf("old addChannel: %v %d %s (Asterisk answers 204)", err, r.status, r.body)
	}
	var b Bridge
	c.must(t, ctx, 200, "GET", "/bridges/br").decode(t, &b)
	if len(b.Channels) != 1 || b.Channels[0] != "leg" {
		t.Fatalf("old encoding bridged %v; Asterisk bridges only the last channel, [leg]", b.Channels)
	}
	// The list as one comma-separated value bridges both.
	c.must(t, ctx, 204, "POST", "/bridges/br/addChannel", "channel", caller+",leg")
	c.must(t, ctx, 200, "GET", "/bridges/br").decode(t, &b)
	if len(b.Channels) != 2 {
		t.Fatalf("comma-separated list bridged %v", b.Channels)
	}

	// The announcement: only the last media= plays.
	old = url.Values{"media": {"sound:vi/announce", "digits:42", "sound:vi/press-one"}, "playbackId": {"ann"}}.Encode()
	if r, err := c.doRaw(ctx, "POST", "/channels/leg/play", old, "", ""); err != nil || r.status != 201 {
		t.Fatalf("old play: %v %d %s", err, r.status, r.body)
	}
	if got := pbSeq(t, ctx, st, "ann", 2); got != "Started sound:vi/press-one playing, Finished sound:vi/press-one done" {
		t.Fatalf("old encoding played %s; Asterisk plays only the last sound", got)
	}
	c.must(t, ctx, 201, "POST", "/channels/leg/play/ann2", "media", "sound:vi/announce,digits:42,sound:vi/press-one")
	if got := pbSeq(t, ctx, st, "ann2", 6); got != "Started sound:vi/announce>digits:42 playing, "+
		"Continuing sound:vi/announce>digits:42 continuing, Started digits:42>sound:vi/press-one playing, "+
		"Continuing digits:42>sound:vi/press-one continuing, Started sound:vi/press-one playing, Finished sound:vi/press-one done" {
		t.Fatalf("comma-separated list played %s", got)
	}
}
