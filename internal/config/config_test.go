package config

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
)

// valid is the smallest environment that makes the defaults valid.
var valid = []string{
	"HOTLINE_DATABASE_URL=postgres://hotline:dbsecret@127.0.0.1:5432/hotline",
	"HOTLINE_ARI_URL=http://127.0.0.1:8088",
	"HOTLINE_ARI_USER=hotline",
	"HOTLINE_ARI_PASSWORD=arisecret",
}

func TestLoadFileDefaultsAndEnv(t *testing.T) {
	cfg, err := LoadFile("", append(valid,
		"HOTLINE_TRUNK_VIETTEL=PJSIP/{number}@gw-viettel",
		"HOTLINE_TRUNK_DEFAULT=PJSIP/{e164}@gw-any",
		"HOTLINE_HTTP_ADDR=0.0.0.0:9999",
		"HOTLINE_TEST_ARI_URL=http://ignored",
		"HOTLINE_DEV_PG_PORT=55480",
		"PATH=/usr/bin",
	))
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, "hotline", cfg.ARI.App)
	require.Equal(t, "0.0.0.0:9999", cfg.HTTP.Addr)
	require.Equal(t, map[string]string{"vinaphone": "PJSIP/{number}@gw-vinaphone", "viettel": "PJSIP/{number}@gw-viettel", "default": "PJSIP/{e164}@gw-any"}, cfg.Trunks)
	require.Equal(t, 25*time.Second, cfg.Call.Ring.Technician)
	require.Equal(t, 60*time.Minute, cfg.Call.MaxCall)
	// Tết: the five days of the Labour Code, 28 (or 29) Tết through mùng 3,
	// the same as routing's own default.
	require.Equal(t, 2, cfg.Call.TetDaysBefore)
	require.Equal(t, 2, cfg.Call.TetDaysAfter)
	require.Equal(t, dialplan.DefaultTet, dialplan.TetRule{DaysBefore: cfg.Call.TetDaysBefore, DaysAfter: cfg.Call.TetDaysAfter})
}

func TestEnvWinsOverFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotline.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
ari:
  url: http://file:8088
  app: fromfile
trunks:
  vinaphone: PJSIP/{number}@gw-vinaphone
call:
  ring:
    technician: 20s
  hold: moh
`), 0o600))
	cfg, err := LoadFile(path, append(valid, "HOTLINE_ARI_APP=fromenv"))
	require.NoError(t, err)
	require.Equal(t, "fromenv", cfg.ARI.App)
	require.Equal(t, "http://127.0.0.1:8088", cfg.ARI.URL, "env wins over file")
	require.Equal(t, 20*time.Second, cfg.Call.Ring.Technician)
	require.Equal(t, "moh", cfg.Call.Hold)
	require.Equal(t, "PJSIP/{number}@gw-vinaphone", cfg.Trunks["vinaphone"])
}

func TestLoadIsStrict(t *testing.T) {
	_, err := Load("ari:\n  urll: http://x\n")
	require.ErrorContains(t, err, "field urll not found")
	_, err = Load("call:\n  max_call: soon\n")
	require.Error(t, err)
}

func TestUnknownHotlineVariable(t *testing.T) {
	_, err := LoadFile("", append(valid, "HOTLINE_ARI_PASWORD=typo"))
	require.EqualError(t, err, "config: unknown environment variable HOTLINE_ARI_PASWORD")
}

func TestValidateMessages(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want string
	}{
		{"bad ari scheme", "", []string{"HOTLINE_ARI_URL=htp://x"}, `ari.url: "htp://x" is not an http(s) URL`},
		{"ari url without host", "", []string{"HOTLINE_ARI_URL=http://"}, `ari.url: "http://" is not an http(s) URL`},
		{"db url not postgres", "", []string{"HOTLINE_DATABASE_URL=mysql://u:pw@h/db"}, `database.url: "mysql://u:xxxxx@h/db" is not a postgres:// URL`},
		{"http addr", "", []string{"HOTLINE_HTTP_ADDR=9480"}, `http.addr: "9480" is not host:port`},
		{"trunk without number", "trunks:\n  viettel: PJSIP/gw-viettel\n", nil, `trunks.viettel: "PJSIP/gw-viettel" has neither {number} nor {e164}`},
		{"trunk not a dial string", "", []string{"HOTLINE_TRUNK_VIETTEL={number}"}, `trunks.viettel: "{number}" is not a dial string like PJSIP/{number}@gw-viettel`},
		{"trunk unknown placeholder", "", []string{"HOTLINE_TRUNK_DEFAULT=PJSIP/{num}{number}@x"}, `trunks.default: "PJSIP/{num}{number}@x" has an unknown placeholder (only {number} and {e164})`},
		{"negative ring", "call:\n  ring:\n    operator: -1s\n", nil, "call.ring.operator: -1s must be positive"},
		{"ring longer than leg", "call:\n  ring:\n    technician: 3m\n", nil, "call.ring.technician: 3m0s must be shorter than call.max_leg (2m0s)"},
		{"hold", "call:\n  hold: silence\n", nil, `call.hold: "silence" is not ringing or moh`},
		{"caller id", "", []string{"HOTLINE_CALLER_ID=1900-1000"}, `call.caller_id: "1900-1000" must be digits`},
		{"tries", "call:\n  code_tries: 0\n", nil, "call.code_tries: 0 must be between 1 and 5"},
		{"log level", "log:\n  level: loud\n", nil, `log.level: "loud" is not one of debug, info, warn, error`},
		{"tet below the law", "call:\n  tet_days_before: 1\n  tet_days_after: 2\n", nil,
			"call.tet_days_before, call.tet_days_after: 1 and 2 make a 4-day Tết; the Labour Code (art. 112) gives 5 (default 2 and 2)"},
		{"tet too long", "call:\n  tet_days_after: 11\n", nil, "call.tet_days_after: 11 must be between 0 and 10"},
		{"prompt", "prompts:\n  greeting: \"a b\"\n", nil, `prompts.greeting: "a b" must be a sound name without spaces or commas`},
		{"app", "", []string{"HOTLINE_ARI_APP=hot line"}, `ari.app: "hot line" must be letters, digits, '_' or '-'`},
		{"callback tries", "callback:\n  tries: 0\n", nil, "callback.tries: 0 must be between 1 and 20"},
		{"callback retry", "callback:\n  retry: 30s\n", nil, "callback.retry: 30s must be at least 1m"},
		{"callback min wait", "callback:\n  min_wait: -1s\n", nil, "callback.min_wait: -1s must not be negative"},
		{"callback hours", "callback:\n  hours: 7-22\n", nil, `callback.hours: "7-22" is not a time range like 07:00-22:00`},
		{"callback hours backwards", "callback:\n  hours: 22:00-07:00\n", nil,
			`callback.hours: "22:00-07:00": the end must be after the start, at most 24:00`},
		{"callback prompt", "prompts:\n  callback: \"\"\n", nil, `prompts.callback: "" must be a sound name without spaces or commas`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(tt.yaml)
			require.NoError(t, err)
			require.NoError(t, cfg.ApplyEnv(append(append([]string{}, valid...), tt.env...)))
			err = cfg.Validate()
			require.Error(t, err)
			require.Contains(t, strings.Split(err.Error(), "\n"), tt.want)
		})
	}
}

