package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Validate checks the whole configuration and reports every problem, one per
// line, each naming the key: `ari.url: "htp://x" is not an http(s) URL`.
func (c Config) Validate() error { return c.validate(true) }

// ValidateOffline checks what the commands that do not talk to Asterisk
// (migrate, import, route) need: everything but the ari and http sections.
func (c Config) ValidateOffline() error { return c.validate(false) }

func (c Config) validate(online bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Database.URL == "" {
		bad("database.url: is required (or set %s)", EnvDatabaseURL)
	} else if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("database.url: %q is not a postgres:// URL", redactURL(c.Database.URL))
	}
	if c.Database.SpoolDir == "" {
		bad("database.spool_dir: is required")
	}

	if online {
		c.validateOnline(bad)
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format: %q is not text or json", c.Log.Format)
	}

	for carrier, tmpl := range c.Trunks {
		if err := CheckDialTemplate(tmpl); err != nil {
			bad("trunks.%s: %v", carrier, err)
		}
	}

	k := c.Call
	if !digits.MatchString(k.CallerID) {
		bad("call.caller_id: %q must be digits", k.CallerID)
	}
	positive := []struct {
		key string
		d   time.Duration
	}{
		{"call.ring.technician", k.Ring.Technician},
		{"call.ring.area_manager", k.Ring.AreaManager},
		{"call.ring.regional_manager", k.Ring.RegionalManager},
		{"call.ring.operator", k.Ring.Operator},
		{"call.confirm_timeout", k.ConfirmTimeout},
		{"call.max_call", k.MaxCall},
		{"call.max_leg", k.MaxLeg},
		{"call.code_first_digit", k.CodeFirstDigit},
		{"call.code_inter_digit", k.CodeInterDigit},
		{"call.code_overall", k.CodeOverall},
		{"call.voicemail_max", k.VoicemailMax},
		{"call.rating_timeout", k.RatingTimeout},
		{"call.drain", k.Drain},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad("%s: %s must be positive", p.key, p.d)
		}
	}
	for _, r := range []struct {
		key string
		d   time.Duration
	}{{"call.ring.technician", k.Ring.Technician}, {"call.ring.area_manager", k.Ring.AreaManager},
		{"call.ring.regional_manager", k.Ring.RegionalManager}, {"call.ring.operator", k.Ring.Operator}} {
		if r.d > 0 && k.MaxLeg > 0 && r.d >= k.MaxLeg {
			bad("%s: %s must be shorter than call.max_leg (%s)", r.key, r.d, k.MaxLeg)
		}
	}
	if k.Hold != "ringing" && k.Hold != "moh" {
		bad("call.hold: %q is not ringing or moh", k.Hold)
	}
	if k.CodeTries < 1 || k.CodeTries > 5 {
		bad("call.code_tries: %d must be between 1 and 5", k.CodeTries)
	}
	if k.TetDaysBefore < 0 || k.TetDaysBefore > 10 {
		bad("call.tet_days_before: %d must be between 0 and 10", k.TetDaysBefore)
	}
	if k.TetDaysAfter < 0 || k.TetDaysAfter > 10 {
		bad("call.tet_days_after: %d must be between 0 and 10", k.TetDaysAfter)
	}
	if days := k.TetDaysBefore + 1 + k.TetDaysAfter; days < 5 {
		bad("call.tet_days_before, call.tet_days_after: %d and %d make a %d-day Tết; the Labour Code (art. 112) gives 5 (default 2 and 2)",
			k.TetDaysBefore, k.TetDaysAfter, days)
	}
	for key, v := range map[string]string{
		"prompts.greeting": c.Prompts.Greeting, "prompts.enter_code": c.Prompts.EnterCode,
		"prompts.connecting": c.Prompts.Connecting, "prompts.announce": c.Prompts.Announce,
		"prompts.province": c.Prompts.Province, "prompts.press_one": c.Prompts.PressOne,
		"prompts.rate": c.Prompts.Rate, "prompts.thanks": c.Prompts.Thanks,
		"prompts.voicemail": c.Prompts.Voicemail, "prompts.goodbye": c.Prompts.Goodbye,
		"prompts.digit_prefix": c.Prompts.DigitPrefix, "prompts.province_prefix": c.Prompts.ProvincePrefix,
		"prompts.letter_prefix": c.Prompts.LetterPrefix,
		"prompts.callback":      c.Prompts.Callback, "prompts.callback_no_answer": c.Prompts.CallbackNoAnswer,
		"prompts.transfer": c.Prompts.Transfer, "prompts.role_prefix": c.Prompts.RolePrefix,
		"prompts.transfer_failed": c.Prompts.TransferFailed, "prompts.transfer_invalid": c.Prompts.TransferInvalid,
	} {
		if v == "" || strings.ContainsAny(v, " \t,") {
			bad("%s: %q must be a sound name without spaces or commas", key, v)
		}
	}
	cb := c.Callback
	if cb.MinWait < 0 {
		bad("callback.min_wait: %s must not be negative", cb.MinWait)
	}
	if cb.Tries < 1 || cb.Tries > 20 {
		bad("callback.tries: %d must be between 1 and 20", cb.Tries)
	}
	if cb.Retry < time.Minute {
		bad("callback.retry: %s must be at least 1m", cb.Retry)
	}
	if _, _, err := CallbackHours(cb.Hours); err != nil {
		bad("callback.hours: %v", err)
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

var (
	appName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	digits  = regexp.MustCompile(`^[0-9]+$`)
	dialTpl = regexp.MustCompile(`^[A-Za-z0-9]+/\S+$`)
	// nodeName is what the metrics admit as a node label value.
	nodeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,39}$`)
)

// instanceName is what a host name, an application name and a separator
// are made of; an instance appears in logs and in the reservations table.
var instanceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$`)

