package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/store/pgtest"
)

// hotline runs the command line in-process and returns exit code and output.
func hotline(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndVersion(t *testing.T) {
	code, out, _ := hotline(t, "version")
	require.Equal(t, exitOK, code)
	require.Equal(t, "hotline dev\n", out)
	code, _, errs := hotline(t, "frobnicate")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `unknown command "frobnicate"`)
	code, _, _ = hotline(t)
	require.Equal(t, exitUsage, code)
	code, _, errs = hotline(t, "route", "--bogus")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "flag provided but not defined: -bogus")
}

func TestConfigErrorsStopWithPreciseMessage(t *testing.T) {
	t.Setenv("HOTLINE_DATABASE_URL", "postgres://127.0.0.1/x")
	t.Setenv("HOTLINE_ARI_URL", "htp://x")
	t.Setenv("HOTLINE_ARI_USER", "u")
	t.Setenv("HOTLINE_ARI_PASSWORD", "topsecret")
	code, _, errs := hotline(t, "serve")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `ari.url: "htp://x" is not an http(s) URL`)
	require.NotContains(t, errs, "topsecret")

	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("call:\n  ring_time: 3s\n"), 0o600))
	code, _, errs = hotline(t, "migrate", "--config", path)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "field ring_time not found")
}

// sampleDB is a migrated database with the sample directory imported through
// the command line itself.
func sampleDB(t *testing.T) {
	t.Helper()
	t.Setenv("HOTLINE_DATABASE_URL", pgtest.New(t))
	code, out, errs := hotline(t, "migrate")
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "up to date")
	files, err := filepath.Glob("../../deploy/sample/*.csv")
	require.NoError(t, err)
	code, out, errs = hotline(t, append([]string{"import"}, files...)...)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "cafes")
}

