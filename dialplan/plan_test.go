package dialplan

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type busySet map[string]bool

func (b busySet) Busy(s string) bool { return b[s] }

type lastRung map[string]time.Time

func (l lastRung) LastRung(s string) time.Time { return l[s] }

type downTrunks map[string]bool

func (d downTrunks) Unavailable(t string) bool { return d[t] }

var testTrunks = Trunks{
	"viettel":   "PJSIP/{number}@gw-viettel",
	"vinaphone": "PJSIP/{number}@gw-vinaphone",
	"default":   "PJSIP/{e164}@gw-any",
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, Location())
	require.NoError(t, err)
	return tm
}

// TestPlanRoutes is the route table: the inline directory of testData, a
// table of calls, and the expected ringing order ("STAFF NUMBER TRUNK") and
// skips ("STAFF REASON"). 2025-03-03 is a Monday.
func TestPlanRoutes(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	ops := []string{"OP1 +84351000031 default", "OP2 +84351000032 viettel"}
	opsSkip := []string{"OP3 terminated"}
	with := func(a []string, b ...string) []string { return append(append([]string{}, a...), b...) }
	tests := []struct {
		name     string
		caller   string
		dtmf     string
		at       string
		busy     busySet
		rung     lastRung
		down     downTrunks
		trunks   Trunks
		matched  MatchedBy
		province string
		targets  []string
		skipped  []string
		notes    []string
		change   func(*DirectoryData) // a variant of the directory for this case
	}{
		{
			name: "café by caller ID: assigned technician, area manager, regional manager, operators",
			// T1's second number is stored as vinaphone; AM1 (mobifone, no trunk of its own) goes via default.
			caller: "02973111001", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			targets: with([]string{"T1 +84961000001 viettel", "T1 +84911000001 vinaphone", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: opsSkip,
		},
		{
			name:   "caller ID wins over a typed code; its other number matches too",
			caller: "sip:0909111001@10.0.0.1;user=phone", dtmf: "003", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			targets: with([]string{"T1 +84961000001 viettel", "T1 +84911000001 vinaphone", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: opsSkip,
		},
		{
			name:   "no assigned technician: the province's technicians by code; refusing and suspended ones skipped",
			caller: "+842973111002", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			targets: with([]string{"T1 +84961000001 viettel", "T1 +84911000001 vinaphone", "T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: with([]string{"T3 refuses_cafe", "T4 suspended"}, opsSkip...),
		},
		{
			name:   "rotation: least recently rung first, never rung first of all; operators rotate too",
			caller: "+842973111002", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			rung: lastRung{"T1": at(t, "2025-03-03 09:00"), "T2": at(t, "2025-03-03 08:00"), "OP1": at(t, "2025-03-03 09:30")},
			targets: []string{"T2 +84901000002 default", "T1 +84961000001 viettel", "T1 +84911000001 vinaphone", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone",
				"OP2 +84351000032 viettel", "OP1 +84351000031 default"},
			skipped: with([]string{"T3 refuses_cafe", "T4 suspended"}, opsSkip...),
		},
		{
			name:   "assigned technician on a call: the province's other technicians, not twice",
			caller: "+842973111001", at: "2025-03-03 10:00", busy: busySet{"T1": true}, matched: MatchedByCallerID, province: "kien-giang",
			targets: with([]string{"T2 +84901000002 default", "T3 +84971000003 viettel", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: with([]string{"T1 on_call", "T4 suspended"}, opsSkip...),
		},
		{
			name:   "assigned technician refuses the café: the province's others",
			caller: "+842973111001", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			change:  func(d *DirectoryData) { d.Refusals = append(d.Refusals, Refusal{Staff: "T1", Cafe: "001"}) },
			busy:    busySet{"T2": true, "OP1": true},
			targets: []string{"T3 +84971000003 viettel", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone", "OP2 +84351000032 viettel"},
			skipped: []string{"T1 refuses_cafe", "T2 on_call", "T4 suspended", "OP1 on_call", "OP3 terminated"},
		},
		{
			name:   "Sunday: office-hours people are off duty",
			caller: "+842973111002", at: "2025-03-09 10:00", matched: MatchedByCallerID, province: "kien-giang",
			busy:    busySet{"T1": true},
			targets: []string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone", "OP1 +84351000031 default"},
			skipped: []string{"T1 on_call", "T3 refuses_cafe", "T4 suspended", "OP2 off_duty", "OP3 terminated"},
		},
		{
			name:   "public holiday 30/4: weekly-hours people are off, 24/7 people work",
			caller: "+842973111001", at: "2025-04-30 10:00", busy: busySet{"T1": true}, matched: MatchedByCallerID, province: "kien-giang",
			targets: []string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone", "OP1 +84351000031 default"},
			skipped: []string{"T1 on_call", "T3 holiday", "T4 suspended", "OP2 holiday", "OP3 terminated"},
		},
		{
			name:   "Tết 2026 (lunar 1/1 = 17 Feb): computed holiday",
			caller: "+842973111001", at: "2026-02-19 10:00", busy: busySet{"T1": true}, matched: MatchedByCallerID, province: "kien-giang",
			targets: []string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone", "OP1 +84351000031 default"},
			skipped: []string{"T1 on_call", "T3 holiday", "T4 suspended", "OP2 holiday", "OP3 terminated"},
		},
		{
			name:   "regional holiday of MT: Kiên Giang's technician is off, Hà Nội's area manager and operators are not",
			caller: "+842973111001", at: "2025-06-21 10:00", busy: busySet{"T1": true}, matched: MatchedByCallerID, province: "kien-giang",
			targets: with([]string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: with([]string{"T1 on_call", "T3 holiday", "T4 suspended"}, opsSkip...),
		},
		{
			name:   "Hà Nội café on the same regional holiday: no technician, area manager's landline via default",
			caller: "02438111104", at: "2025-06-21 10:00", matched: MatchedByCallerID, province: "ha-noi",
			targets: with([]string{"AM2 +842438000012 default", "RM2 +84941000022 vinaphone"}, ops...),
			skipped: opsSkip,
			notes:   []string{"no technician covers province ha-noi"},
		},
		{
			name:   "café code typed by a mobile caller (leading zeros optional)",
			caller: "0912345678", dtmf: "3#", at: "2025-03-03 10:00", matched: MatchedByDTMF, province: "an-giang",
			targets: with([]string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: opsSkip,
		},
		{
			name:   "unknown landline: province from the area code, its technicians (night shift off at 10:00)",
			caller: "0296 3999 999", at: "2025-03-03 10:00", matched: MatchedByAreaCode, province: "an-giang",
			targets: with([]string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: with([]string{"T5 off_duty"}, opsSkip...),
		},
		{
			name:   "unknown landline at night: night-shift technician works, office operator does not",
			caller: "02963999999", dtmf: "999", at: "2025-03-03 20:00", matched: MatchedByAreaCode, province: "an-giang",
			targets: []string{"T2 +84901000002 default", "T5 +84381000005 viettel", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone", "OP1 +84351000031 default"},
			skipped: []string{"OP2 off_duty", "OP3 terminated"},
		},
		{
			name:   "unknown mobile: operators only",
			caller: "0912345678", at: "2025-03-03 10:00", matched: MatchedByNone,
			targets: ops, skipped: opsSkip,
		},
		{
			name:   "anonymous: operators only",
			caller: "anonymous", at: "2025-03-03 10:00", matched: MatchedByNone,
			targets: ops, skipped: opsSkip,
		},
		{
			name:   "terminated café: operators only",
			caller: "02973111005", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			targets: ops, skipped: opsSkip,
			notes: []string{"café 005 is terminated: operators only"},
		},
		{
			name:   "viettel trunk down: viettel numbers via default",
			caller: "02973111001", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			down:    downTrunks{"viettel": true},
			targets: with([]string{"T1 +84961000001 default", "T1 +84911000001 vinaphone", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, "OP1 +84351000031 default", "OP2 +84351000032 default"),
			skipped: opsSkip,
		},
		{
			name:   "only a viettel trunk: other carriers' people cannot be dialled",
			caller: "02973111001", at: "2025-03-03 10:00", matched: MatchedByCallerID, province: "kien-giang",
			trunks:  Trunks{"viettel": "PJSIP/{number}@gw-viettel"},
			targets: []string{"T1 +84961000001 viettel", "OP2 +84351000032 viettel"},
			skipped: []string{"AM1 no_trunk", "RM1 no_trunk", "OP1 no_trunk", "OP3 terminated"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := dir
			if tt.change != nil {
				data := testData()
				tt.change(&data)
				var err error
				dir, err = NewDirectory(data)
				require.NoError(t, err)
			}
			caller := Normalize(tt.caller)
			id := Identify(dir, caller, tt.dtmf)
			require.Equal(t, tt.matched, id.MatchedBy)
			require.Equal(t, tt.province, id.Province)
			trunks := tt.trunks
			if trunks == nil {
				trunks = testTrunks
			}
			req := PlanRequest{ID: id, At: at(t, tt.at), Trunks: trunks}
			if tt.busy != nil {
				req.Live = tt.busy
			}
			if tt.rung != nil {
				req.Rotation = tt.rung
			}
			if tt.down != nil {
				req.Health = tt.down
			}
			dec := dir.Plan(req)
			var targets, skipped []string
			for _, tg := range dec.Targets {
				targets = append(targets, tg.Staff+" "+tg.Number+" "+tg.Trunk)
				require.NotEmpty(t, tg.Reason)
				require.NotContains(t, tg.Dial, "{")
			}
			for _, s := range dec.Skipped {
				skipped = append(skipped, s.Staff+" "+string(s.Reason))
			}
			require.Equal(t, tt.targets, targets, dec.String())
			require.Equal(t, tt.skipped, skipped, dec.String())
			for _, n := range tt.notes {
				require.Contains(t, dec.Notes, n)
			}
			// The caller's own number is never in a plan.
			for _, tg := range dec.Targets {
				require.NotEqual(t, caller.E164, tg.Number)
			}
		})
	}
}

func TestPlanReasonsAndDial(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	id := Identify(dir, Normalize("02973111001"), "")
	dec := dir.Plan(PlanRequest{ID: id, At: at(t, "2025-03-03 10:00"), Trunks: testTrunks, Health: downTrunks{"vinaphone": true},
		Ring: map[Role]time.Duration{RoleTechnician: 20 * time.Second}})
	tg := dec.Targets
	require.Equal(t, "assigned technician of café 001", tg[0].Reason)
	require.Equal(t, "PJSIP/0961000001@gw-viettel", tg[0].Dial)
	require.Equal(t, CarrierViettel, tg[0].Carrier)
	require.Equal(t, &Route{Trunk: "default", Dial: "PJSIP/+84961000001@gw-any"}, tg[0].Alternate)
	require.Equal(t, 20, tg[0].RingSeconds)
	// T1's second number is stored as vinaphone, whose trunk is down.
	require.Equal(t, "assigned technician of café 001 (vinaphone trunk unavailable, via default)", tg[1].Reason)
	require.Equal(t, "PJSIP/+84911000001@gw-any", tg[1].Dial)
	require.Equal(t, &Route{Trunk: "viettel", Dial: "PJSIP/0911000001@gw-viettel"}, tg[1].Alternate)
	require.Equal(t, CarrierVinaphone, tg[1].Carrier)
	require.Equal(t, "area manager of area KG", tg[2].Reason)
	require.Equal(t, 25, tg[2].RingSeconds)
	require.Equal(t, "regional manager of region MT (vinaphone trunk unavailable, via default)", tg[3].Reason)
	require.Equal(t, "operator", tg[4].Reason)
	require.Equal(t, CarrierMobifone, tg[4].Carrier, "stored carrier wins over the 035 Viettel prefix")
	require.Equal(t, 30, tg[4].RingSeconds)

	area := dir.Plan(PlanRequest{ID: Identify(dir, Normalize("02963999999"), ""), At: at(t, "2025-03-03 10:00"), Trunks: testTrunks})
	require.Equal(t, "covers province an-giang", area.Targets[0].Reason)

	// Every trunk down: still dial through the number's own trunk.
	all := dir.Plan(PlanRequest{ID: id, At: at(t, "2025-03-03 10:00"), Trunks: testTrunks,
		Health: downTrunks{"viettel": true, "vinaphone": true, "default": true}})
	require.Equal(t, "viettel", all.Targets[0].Trunk)
	require.Nil(t, all.Targets[0].Alternate)
	require.Contains(t, all.Targets[0].Reason, "every trunk marked unavailable")

	// Skip details explain.
	dec = dir.Plan(PlanRequest{ID: Identify(dir, Normalize("02973111002"), ""), At: at(t, "2025-04-30 10:00"), Trunks: testTrunks})
	details := map[string]string{}
	for _, s := range dec.Skipped {
		details[s.Staff] = s.Detail
	}
	require.Equal(t, "refuses café 002", details["T3"])
	require.Equal(t, "Ngày Giải phóng miền Nam", details["OP2"])
}

func TestPlanNeverTwice(t *testing.T) {
	data := testData()
	// OP1 shares T1's first number (a shared office phone), OP2 has T2's number as well as its own.
	data.Staff[9].Phones = []Phone{{E164: "+84961000001"}}
	data.Staff[10].Phones = []Phone{{E164: "+84901000002"}, {E164: "+84351000032"}}
	dir, err := NewDirectory(data)
	require.NoError(t, err)
	dec := dir.Plan(PlanRequest{ID: Identify(dir, Normalize("02973111002"), ""), At: at(t, "2025-03-03 10:00"), Trunks: testTrunks})
	seen := map[string]bool{}
	for _, tg := range dec.Targets {
		require.False(t, seen[tg.Number], "number %s twice", tg.Number)
		seen[tg.Number] = true
	}
	require.Contains(t, dec.Skipped, Skip{Staff: "OP1", Name: "Tổng Đài 1", Role: RoleOperator, Reason: SkipDuplicate, Detail: "number already in the plan for T1"})
	last := dec.Targets[len(dec.Targets)-1]
	require.Equal(t, "OP2", last.Staff)
	require.Equal(t, "+84351000032", last.Number)
}

func TestPlanNoPhoneAndMissingManagers(t *testing.T) {
	data := testData()
	data.Staff[5].Phones = nil // AM1
	data.Regions[0].Manager = ""
	dir, err := NewDirectory(data)
	require.NoError(t, err)
	dec := dir.Plan(PlanRequest{ID: Identify(dir, Normalize("02973111001"), ""), At: at(t, "2025-03-03 10:00"), Trunks: testTrunks})
	require.Contains(t, dec.Skipped, Skip{Staff: "AM1", Name: "Quản Lý KG", Role: RoleAreaManager, Reason: SkipNoPhone})
	require.Contains(t, dec.Notes, "region MT has no manager")
	// Nobody at all.
	empty, err := NewDirectory(DirectoryData{})
	require.NoError(t, err)
	dec = empty.Plan(PlanRequest{ID: Identify(empty, Normalize("0912345678"), ""), At: time.Now(), Trunks: testTrunks})
	require.Empty(t, dec.Targets)
	require.Contains(t, dec.Notes, "nobody can be rung")
}

func TestTrunksValidate(t *testing.T) {
	require.NoError(t, testTrunks.Validate())
	err := Trunks{"viettel": "PJSIP/gw-viettel", "default": "PJSIP/{e164}@x", "itel": "SIP/x"}.Validate()
	require.EqualError(t, err, "trunk itel: template \"SIP/x\" has neither {number} nor {e164}\ntrunk viettel: template \"PJSIP/gw-viettel\" has neither {number} nor {e164}")
}

func TestRouteReport(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	dec := dir.Plan(PlanRequest{ID: Identify(dir, Normalize("sip:02973111002@gw"), ""), At: at(t, "2025-03-03 10:00").UTC(), Trunks: testTrunks})
	raw, err := json.Marshal(dec.Report())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	get := func(path ...any) any {
		var v any = m
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}
	require.Equal(t, "2025-03-03T10:00:00+07:00", get("at"))
	require.Equal(t, "+842973111002", get("caller", "e164"))
	require.Equal(t, "landline", get("caller", "kind"))
	require.Equal(t, "", get("caller", "carrier"))
	require.Equal(t, "002", get("cafe", "code"))
	require.Equal(t, "caller_id", get("matched_by"))
	require.Equal(t, "kien-giang", get("province"))
	require.Equal(t, "T1", get("targets", 0, "staff"))
	require.Equal(t, "technician", get("targets", 0, "role"))
	require.Equal(t, "+84961000001", get("targets", 0, "number"))
	require.Equal(t, "viettel", get("targets", 0, "carrier"))
	require.Equal(t, "PJSIP/0961000001@gw-viettel", get("targets", 0, "dial"))
	require.Equal(t, float64(25), get("targets", 0, "ring_seconds"))
	require.Equal(t, "T3", get("skipped", 0, "staff"))
	require.Equal(t, "refuses_cafe", get("skipped", 0, "reason"))

	// Unknown caller: cafe is null, lists are [] not null.
	dec = dir.Plan(PlanRequest{ID: Identify(dir, Normalize("anonymous"), ""), At: at(t, "2025-03-03 03:00"), Trunks: Trunks{}})
	raw, err = json.Marshal(dec.Report())
	require.NoError(t, err)
	s := string(raw)
	require.Contains(t, s, `"cafe":null`)
	require.Contains(t, s, `"matched_by":"none"`)
	require.Contains(t, s, `"targets":[]`)
	require.Contains(t, s, `"kind":"anonymous"`)
}

func TestDecisionText(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	dec := dir.Plan(PlanRequest{ID: Identify(dir, Normalize("02973111002"), ""), At: at(t, "2025-03-03 10:00"), Trunks: testTrunks,
		Health: downTrunks{"viettel": true}})
	text := dec.String()
	for _, want := range []string{
		"At 2025-03-03 10:00 (Monday, Asia/Ho_Chi_Minh)",
		`Identified: caller +842973111002 (landline, area code 0297); café 002 "Net Hà Tiên" (kien-giang, active) matched by caller_id`,
		"Routing on province kien-giang, area KG, region MT",
		`  1. T1 Trần Văn Một (technician) +84961000001 [viettel] via default "PJSIP/+84961000001@gw-any" for 25s: covers province kien-giang (viettel trunk unavailable, via default)`,
		`     on congestion: via vinaphone "PJSIP/0961000001@gw-vinaphone"`,
		"  - T3 Phạm Ba (technician): refuses_cafe (refuses café 002)",
		"  - T4 Nghỉ Việc (technician): suspended\n",
	} {
		require.Contains(t, text, want)
	}
	id := Identify(dir, Normalize("01685551519"), "77")
	require.Equal(t, `caller +84385551519 (mobile, viettel, old number 01685551519); café and province unknown; typed "77"; code 77 matches no café`, id.String())
	require.True(t, strings.HasPrefix(Identify(dir, Normalize(""), "").String(), "caller anonymous; café and province unknown"))
}

func TestPlanMaxTargets(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	id := Identify(dir, Normalize("02973111002"), "")
	dec := dir.Plan(PlanRequest{ID: id, At: at(t, "2025-03-03 10:00"), Trunks: testTrunks, MaxTargets: 2})
	var got []string
	for _, tg := range dec.Targets {
		got = append(got, tg.Staff+" "+tg.Number)
	}
	require.Equal(t, []string{"T1 +84961000001", "T1 +84911000001"}, got)
	// T2, T3, T4, AM1, RM1 and the three operators were never examined.
	require.Empty(t, dec.Skipped)
	require.Contains(t, dec.Notes, "stopped at 2 targets: 8 more people not examined")
	full := dir.Plan(PlanRequest{ID: id, At: at(t, "2025-03-03 10:00"), Trunks: testTrunks})
	require.Equal(t, full.Targets[:2], dec.Targets)
}

// FuzzPlan: any caller ID, typed code and time give a plan without panicking,
// whose numbers all come from the directory and appear once.
func FuzzPlan(f *testing.F) {
	f.Add("02973111001", "", int64(1741000000))
	f.Add("anonymous", "003#", int64(0))
	f.Add("sip:+84909111001@gw", "1", int64(-1))
	f.Add("02963999999", "99999999999999999999", int64(1e18))
	dir, err := NewDirectory(testData())
	if err != nil {
		f.Fatal(err)
	}
	staffNumbers := map[string]bool{}
	for _, s := range testData().Staff {
		for _, ph := range s.Phones {
			staffNumbers[Normalize(ph.E164).E164] = true
		}
	}
	f.Fuzz(func(t *testing.T, caller, dtmf string, unix int64) {
		id := Identify(dir, Normalize(caller), dtmf)
		dec := dir.Plan(PlanRequest{ID: id, At: time.Unix(unix, 0), Trunks: testTrunks, Live: busySet{"T1": unix%2 == 0}})
		seen := map[string]bool{}
		for _, tg := range dec.Targets {
			if !staffNumbers[tg.Number] || seen[tg.Number] {
				t.Fatalf("target number %s not from the directory or twice", tg.Number)
			}
			seen[tg.Number] = true
		}
		_ = dec.String()
		_ = dec.Report()
	})
}
