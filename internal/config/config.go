// Package config owns the hotline's configuration: the YAML schema (decoded
// strictly, unknown keys are errors), its defaults, the HOTLINE_* environment
// overrides (environment wins over the file) and Validate, whose messages name
// the offending key and value.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of a hotline process.
type Config struct {
	// Instance names this process in the reservations of people it rings
	// (shared with other instances through the database). It must stay the
	// same across restarts, so a restarted process frees at once what its
	// previous run held, and differ between processes running at the same
	// time. Empty: the host name + "/" + ari.app (see InstanceID).
	Instance string            `yaml:"instance"`
	Database Database          `yaml:"database"`
	ARI      ARI               `yaml:"ari"`
	HTTP     HTTP              `yaml:"http"`
	Log      Log               `yaml:"log"`
	Trunks   map[string]string `yaml:"trunks"` // carrier (or "default") → dial template
	Call     Call              `yaml:"call"`
	Callback Callback          `yaml:"callback"`
	Prompts  Prompts           `yaml:"prompts"`
}

// Callback is calling cafés back after a missed call.
type Callback struct {
	// Enabled turns automatic callbacks on (off by default: the hotline
	// then never calls a café on its own). The board's "call back now"
	// works either way.
	Enabled bool `yaml:"enabled"`
	// MinWait: a call from a known café that ended no_answer, voicemail or
	// abandoned becomes a callback request when the caller waited longer.
	MinWait time.Duration `yaml:"min_wait"`
	// Tries per request, spaced by Retry.
	Tries int           `yaml:"tries"`
	Retry time.Duration `yaml:"retry"`
	// Hours when cafés are called back, "HH:MM-HH:MM" every day in
	// Asia/Ho_Chi_Minh.
	Hours string `yaml:"hours"`
}

// Database is where the directory and the call records live.
type Database struct {
	URL string `yaml:"url"` // postgres://…; secret: never logged
	// SpoolDir keeps call records that could not be written yet.
	SpoolDir string `yaml:"spool_dir"`
}

// ARI is how to reach Asterisk: one node (URL, User, Password, App,
// Node — HOTLINE_ARI_*) or several (Nodes), never both.
type ARI struct {
	URL      string `yaml:"url"` // http(s)://host:8088
	User     string `yaml:"user"`
	Password string `yaml:"password"` // secret: never logged
	App      string `yaml:"app"`
	// Node names this Asterisk server in logs and metrics.
	Node string `yaml:"node"`
	// Nodes are several Asterisk servers one process serves at once. A
	// node's empty user, password or app is ari.user, ari.password
	// (HOTLINE_ARI_PASSWORD) or ari.app.
	Nodes []Node `yaml:"nodes"`
}

// Node is one Asterisk server of ari.nodes.
type Node struct {
	// Name labels the node in logs, metrics (node), /readyz and the
	// instance identity; letters, digits, '_', '.', '-', a letter first.
	Name     string `yaml:"name"`
	URL      string `yaml:"url"`
	User     string `yaml:"user"`
	Password string `yaml:"password"` // secret: never logged
	App      string `yaml:"app"`
}

// String is the node without its password, for logs and errors.
func (n Node) String() string {
	return fmt.Sprintf("%s (%s, app %s)", n.Name, redactURL(n.URL), n.App)
}

// NodeList returns the Asterisk nodes to serve, with the defaults applied:
// ari.nodes, or the single node of ari.url when ari.nodes is empty.
func (c Config) NodeList() []Node {
	if len(c.ARI.Nodes) == 0 {
		return []Node{{Name: c.ARI.Node, URL: c.ARI.URL, User: c.ARI.User, Password: c.ARI.Password, App: c.ARI.App}}
	}
	out := make([]Node, len(c.ARI.Nodes))
	for i, n := range c.ARI.Nodes {
		if n.User == "" {
			n.User = c.ARI.User
		}
		if n.Password == "" {
			n.Password = c.ARI.Password
		}
		if n.App == "" {
			n.App = c.ARI.App
		}
		out[i] = n
	}
	return out
}