func TestRoute(t *testing.T) {
	sampleDB(t)
	// KG001 (Net Cỏ Mây, Kiên Giang) calls at 03:00; KTV01 works 24/7.
	code, out, errs := hotline(t, "route", "+84 945 550 201", "--at", "2026-11-25T03:00:00+07:00", "--json")
	require.Equal(t, exitOK, code, errs)
	var rep struct {
		Caller struct {
			E164    string `json:"e164"`
			Kind    string `json:"kind"`
			Carrier string `json:"carrier"`
		} `json:"caller"`
		Cafe      struct{ Code string } `json:"cafe"`
		MatchedBy string                `json:"matched_by"`
		Province  string                `json:"province"`
		Targets   []struct {
			Staff       string `json:"staff"`
			Role        string `json:"role"`
			Number      string `json:"number"`
			Carrier     string `json:"carrier"`
			Dial        string `json:"dial"`
			RingSeconds int    `json:"ring_seconds"`
		} `json:"targets"`
		Skipped []struct {
			Staff  string `json:"staff"`
			Reason string `json:"reason"`
		} `json:"skipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Equal(t, "+84945550201", rep.Caller.E164)
	require.Equal(t, "mobile", rep.Caller.Kind)
	require.Equal(t, "KG001", rep.Cafe.Code)
	require.Equal(t, "caller_id", rep.MatchedBy)
	require.Equal(t, "kien-giang", rep.Province)
	require.NotEmpty(t, rep.Targets)
	first := rep.Targets[0]
	require.Equal(t, "KTV01", first.Staff)
	require.Equal(t, "technician", first.Role)
	require.Equal(t, "+84945550101", first.Number)
	require.Equal(t, "vinaphone", first.Carrier)
	require.Equal(t, "PJSIP/0945550101@gw-vinaphone", first.Dial)
	require.Equal(t, 25, first.RingSeconds)
	require.Contains(t, rep.Skipped, struct {
		Staff  string `json:"staff"`
		Reason string `json:"reason"`
	}{"KTV03", "suspended"})

	// Text form explains the same thing.
	code, out, errs = hotline(t, "route", "0945550201", "--at", "2026-11-25T03:00:00+07:00")
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "KTV01")
	require.Contains(t, out, "suspended")

	// Bad input: a clear message and exit code 2, no stack trace.
	code, _, errs = hotline(t, "route", "abc")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `"abc" is not a phone number`)
	require.NotContains(t, errs, "goroutine")
	code, _, errs = hotline(t, "route", "0945550201", "--at", "tomorrow")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `--at "tomorrow" is not an RFC 3339 time`)
}

func TestImportBadFileChangesNothing(t *testing.T) {
	sampleDB(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "cafes.csv")
	require.NoError(t, os.WriteFile(bad, []byte("code,name,phones,province,technician,status\n"+
		"NEW1,Net Mới,0945550999,Kiên Giang,,active\n"+
		"NEW2,Net Sai,0945550998,Atlantis,,active\n"), 0o600))
	code, _, errs := hotline(t, "import", bad)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, bad+":3: province:")
	// NEW1 was fine but nothing was imported: routing does not know it.
	code, out, _ := hotline(t, "route", "0945550999", "--json")
	require.Equal(t, exitOK, code)
	require.True(t, strings.Contains(out, `"cafe": null`), out)
}

// `hotline import` as a terminal shows it (stdout and stderr interleaved):
// each file read, the warnings, then the per-kind summary, once.
func TestImportPrintsSummaryOnce(t *testing.T) {
	sampleDB(t)
	dir := t.TempDir()
	cafes := filepath.Join(dir, "cafes.csv")
	require.NoError(t, os.WriteFile(cafes, []byte("code,name,phones,province,technician,status,ghi_chu\n"+
		"KG001,Net Cỏ Mây,0945550201; 0945550202,Kiên Giang,,active,\n"+
		"NEW1,Net Mới,0945550999,Kiên Giang,,active,khai trương\n"), 0o600))
	holidays := filepath.Join(dir, "holidays.csv")
	require.NoError(t, os.WriteFile(holidays, []byte("date,name,region\n2028-09-01,Quốc khánh,\n"), 0o600))
	var term bytes.Buffer
	code := run([]string{"import", cafes, holidays}, &term, &term)
	require.Equal(t, exitOK, code, term.String())
	require.Equal(t, cafes+": 2 rows (cafes)\n"+
		holidays+": 1 rows (holidays)\n"+
		"warning: "+cafes+":1: ghi_chu: unknown column ignored (known: code, name, phones, province, technician, status)\n"+
		"cafes:   1 new, 0 updated, 1 unchanged\n"+
		"holidays: 1 new, 0 updated, 0 unchanged\n", term.String())
}

// `hotline route --at` explains a holiday: the public holiday's name, the
// compensatory day off (nghỉ bù) of a holiday on a weekly rest day, and the
// government's decision entered in holidays.csv (1/9 instead of 3/9).
func TestRouteExplainsHolidays(t *testing.T) {
	sampleDB(t)
	dir := t.TempDir()
	staff := filepath.Join(dir, "staff.csv")
	require.NoError(t, os.WriteFile(staff, []byte("code,name,role,phones,provinces,status,hours\n"+
		"OP02,Tổng đài viên Nam,operator,0975550113,,active,Mon-Fri 08:00-17:00\n"), 0o600))
	holidays := filepath.Join(dir, "holidays.csv")
	require.NoError(t, os.WriteFile(holidays, []byte("date,name,region\n01/09/2028,Quốc khánh (nghỉ trước 2/9),\n"), 0o600))
	code, _, errs := hotline(t, "import", staff, holidays)
	require.Equal(t, exitOK, code, errs)

	const op02 = "  - OP02 Tổng đài viên Nam (operator): "
	tests := []struct {
		at   string
		want string // OP02's skip line; "" = OP02 is rung
	}{
		{"2029-09-03T10:00:00+07:00", op02 + "holiday (Quốc khánh)"}, // National Day's second day
		{"2029-09-04T10:00:00+07:00", op02 + "holiday (nghỉ bù: Quốc khánh fell on Sun 2029-09-02, a weekly rest day)"},
		{"2029-09-05T10:00:00+07:00", ""},
		{"2028-09-01T10:00:00+07:00", op02 + "holiday (Quốc khánh)"}, // the decision: 1/9 and 2/9
		{"2028-09-04T10:00:00+07:00", op02 + "holiday (nghỉ bù: Quốc khánh fell on Sat 2028-09-02, a weekly rest day)"},
		{"2028-09-05T10:00:00+07:00", ""},                                // 3/9 (a Sunday) is not a holiday that year: nothing more moves
		{"2027-02-04T10:00:00+07:00", op02 + "holiday (Tết Nguyên Đán)"}, // 28 Tết
		{"2027-02-10T10:00:00+07:00", op02 + "holiday (nghỉ bù: Tết Nguyên Đán fell on Sun 2027-02-07, a weekly rest day)"},
		{"2027-02-11T10:00:00+07:00", ""},
	}
	for _, tt := range tests {
		code, out, errs := hotline(t, "route", "0945550201", "--at", tt.at)
		require.Equal(t, exitOK, code, errs)
		if tt.want == "" {
			require.Regexp(t, `\d+\. OP02 `, out, tt.at)
			require.NotContains(t, out, op02, tt.at)
			continue
		}
		require.Contains(t, strings.Split(out, "\n"), tt.want, "%s:\n%s", tt.at, out)
	}

	// The JSON report carries the same: reason holiday, the detail.
	code, out, errs := hotline(t, "route", "0945550201", "--at", "2029-09-04T10:00:00+07:00", "--json")
	require.Equal(t, exitOK, code, errs)
	var rep struct {
		Skipped []struct{ Staff, Reason, Detail string } `json:"skipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Contains(t, rep.Skipped, struct{ Staff, Reason, Detail string }{"OP02", "holiday",
		"nghỉ bù: Quốc khánh fell on Sun 2029-09-02, a weekly rest day"})
}

func TestSimulateChaosFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rest-500", "1.5"}, "--rest-500 1.5 must be between 0 and 1"},
		{[]string{"--rest-500", "-0.01"}, "--rest-500 -0.01 must be between 0 and 1"},
		{[]string{"--cut-ws", "-20s"}, "--cut-ws -20s must not be negative"},
		{[]string{"--talk", "-8s"}, "--talk -8s must not be negative"},
		{[]string{"--settle", "-1s"}, "--settle -1s must not be negative"},
		{[]string{"--alone-limit", "-5s"}, "--alone-limit -5s must not be negative"},
		{[]string{"--check-records", "-2m"}, "--check-records -2m0s must not be negative"},
	} {
		code, _, errs := hotline(t, append([]string{"simulate"}, tc.args...)...)
		require.Equal(t, exitUsage, code, tc.args)
		require.Contains(t, errs, tc.want, tc.args)
	}
}