// CheckDialTemplate reports whether tmpl is a usable Asterisk dial string
// template: TECH/resource with {number} (national form) or {e164}.
func CheckDialTemplate(tmpl string) error {
	if !dialTpl.MatchString(tmpl) {
		return fmt.Errorf("%q is not a dial string like PJSIP/{number}@gw-viettel", tmpl)
	}
	if !strings.Contains(tmpl, "{number}") && !strings.Contains(tmpl, "{e164}") {
		return fmt.Errorf("%q has neither {number} nor {e164}", tmpl)
	}
	rest := strings.NewReplacer("{number}", "", "{e164}", "").Replace(tmpl)
	if strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("%q has an unknown placeholder (only {number} and {e164})", tmpl)
	}
	return nil
}

// redactURL hides a password in a URL so it can appear in an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

func (c Config) validateOnline(bad func(string, ...any)) {
	if len(c.ARI.Nodes) > 0 {
		c.validateNodes(bad)
	} else {
		if c.ARI.URL == "" {
			bad("ari.url: is required (or set %s)", EnvARIURL)
		} else if !httpURL(c.ARI.URL) {
			bad("ari.url: %q is not an http(s) URL", redactURL(c.ARI.URL))
		}
		if c.ARI.User == "" {
			bad("ari.user: is required (or set %s)", EnvARIUser)
		}
		if c.ARI.Password == "" {
			bad("ari.password: is required (or set %s)", EnvARIPassword)
		}
		if !appName.MatchString(c.ARI.App) {
			bad("ari.app: %q must be letters, digits, '_' or '-'", c.ARI.App)
		}
		if c.ARI.Node == "" {
			bad("ari.node: is required")
		} else if !nodeName.MatchString(c.ARI.Node) {
			bad("ari.node: %q must be 1 to 40 letters, digits, '_', '.' or '-', starting with a letter", c.ARI.Node)
		}
	}
	switch id := c.InstanceID(); {
	case id == "":
		bad("instance: the host name is unknown; set instance (or %s)", EnvInstance)
	case !instanceName.MatchString(id):
		bad("instance: %q must be 1 to 128 letters, digits or . _ : / @ -, starting with a letter or digit", id)
	default:
		for _, n := range c.ARI.Nodes {
			if nid := c.NodeInstanceID(n.Name); nodeName.MatchString(n.Name) && !instanceName.MatchString(nid) {
				bad("instance: %q (the identity on node %s) is longer than 128 characters; set a shorter instance", nid, n.Name)
			}
		}
	}

	if _, port, err := net.SplitHostPort(c.HTTP.Addr); err != nil || port == "" {
		bad("http.addr: %q is not host:port", c.HTTP.Addr)
	}
}

