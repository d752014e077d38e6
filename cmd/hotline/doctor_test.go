package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/ari/aritest"
)

// routeJSON is the part of `hotline route --json` these tests read.
type routeJSON struct {
	Targets []struct {
		Staff string `json:"staff"`
		Role  string `json:"role"`
	} `json:"targets"`
}

func ringsTechnician(t *testing.T, number string, at time.Time) bool {
	t.Helper()
	code, out, errs := hotline(t, "route", number, "--at", at.Format(time.RFC3339), "--json")
	require.Equal(t, exitOK, code, errs)
	var r routeJSON
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	return len(r.Targets) > 0 && r.Targets[0].Role == "technician"
}

// `hotline route --gaps` and `hotline route NUMBER` agree at the same
// times: at the start of each of Cần Thơ's first gaps, neither its cafés
// (CT001 with KTV02 as its own technician, CT002 without) nor a Cần Thơ
// landline rings a technician; at each gap's end KTV02 is rung again.
func TestRouteGapsAgreesWithRoute(t *testing.T) {
	sampleDB(t)
	code, out, errs := hotline(t, "route", "--gaps", "--json", "--at", "2026-11-23T10:00:00+07:00")
	require.Equal(t, exitOK, code, errs)
	var cv struct {
		From      time.Time `json:"from"`
		Provinces []struct {
			Province       string `json:"province"`
			GapHours       int    `json:"gap_hours"`
			UncoveredCafes int    `json:"uncovered_cafes"`
			Gaps           []struct {
				From    time.Time `json:"from"`
				To      time.Time `json:"to"`
				Skipped []struct{ Staff, Reason string }
			} `json:"gaps"`
		} `json:"provinces"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &cv), out)
	require.Equal(t, "2026-11-23T10:00:00+07:00", cv.From.Format(time.RFC3339))
	var checked int
	for _, p := range cv.Provinces {
		if p.Province != "can-tho" {
			require.Zero(t, p.GapHours, p.Province)
			continue
		}
		require.Equal(t, 74, p.GapHours)
		require.Equal(t, 2, p.UncoveredCafes)
		require.Len(t, p.Gaps, 7)
		for _, g := range p.Gaps[:3] {
			require.Equal(t, "KTV02", g.Skipped[0].Staff)
			for _, number := range []string{"0935550209", "0945550210", "02923555999"} { // CT001, CT002, a Cần Thơ landline
				require.False(t, ringsTechnician(t, number, g.From), "%s at %s", number, g.From)
				require.False(t, ringsTechnician(t, number, g.To.Add(-time.Minute)), "%s at %s", number, g.To)
				require.True(t, ringsTechnician(t, number, g.To), "%s at %s", number, g.To)
				checked++
			}
		}
	}
	require.Equal(t, 9, checked)

	code, out, errs = hotline(t, "route", "--gaps", "--at", "2026-11-23T10:00:00+07:00")
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "can-tho (Cần Thơ, area TNB, region MN): 2 active cafés, 1 technicians\n  74 hours without a technician; 2 cafés affected\n  Mon 23/11 22:00 – Tue 24/11 07:00  KTV02 off_duty\n")
	require.Contains(t, out, "kien-giang (Kiên Giang, area TNB, region MN): 3 active cafés, 1 technicians\n  covered every hour\n")
}

// `hotline doctor` exits 1 with one line per problem on a broken set-up
// and 0 on a correct one; --json has the same checks.
func TestDoctorCommand(t *testing.T) {
	sampleDB(t)
	ast := aritest.Start(t, aritest.Options{User: "hotline", Password: "s3cret", App: "hotline",
		KnownTrunks: []string{"gw-viettel"}})
	t.Setenv("HOTLINE_ARI_URL", ast.URL())
	t.Setenv("HOTLINE_ARI_USER", "hotline")
	t.Setenv("HOTLINE_ARI_PASSWORD", "s3cret")
	t.Setenv("HOTLINE_HTTP_ADDR", "127.0.0.1:1")

	code, out, errs := hotline(t, "doctor", "--at", "2026-11-23T10:00:00+07:00")
	t.Logf("hotline doctor:\n%s", out)
	require.Equal(t, exitFail, code, errs)
	require.Empty(t, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var failed []string
	for _, l := range lines {
		if strings.HasPrefix(l, "FAIL  ") {
			failed = append(failed, strings.SplitN(strings.TrimPrefix(l, "FAIL  "), ": ", 2)[0])
		}
	}
	require.Equal(t, []string{"trunk gw-vinaphone", "prompts", "coverage can-tho"}, failed)
	require.Contains(t, out, "FAIL  prompts: 118 of 118 missing on Asterisk")

	code, out, _ = hotline(t, "doctor", "--json", "--at", "2026-11-23T10:00:00+07:00")
	require.Equal(t, exitFail, code)
	var rep struct {
		OK     bool
		Checks []struct{ Check, Status string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.False(t, rep.OK)
	require.Len(t, rep.Checks, len(lines))

	// Fixed: the gateway, the prompts, KTV02's hours.
	files, err := filepath.Glob("../../deploy/asterisk/sounds/vi/*.wav")
	require.NoError(t, err)
	var sounds []string
	for _, f := range files {
		sounds = append(sounds, "vi/"+filepath.Base(f))
	}
	good := aritest.Start(t, aritest.Options{User: "hotline", Password: "s3cret", App: "hotline",
		KnownTrunks: []string{"gw-viettel", "gw-vinaphone"}, SoundFiles: sounds})
	t.Setenv("HOTLINE_ARI_URL", good.URL())
	staff := filepath.Join(t.TempDir(), "staff.csv")
	require.NoError(t, os.WriteFile(staff, []byte("code,name,role,phones,provinces,status,hours\n"+
		"KTV02,KTV Trần Thị Bình,technician,0975550103:viettel,Cần Thơ,active,24/7\n"), 0o600))
	code, _, errs = hotline(t, "import", staff)
	require.Equal(t, exitOK, code, errs)
	code, out, errs = hotline(t, "doctor", "--at", "2026-11-23T10:00:00+07:00")
	require.Equal(t, exitOK, code, out+errs)
	require.NotContains(t, out, "FAIL")

	code, _, _ = hotline(t, "doctor", "--bogus")
	require.Equal(t, exitUsage, code)
	code, _, errs = hotline(t, "doctor", "--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, errs, "usage: hotline doctor")
}
