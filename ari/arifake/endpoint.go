package arifake

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadEndpoint is returned by ParseEndpoint for dial strings the fake cannot
// allocate a channel for (Asterisk answers 500 "Allocation failed").
var ErrBadEndpoint = errors.New("arifake: endpoint cannot be allocated")

// DialTarget is a parsed ARI endpoint ("PJSIP/0945551519@gw-vinaphone").
type DialTarget struct {
	Tech     string // "PJSIP" or "Local"
	Resource string // everything after "Tech/", e.g. "0945551519@gw-vinaphone"
	Trunk    string // PJSIP endpoint name, or the Local context
	Number   string // digits of the dialled number ("" when none)
}

// ParseEndpoint parses the endpoint forms an ARI application dials:
//
//	PJSIP/0945551519@gw-vinaphone        number@endpoint
//	PJSIP/gw-viettel/sip:0945551519@x    endpoint/URI
//	PJSIP/gw-viettel                     endpoint only (no number)
//	Local/0945551519@phones[/n]          number@context
//
// Number keeps only the digits of the user part. Other technologies and empty
// parts are ErrBadEndpoint.
func ParseEndpoint(s string) (DialTarget, error) {
	tech, rest, ok := strings.Cut(s, "/")
	if !ok || rest == "" {
		return DialTarget{}, fmt.Errorf("%w: %q", ErrBadEndpoint, s)
	}
	d := DialTarget{Resource: rest}
	switch strings.ToLower(tech) {
	case "pjsip":
		d.Tech = "PJSIP"
		if ep, uri, ok := strings.Cut(rest, "/"); ok {
			// endpoint/URI: the number is the URI's user part.
			d.Trunk = ep
			uri = strings.TrimPrefix(strings.TrimPrefix(uri, "sips:"), "sip:")
			user, _, _ := strings.Cut(uri, "@")
			d.Number = digits(user)
		} else if user, ep, ok := strings.Cut(rest, "@"); ok {
			d.Trunk = ep
			d.Number = digits(user)
		} else {
			d.Trunk = rest
		}
	case "local":
		d.Tech = "Local"
		body, _, _ := strings.Cut(rest, "/") // drop Local options such as /n
		user, ctx, ok := strings.Cut(body, "@")
		if !ok || user == "" || ctx == "" {
			return DialTarget{}, fmt.Errorf("%w: %q", ErrBadEndpoint, s)
		}
		d.Resource = body
		d.Trunk = ctx
		d.Number = digits(user)
	default:
		return DialTarget{}, fmt.Errorf("%w: %q", ErrBadEndpoint, s)
	}
	if d.Trunk == "" || strings.ContainsAny(d.Trunk, " \t/") {
		return DialTarget{}, fmt.Errorf("%w: %q", ErrBadEndpoint, s)
	}
	return d, nil
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// numberKeys returns the lookup keys for a number: itself and its 0…/84… twin.
func numberKeys(n string) []string {
	n = digits(n)
	keys := []string{n}
	switch {
	case strings.HasPrefix(n, "84") && len(n) >= 10:
		keys = append(keys, "0"+n[2:])
	case strings.HasPrefix(n, "0") && len(n) >= 9:
		keys = append(keys, "84"+n[1:])
	}
	return keys
}