// NodeInstanceID is the identity, in reservations and callback leases, of
// this process's call flow on node: InstanceID for the single node of
// ari.url (as before ari.nodes existed, so a restart still frees what the
// previous run held), InstanceID + "@" + the node's name with ari.nodes —
// each node's flow then frees, when it starts, only what its own previous
// run held, never what the process's other nodes hold already.
func (c Config) NodeInstanceID(node string) string {
	id := c.InstanceID()
	if len(c.ARI.Nodes) == 0 || id == "" {
		return id
	}
	return id + "@" + node
}

// HTTP is the process's own HTTP server (/metrics, /healthz, /readyz, board).
type HTTP struct {
	Addr string `yaml:"addr"`
	// BoardToken protects the live board when Addr is not loopback.
	BoardToken string `yaml:"board_token"` // secret: never logged
}

// Log selects the slog handler.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Call holds the call flow's timings and numbers.
type Call struct {
	// CallerID is the number the called technician sees (the hotline's number).
	CallerID string `yaml:"caller_id"`
	// Ring is how long each role's phone rings before the next target.
	Ring RingTimes `yaml:"ring"`
	// ConfirmTimeout is how long an answering person has to press 1.
	ConfirmTimeout time.Duration `yaml:"confirm_timeout"`
	// MaxCall is the hard limit of a bridged call.
	MaxCall time.Duration `yaml:"max_call"`
	// MaxLeg is the hard limit of any outgoing leg, whatever its state.
	MaxLeg time.Duration `yaml:"max_leg"`
	// Hold is what the caller hears while targets ring: "ringing" or "moh".
	Hold     string `yaml:"hold"`
	MOHClass string `yaml:"moh_class"`
	// DTMF collection of the café code.
	CodeFirstDigit time.Duration `yaml:"code_first_digit"`
	CodeInterDigit time.Duration `yaml:"code_inter_digit"`
	CodeOverall    time.Duration `yaml:"code_overall"`
	CodeTries      int           `yaml:"code_tries"`
	// Voicemail recording limits.
	VoicemailMax time.Duration `yaml:"voicemail_max"`
	// RatingTimeout is how long the caller has to rate the call.
	RatingTimeout time.Duration `yaml:"rating_timeout"`
	// Drain is how long SIGTERM waits for live calls.
	Drain time.Duration `yaml:"drain"`
	// TetDaysBefore/After place the computed Tết holiday around lunar 1/1:
	// days before it and days after it. The default, 2 and 2, is the five
	// days of the Labour Code (art. 112) as the yearly decisions usually
	// place them: the last two days of the lunar year through lunar 1/3.
	// Less than five days in all is refused.
	TetDaysBefore int `yaml:"tet_days_before"`
	TetDaysAfter  int `yaml:"tet_days_after"`
}

// RingTimes is the ring timeout per role.
type RingTimes struct {
	Technician      time.Duration `yaml:"technician"`
	AreaManager     time.Duration `yaml:"area_manager"`
	RegionalManager time.Duration `yaml:"regional_manager"`
	Operator        time.Duration `yaml:"operator"`
}

// Prompts names the sound files played (Asterisk media URIs without "sound:"),
// so a company can replace the generated voices with recorded ones.
type Prompts struct {
	Greeting   string `yaml:"greeting"`
	EnterCode  string `yaml:"enter_code"`
	Connecting string `yaml:"connecting"`
	Announce   string `yaml:"announce"` // to the called person: "hotline call from café"
	Province   string `yaml:"province"` // "in province" (followed by the province's name)
	// ProvincePrefix + area code names a province ("vi/province-0297").
	ProvincePrefix string `yaml:"province_prefix"`
	PressOne       string `yaml:"press_one"`
	Rate           string `yaml:"rate"`
	Thanks         string `yaml:"thanks"`
	Voicemail      string `yaml:"voicemail"`
	Goodbye        string `yaml:"goodbye"`
	DigitPrefix    string `yaml:"digit_prefix"`  // digits are DigitPrefix+"0".."9"
	LetterPrefix   string `yaml:"letter_prefix"` // a café code's letters are LetterPrefix+"a".."z"
	// Callback replaces Announce on a callback: "callback to café";
	// CallbackNoAnswer tells the person who accepted the café did not answer.
	Callback         string `yaml:"callback"`
	CallbackNoAnswer string `yaml:"callback_no_answer"`
	// Transfers (`*<area code>#`), to the person who asked: Transfer
	// ("transferring to") + RolePrefix + the role of the person rung
	// (vi/role-technician …) + Province and the province; TransferFailed
	// ("nobody took it, the caller is back with you"); TransferInvalid
	// (an area code of no province).
	Transfer        string `yaml:"transfer"`
	RolePrefix      string `yaml:"role_prefix"`
	TransferFailed  string `yaml:"transfer_failed"`
	TransferInvalid string `yaml:"transfer_invalid"`
}

