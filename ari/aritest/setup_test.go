package aritest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
)

// The endpoints and sounds a set-up check reads, through our client: a
// known trunk with its state, an unknown one (404 as on Asterisk), sounds
// indexed by language like Asterisk's sounds folder.
func TestEndpointsAndSoundsThroughOurClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv := aritest.Start(t, aritest.Options{
		KnownTrunks: []string{"gw-vinaphone", "gw-viettel"},
		Trunks:      map[string]aritest.TrunkState{"gw-vinaphone": aritest.TrunkUnavailable},
		SoundFiles:  []string{"vi/greeting.wav", "vi/digit-1.wav", "en/greeting.gsm", "en/greeting.ulaw", "README", "vi/notes"},
	})
	cl, err := ari.New(ari.Config{URL: srv.URL(), User: "asterisk", Password: "asterisk", App: "hotline"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := cl.GetEndpoint(ctx, "PJSIP", "gw-viettel")
	if err != nil || e.State != ari.EndpointOnline || e.Resource != "gw-viettel" || e.Technology != "PJSIP" {
		t.Fatalf("gw-viettel = %+v, %v", e, err)
	}
	if e, err := cl.GetEndpoint(ctx, "PJSIP", "gw-vinaphone"); err != nil || e.State != ari.EndpointOffline {
		t.Fatalf("gw-vinaphone = %+v, %v", e, err)
	}
	_, err = cl.GetEndpoint(ctx, "PJSIP", "gw-mobifone")
	var ae *ari.Error
	if !errors.Is(err, ari.ErrNotFound) || !errors.As(err, &ae) || ae.Message != "Endpoint not found" {
		t.Fatalf("unknown endpoint: %v", err)
	}
	if _, err := cl.GetEndpoint(ctx, "SIP", "gw-viettel"); !errors.Is(err, ari.ErrNotFound) {
		t.Fatalf("other technology: %v", err)
	}
	list, err := cl.ListEndpoints(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("endpoints = %+v, %v", list, err)
	}

	s, err := cl.GetSound(ctx, "greeting")
	if err != nil || !s.HasLanguage("vi") || !s.HasLanguage("en") || len(s.Formats) != 3 {
		t.Fatalf("greeting = %+v, %v", s, err)
	}
	if s, err := cl.GetSound(ctx, "digit-1"); err != nil || !s.HasLanguage("vi") || s.HasLanguage("en") || s.Formats[0].Format != "slin" {
		t.Fatalf("digit-1 = %+v, %v", s, err)
	}
	// A prompt's full name is not a sound id: vi/greeting is "greeting" in vi.
	for _, id := range []string{"vi/greeting", "digit-2", "README", "notes"} {
		_, err := cl.GetSound(ctx, id)
		if !errors.Is(err, ari.ErrNotFound) || !errors.As(err, &ae) || ae.Message != "Sound not found" {
			t.Errorf("sound %s: %v", id, err)
		}
	}
}
