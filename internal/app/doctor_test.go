package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/ari/aritest"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/store"
)

// doctorAt is Monday 23 November 2026, 10:00 in Vietnam: KTV02 (Cần Thơ,
// Mon–Sat 07:00–22:00, Sun 08:00–12:00) is first off duty that night.
var doctorAt = time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// shippedSounds lists deploy/asterisk/sounds/vi as paths in Asterisk's
// sounds folder ("vi/greeting.wav"), except those named in without.
func shippedSounds(t *testing.T, without ...string) []string {
	t.Helper()
	files, err := filepath.Glob("../../deploy/asterisk/sounds/vi/*.wav")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []string
	for _, f := range files {
		rel := "vi/" + filepath.Base(f)
		skip := false
		for _, w := range without {
			skip = skip || rel == w+".wav"
		}
		if !skip {
			out = append(out, rel)
		}
	}
	return out
}

// doctorSetup is a correct set-up: the sample directory with KTV02 on duty
// day and night (so every province has a technician at every hour), a fake
// Asterisk with the shipped prompts and both gateways.
type doctorSetup struct {
	db  *sqlx.DB
	ast *aritest.Server
	cfg config.Config
}

// correctDatabase is a migrated database with the sample directory and
// KTV02 on duty day and night.
func correctDatabase(t *testing.T) string {
	t.Helper()
	dbURL := sampleDatabase(t)
	db, err := store.Open(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	ktv02 := filepath.Join(t.TempDir(), "staff.csv")
	require.NoError(t, os.WriteFile(ktv02, []byte("code,name,role,phones,provinces,status,hours\n"+
		"KTV02,KTV Trần Thị Bình,technician,0975550103:viettel,Cần Thơ,active,24/7\n"), 0o600))
	_, err = store.ImportPaths(context.Background(), db, []string{ktv02}, store.ImportOptions{})
	require.NoError(t, err)
	return dbURL
}

// newDoctorSetup uses the database at dbURL (a new correct one when "") and
// a new fake Asterisk.
func newDoctorSetup(t *testing.T, dbURL string, astOpts aritest.Options) *doctorSetup {
	t.Helper()
	if dbURL == "" {
		dbURL = correctDatabase(t)
	}
	db, err := store.Open(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	astOpts.User, astOpts.Password, astOpts.App = "hotline", "s3cret", "hotline"
	if astOpts.KnownTrunks == nil {
		astOpts.KnownTrunks = []string{"gw-vinaphone", "gw-viettel"}
	}
	if astOpts.SoundFiles == nil {
		astOpts.SoundFiles = shippedSounds(t)
	}
	ast := aritest.Start(t, astOpts)
	cfg := config.Default()
	require.NoError(t, cfg.ApplyEnv([]string{
		"HOTLINE_DATABASE_URL=" + dbURL, "HOTLINE_ARI_URL=" + ast.URL(),
		"HOTLINE_ARI_USER=hotline", "HOTLINE_ARI_PASSWORD=s3cret", "HOTLINE_SPOOL_DIR=" + t.TempDir(),
	}))
	cfg.HTTP.Addr = freeAddr(t) // no hotline serve there
	return &doctorSetup{db: db, ast: ast, cfg: cfg}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func (s *doctorSetup) run(t *testing.T) (DoctorReport, map[string]Check, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep := Doctor(ctx, s.cfg, DoctorOptions{ConfigSource: "test.yaml", At: doctorAt, Timeout: 3 * time.Second})
	var out bytes.Buffer
	require.NoError(t, rep.WriteText(&out))
	t.Logf("hotline doctor:\n%s", out.String())
	byName := map[string]Check{}
	for _, c := range rep.Checks {
		byName[c.Check] = c
		// One line per check.
		require.NotContains(t, c.Message+c.Fix, "\n")
	}
	return rep, byName, out.String()
}

// requireOnly fails unless exactly the checks named (status != ok) are not ok.
func requireOnly(t *testing.T, rep DoctorReport, notOK map[string]string) {
	t.Helper()
	for _, c := range rep.Checks {
		want, listed := notOK[c.Check]
		if !listed {
			want = CheckOK
		}
		require.Equal(t, want, c.Status, "%s: %s", c.Check, c.Message)
	}
	for name := range notOK {
		found := false
		for _, c := range rep.Checks {
			found = found || c.Check == name
		}
		require.True(t, found, "no check %s", name)
	}
}

func TestDoctorCorrectSetup(t *testing.T) {
	s := newDoctorSetup(t, "", aritest.Options{})
	rep, c, text := s.run(t)
	require.True(t, rep.OK)
	requireOnly(t, rep, nil)
	require.Contains(t, c["ari"].Message, "Asterisk 22.10.1")
	require.Contains(t, c["schema"].Message, "up to date")
	require.Contains(t, c["prompts"].Message, "all 118 found on Asterisk (language vi)")
	require.Contains(t, c["trunk gw-viettel"].Message, "trunks default, viettel")
	require.Contains(t, c["coverage"].Message, "every café rings a technician")
	require.NotContains(t, text, "s3cret")

	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Check, Status, Message, Fix string
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.True(t, back.OK)
	require.Len(t, back.Checks, len(rep.Checks))
	require.Equal(t, "config", back.Checks[0].Check)
	require.Equal(t, "ok", back.Checks[0].Status)
}

// Each failure made on purpose, alone: the doctor names it in one line and
// every other check stays ok. Cases that leave the database alone share one.
func TestDoctorNamesEachProblem(t *testing.T) {
	shared := correctDatabase(t)
	t.Run("wrong password", func(t *testing.T) {
		s := newDoctorSetup(t, shared, aritest.Options{})
		s.cfg.ARI.Password = "not-the-password"
		rep, c, text := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"ari": CheckFail, "ari_app": CheckWarn, "node_owner": CheckWarn,
			"trunks": CheckWarn, "prompts": CheckWarn})
		require.Contains(t, c["ari"].Message, `user "hotline" rejected by `+s.ast.URL()+` (401 Unauthorized)`)
		require.Contains(t, c["ari"].Fix, "ari.conf")
		require.NotContains(t, text, "not-the-password")
	})
	t.Run("Asterisk not running", func(t *testing.T) {
		s := newDoctorSetup(t, shared, aritest.Options{})
		s.cfg.ARI.URL = "http://" + freeAddr(t)
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"ari": CheckFail, "ari_app": CheckWarn, "node_owner": CheckWarn,
			"trunks": CheckWarn, "prompts": CheckWarn})
		require.Contains(t, c["ari"].Message, "connection refused")
	})
	t.Run("trunk endpoint missing, another offline", func(t *testing.T) {
		s := newDoctorSetup(t, shared, aritest.Options{KnownTrunks: []string{"gw-viettel", "hotline-in"},
			Trunks: map[string]aritest.TrunkState{"gw-viettel": aritest.TrunkUnavailable}})
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"trunk gw-vinaphone": CheckFail, "trunk gw-viettel": CheckFail})
		require.Equal(t, "PJSIP endpoint gw-vinaphone (trunks vinaphone) does not exist on Asterisk", c["trunk gw-vinaphone"].Message)
		require.Contains(t, c["trunk gw-vinaphone"].Fix, "Asterisk has: gw-viettel, hotline-in")
		require.Contains(t, c["trunk gw-viettel"].Message, "offline")
	})
	t.Run("prompt missing", func(t *testing.T) {
		s := newDoctorSetup(t, shared, aritest.Options{SoundFiles: shippedSounds(t, "vi/greeting", "vi/province-0292")})
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"prompts": CheckFail})
		require.Equal(t, "2 of 118 missing on Asterisk: vi/greeting, vi/province-0292", c["prompts"].Message)
		require.Contains(t, c["prompts"].Fix, "/var/lib/asterisk/sounds/vi/")
	})
	t.Run("prompts in another language only", func(t *testing.T) {
		var en []string
		for _, f := range shippedSounds(t) {
			en = append(en, "en/"+strings.TrimPrefix(f, "vi/"))
		}
		s := newDoctorSetup(t, shared, aritest.Options{SoundFiles: en})
		rep, c, _ := s.run(t)
		requireOnly(t, rep, map[string]string{"prompts": CheckFail})
		require.Contains(t, c["prompts"].Message, "118 of 118 missing on Asterisk: vi/greeting,")
	})
	t.Run("old schema", func(t *testing.T) {
		s := newDoctorSetup(t, "", aritest.Options{})
		_, err := s.db.Exec("DELETE FROM goose_db_version WHERE version_id = $1", store.SchemaVersion())
		require.NoError(t, err)
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"schema": CheckFail})
		require.Equal(t, "run: hotline migrate", c["schema"].Fix)
		require.Contains(t, c["schema"].Message, "this hotline needs")
	})
	t.Run("database unreachable", func(t *testing.T) {
		s := newDoctorSetup(t, shared, aritest.Options{})
		s.cfg.Database.URL = "postgres://hotline:dbsecret@" + freeAddr(t) + "/hotline?sslmode=disable"
		rep, c, text := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"database": CheckFail, "node_owner": CheckWarn})
		require.Equal(t, "not checked: the database is not reachable", c["node_owner"].Message)
		require.Contains(t, c["database"].Message, "connection refused")
		require.NotContains(t, text, "dbsecret")
		_, hasCoverage := c["coverage"]
		require.False(t, hasCoverage)
	})
	t.Run("province with nobody on duty at night", func(t *testing.T) {
		s := newDoctorSetup(t, "", aritest.Options{})
		_, err := s.db.Exec("UPDATE staff SET hours = 'Mon-Sat 07:00-22:00; Sun 08:00-12:00' WHERE code = 'KTV02'")
		require.NoError(t, err)
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		// 74 h: 22:00–07:00 every night, Sunday but 08:00–12:00; CT001 has
		// KTV02 as its own technician, CT002 follows the province.
		requireOnly(t, rep, map[string]string{"coverage can-tho": CheckFail})
		require.Equal(t, "Cần Thơ has no technician for 74 h of the next 7 days, first Mon 23/11 22:00 – Tue 24/11 07:00 (KTV02 off_duty); 2 of its 2 cafés affected",
			c["coverage can-tho"].Message)
	})
	t.Run("café refused by its only technician, café without a number", func(t *testing.T) {
		s := newDoctorSetup(t, "", aritest.Options{})
		require.NoError(t, store.New(s.db).AddRefusal(context.Background(), "KTV01", "KG001", "test"))
		_, err := s.db.Exec("DELETE FROM cafe_phones WHERE cafe_code = 'HG002'")
		require.NoError(t, err)
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"coverage café KG001": CheckFail, "coverage café HG002": CheckWarn})
		require.Equal(t, "Net Cỏ Mây (kien-giang) rings no technician for 168 h of the next 7 days, first Mon 23/11 10:00 – Mon 30/11 10:00 (KTV01 refuses_cafe, KTV03 suspended)",
			c["coverage café KG001"].Message)
		require.Equal(t, "Cyber Ngã Bảy has no phone number, so it is never recognised by caller ID", c["coverage café HG002"].Message)
	})
	t.Run("application held by another process", func(t *testing.T) {
		s := newDoctorSetup(t, shared, aritest.Options{})
		other, err := ari.New(ari.Config{URL: s.ast.URL(), User: "hotline", Password: "s3cret", App: "hotline"})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- other.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		require.NoError(t, other.WaitConnected(ctx))
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"ari_app": CheckFail})
		require.Contains(t, c["ari_app"].Message, `application "hotline" is held by another connected process`)

		// The same, but a hotline serve with this configuration answers
		// /readyz on http.addr: it is the one holding the application.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" {
				w.WriteHeader(http.StatusOK)
				return
			}
			http.NotFound(w, r)
		}), ReadHeaderTimeout: time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		s.cfg.HTTP.Addr = ln.Addr().String()
		rep, c, _ = s.run(t)
		require.True(t, rep.OK)
		require.Contains(t, c["ari_app"].Message, "held by the hotline serve answering on "+s.cfg.HTTP.Addr)
	})
	t.Run("invalid configuration", func(t *testing.T) {
		s := newDoctorSetup(t, shared, aritest.Options{})
		s.cfg.Call.Hold = "silence"
		rep, c, _ := s.run(t)
		require.False(t, rep.OK)
		requireOnly(t, rep, map[string]string{"config": CheckFail})
		require.Contains(t, c["config"].Message, `call.hold: "silence" is not ringing or moh`)
	})
}