func TestValidateRequired(t *testing.T) {
	err := Default().Validate()
	require.Error(t, err)
	for _, want := range []string{
		"database.url: is required (or set HOTLINE_DATABASE_URL)",
		"ari.url: is required (or set HOTLINE_ARI_URL)",
		"ari.user: is required (or set HOTLINE_ARI_USER)",
		"ari.password: is required (or set HOTLINE_ARI_PASSWORD)",
	} {
		require.Contains(t, strings.Split(err.Error(), "\n"), want)
	}
}

func TestValidateOfflineNeedsNoAsterisk(t *testing.T) {
	cfg, err := LoadFile("", []string{"HOTLINE_DATABASE_URL=postgres://127.0.0.1/hotline"})
	require.NoError(t, err)
	require.NoError(t, cfg.ValidateOffline())
	require.ErrorContains(t, cfg.Validate(), "ari.url: is required")
}

func TestLogValueHidesSecrets(t *testing.T) {
	cfg, err := LoadFile("", append(valid, "HOTLINE_BOARD_TOKEN=boardsecret"))
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg)
	out := buf.String()
	for _, secret := range []string{"dbsecret", "arisecret", "boardsecret"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, "ari.password=(set)")
	require.Contains(t, out, "ari.user=hotline")
}

func TestCallbackDefaultsAndEnv(t *testing.T) {
	cfg, err := LoadFile("", valid)
	require.NoError(t, err)
	require.Equal(t, Callback{MinWait: 20 * time.Second, Tries: 3, Retry: 10 * time.Minute, Hours: "07:00-22:00"},
		cfg.Callback, "off unless enabled")
	start, end, err := CallbackHours(cfg.Callback.Hours)
	require.NoError(t, err)
	require.Equal(t, []int{7 * 60, 22 * 60}, []int{start, end})

	cfg, err = Load("callback:\n  enabled: true\n  min_wait: 30s\n  tries: 5\n  retry: 15m\n  hours: 08:00-21:30\n")
	require.NoError(t, err)
	require.Equal(t, Callback{Enabled: true, MinWait: 30 * time.Second, Tries: 5, Retry: 15 * time.Minute,
		Hours: "08:00-21:30"}, cfg.Callback)
	require.NoError(t, cfg.ApplyEnv(append(append([]string{}, valid...), "HOTLINE_CALLBACK_ENABLED=false")))
	require.False(t, cfg.Callback.Enabled, "env wins over file")
	require.NoError(t, cfg.Validate())
	require.ErrorContains(t, cfg.ApplyEnv([]string{"HOTLINE_CALLBACK_ENABLED=perhaps"}),
		`HOTLINE_CALLBACK_ENABLED: "perhaps" is not true or false`)
	_, err = Load("callback:\n  enable: true\n")
	require.Error(t, err, "strict keys")
}

// The shipped example must stay loadable and valid.
func TestShippedExample(t *testing.T) {
	cfg, err := LoadFile("../../deploy/hotline.example.yaml", []string{"HOTLINE_ARI_PASSWORD=x"})
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, "pbx-a", cfg.ARI.Node)
}
