package ari

import (
	"context"
	"slices"
)

// Endpoint states as Asterisk reports them in Endpoint.State. A PJSIP
// endpoint is online when one of its contacts answers qualify (OPTIONS),
// offline when none does, unknown when Asterisk cannot tell (no qualify).
const (
	EndpointOnline  = "online"
	EndpointOffline = "offline"
	EndpointUnknown = "unknown"
)

// Endpoint is an Asterisk endpoint: a PJSIP trunk such as gw-viettel, a
// phone, … (ARI's Endpoint model).
type Endpoint struct {
	Technology string `json:"technology"`
	Resource   string `json:"resource"`
	// State is EndpointOnline, EndpointOffline or EndpointUnknown; Asterisk
	// may leave it out.
	State      string   `json:"state,omitempty"`
	ChannelIDs []string `json:"channel_ids"`
}

// FormatLang is one language and file format a sound exists in.
type FormatLang struct {
	Language string `json:"language"`
	Format   string `json:"format"`
}

// Sound is a sound file Asterisk can play as "sound:<ID>" (ARI's Sound
// model). Asterisk indexes its sounds folder by language: the file
// sounds/vi/greeting.wav is the sound "greeting" in language "vi", format
// "wav".
type Sound struct {
	ID      string       `json:"id"`
	Text    string       `json:"text,omitempty"`
	Formats []FormatLang `json:"formats"`
}

// HasLanguage reports whether the sound exists in language lang (any format).
func (s *Sound) HasLanguage(lang string) bool {
	return s != nil && slices.ContainsFunc(s.Formats, func(f FormatLang) bool { return f.Language == lang })
}

// GetEndpoint returns one endpoint, e.g. GetEndpoint(ctx, "PJSIP",
// "gw-viettel"). An endpoint Asterisk does not know is an error wrapping
// ErrNotFound.
func (c *Client) GetEndpoint(ctx context.Context, tech, resource string) (*Endpoint, error) {
	if err := need("endpoints.get", "technology", tech); err != nil {
		return nil, err
	}
	if err := need("endpoints.get", "resource", resource); err != nil {
		return nil, err
	}
	var e Endpoint
	r := request{op: "endpoints.get", method: "GET", path: "/endpoints/" + seg(tech) + "/" + seg(resource)}
	if err := c.do(ctx, r, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListEndpoints returns every endpoint Asterisk knows.
func (c *Client) ListEndpoints(ctx context.Context) ([]Endpoint, error) {
	var es []Endpoint
	if err := c.do(ctx, request{op: "endpoints.list", method: "GET", path: "/endpoints"}, &es); err != nil {
		return nil, err
	}
	return es, nil
}

// GetSound returns a sound by id ("greeting", "digits/1") with every
// language and format it exists in. A sound that exists in no language is an
// error wrapping ErrNotFound. Asterisk rescans its sounds folder for the id
// on each call, so files copied while it runs are seen.
func (c *Client) GetSound(ctx context.Context, id string) (*Sound, error) {
	if err := need("sounds.get", "sound id", id); err != nil {
		return nil, err
	}
	var s Sound
	if err := c.do(ctx, request{op: "sounds.get", method: "GET", path: "/sounds/" + seg(id)}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