// validateNodes checks ari.nodes: each node complete and well-formed, no
// name or URL twice, and not together with the single node's ari.url.
func (c Config) validateNodes(bad func(string, ...any)) {
	if c.ARI.URL != "" {
		bad("ari.nodes: set together with ari.url %q (or %s): use ari.url for one node, ari.nodes for several, not both",
			redactURL(c.ARI.URL), EnvARIURL)
	}
	names, urls := map[string]int{}, map[string]int{}
	for i, n := range c.NodeList() {
		key := fmt.Sprintf("ari.nodes[%d]", i)
		switch {
		case n.Name == "":
			bad("%s.name: is required", key)
		case !nodeName.MatchString(n.Name):
			bad("%s.name: %q must be 1 to 40 letters, digits, '_', '.' or '-', starting with a letter", key, n.Name)
		default:
			if j, dup := names[n.Name]; dup {
				bad("%s.name: %q is also ari.nodes[%d]'s name", key, n.Name, j)
			} else {
				names[n.Name] = i
			}
		}
		switch {
		case n.URL == "":
			bad("%s.url: is required", key)
		case !httpURL(n.URL):
			bad("%s.url: %q is not an http(s) URL", key, redactURL(n.URL))
		default:
			u := sameNodeURL(n.URL)
			if j, dup := urls[u]; dup {
				bad("%s.url: %q is also ari.nodes[%d]'s URL: the same Asterisk twice", key, redactURL(n.URL), j)
			} else {
				urls[u] = i
			}
		}
		if n.User == "" {
			bad("%s.user: is required (or set ari.user, %s, for every node)", key, EnvARIUser)
		}
		if n.Password == "" {
			bad("%s.password: is required (or set ari.password, %s, for every node)", key, EnvARIPassword)
		}
		if !appName.MatchString(n.App) {
			bad("%s.app: %q must be letters, digits, '_' or '-'", key, n.App)
		}
	}
}

// httpURL reports whether s is an http(s) URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// sameNodeURL reduces an ARI URL to what tells two nodes apart: the host
// and port (lower case, the scheme's default port made explicit) and the
// path without "/ari" or a trailing "/"; credentials, query and scheme do
// not matter.
func sameNodeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/ari")
	return net.JoinHostPort(host, port) + strings.TrimSuffix(p, "/")
}

var hoursRange = regexp.MustCompile(`^([01]?[0-9]|2[0-4]):([0-5][0-9])\s*[-–]\s*([01]?[0-9]|2[0-4]):([0-5][0-9])$`)

// CallbackHours parses callback.hours, "HH:MM-HH:MM" (Asia/Ho_Chi_Minh,
// every day), into minutes since midnight; the end is after the start, at
// most 24:00.
func CallbackHours(s string) (start, end int, err error) {
	m := hoursRange.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not a time range like 07:00-22:00", s)
	}
	atoi := func(v string) int {
		n := 0
		for _, r := range v {
			n = n*10 + int(r-'0')
		}
		return n
	}
	start, end = atoi(m[1])*60+atoi(m[2]), atoi(m[3])*60+atoi(m[4])
	if start >= end || end > 24*60 {
		return 0, 0, fmt.Errorf("%q: the end must be after the start, at most 24:00", s)
	}
	return start, end, nil
}