func TestTrunkEndpoint(t *testing.T) {
	for tmpl, want := range map[string]string{
		"PJSIP/{number}@gw-viettel":           "gw-viettel",
		"PJSIP/gw-backup/sip:{e164}@10.0.0.9": "gw-backup",
		"pjsip/{number}@gw-vinaphone":         "gw-vinaphone",
		"Local/{number}@phones":               "",
		"PJSIP/{number}":                      "",
	} {
		_, ep, ok := trunkEndpoint(tmpl)
		require.Equal(t, want, ep, tmpl)
		require.Equal(t, want != "", ok, tmpl)
	}
	id, lang := soundOf("vi/province-0297", "en")
	require.Equal(t, [2]string{"province-0297", "vi"}, [2]string{id, lang})
	id, lang = soundOf("beep", "en")
	require.Equal(t, [2]string{"beep", "en"}, [2]string{id, lang})
}

// The doctor says who serves each configured node (node_owners): nobody,
// this configuration's instance, another instance (why a second serve
// waits: warn), or a claim whose lease ran out (warn).
func TestDoctorNodeOwner(t *testing.T) {
	dbURL := correctDatabase(t)
	const key = "hotline@02:fc:00:00:00:01" // the fake's entity id
	for _, tc := range []struct {
		name     string
		instance string // the claim's ("" none)
		expired  bool
		status   string
		message  []string
		fix      string
	}{
		{"nobody", "", false, CheckOK, []string{key + " is served by nobody: a serve starting now takes it at once"}, ""},
		{"this configuration's instance", "serve-1@node-a", false, CheckOK,
			[]string{key + ` is served by instance "serve-1@node-a" (its node node-a) since `, "this configuration's instance"}, ""},
		{"another instance", "serve-2@node-a", false, CheckWarn,
			[]string{key + ` is served by instance "serve-2@node-a" (its node node-a) since `,
				`a serve with this configuration (instance "serve-1@node-a") waits until that one stops`},
			`stop instance "serve-2@node-a"`},
		{"lease ran out", "serve-2@node-a", true, CheckWarn,
			[]string{`served by instance "serve-2@node-a"`, "its lease ran out at ", "stopped without letting go"},
			"takes it over within seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDoctorSetup(t, dbURL, aritest.Options{})
			s.cfg.ARI.URL, s.cfg.Instance = "", "serve-1"
			s.cfg.ARI.Nodes = []config.Node{{Name: "node-a", URL: s.ast.URL(), User: "hotline", Password: "s3cret", App: "hotline"}}
			ctx := ctxFor(t, 20*time.Second)
			_, err := s.db.ExecContext(ctx, "DELETE FROM node_owners")
			require.NoError(t, err)
			if tc.instance != "" {
				ok, _, err := store.New(s.db).ClaimNode(ctx, key, "node-a", tc.instance, time.Minute)
				require.NoError(t, err)
				require.True(t, ok)
			}
			if tc.expired {
				_, err := s.db.ExecContext(ctx, "UPDATE node_owners SET claimed_at = now() - interval '1 minute', expires_at = now() - interval '1 second'")
				require.NoError(t, err)
			}
			rep, c, _ := s.run(t)
			got, ok := c["node_owner node-a"]
			require.True(t, ok, "no node_owner line for node-a: %+v", rep.Checks)
			require.Equal(t, tc.status, got.Status, got.Message)
			for _, m := range tc.message {
				require.Contains(t, got.Message, m)
			}
			require.Contains(t, got.Fix, tc.fix)
			require.True(t, rep.OK, "a node's owner is never a failure")
		})
	}
}