// Default returns the configuration used where neither file nor environment
// says otherwise.
func Default() Config {
	return Config{
		Database: Database{SpoolDir: "spool"},
		ARI:      ARI{App: "hotline", Node: "asterisk"},
		HTTP:     HTTP{Addr: "127.0.0.1:9480"},
		Log:      Log{Level: "info", Format: "text"},
		// The gateways of the shipped deploy/asterisk/pjsip.conf.
		Trunks: map[string]string{
			"vinaphone": "PJSIP/{number}@gw-vinaphone",
			"viettel":   "PJSIP/{number}@gw-viettel",
			"default":   "PJSIP/{number}@gw-viettel",
		},
		Call: Call{
			CallerID: "19001000",
			Ring: RingTimes{
				Technician:      25 * time.Second,
				AreaManager:     25 * time.Second,
				RegionalManager: 25 * time.Second,
				Operator:        30 * time.Second,
			},
			ConfirmTimeout: 8 * time.Second,
			MaxCall:        60 * time.Minute,
			MaxLeg:         2 * time.Minute,
			Hold:           "ringing",
			MOHClass:       "default",
			CodeFirstDigit: 8 * time.Second,
			CodeInterDigit: 4 * time.Second,
			CodeOverall:    20 * time.Second,
			CodeTries:      2,
			VoicemailMax:   2 * time.Minute,
			RatingTimeout:  8 * time.Second,
			Drain:          5 * time.Minute,
			TetDaysBefore:  2,
			TetDaysAfter:   2,
		},
		Callback: Callback{
			MinWait: 20 * time.Second,
			Tries:   3,
			Retry:   10 * time.Minute,
			Hours:   "07:00-22:00",
		},
		Prompts: Prompts{
			Greeting:       "vi/greeting",
			EnterCode:      "vi/enter-code",
			Connecting:     "vi/connecting",
			Announce:       "vi/announce",
			Province:       "vi/province",
			ProvincePrefix: "vi/province-",
			PressOne:       "vi/press-one",
			Rate:           "vi/rate",
			Thanks:         "vi/thanks",
			Voicemail:      "vi/voicemail",
			Goodbye:        "vi/goodbye",
			DigitPrefix:    "vi/digit-",
			LetterPrefix:   "vi/letter-",

			// Callbacks (callback.*).
			Callback:         "vi/callback",
			CallbackNoAnswer: "vi/callback-no-answer",
			// Transfers (ivr/transfer.go).
			Transfer:        "vi/transfer",
			RolePrefix:      "vi/role-",
			TransferFailed:  "vi/transfer-failed",
			TransferInvalid: "vi/transfer-invalid",
		},
	}
}

// InstanceID is the process's identity in reservations: Instance, else the
// host name + "/" + the ARI application's name ("" when the host name is
// unknown; Validate reports it).
func (c Config) InstanceID() string {
	if c.Instance != "" {
		return c.Instance
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return ""
	}
	return host + "/" + c.ARI.App
}

// Load parses YAML text over the defaults, strictly: unknown keys are errors.
// It does not read the environment and does not validate.
func Load(text string) (Config, error) {
	cfg := Default()
	if err := decode(bytes.NewBufferString(text), &cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// LoadFile reads the YAML file at path (none when path is ""), and applies the
// HOTLINE_* variables of environ ("KEY=value" pairs; os.Environ() when nil).
// The caller validates with Validate or ValidateOffline, depending on what
// the command needs.
func LoadFile(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := decode(f, &cfg); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if environ == nil {
		environ = os.Environ()
	}
	if err := cfg.ApplyEnv(environ); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func decode(r io.Reader, cfg *Config) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("yaml: %w", err)
	}
	if cfg.Trunks == nil {
		cfg.Trunks = map[string]string{}
	}
	return nil
}
