package dialplan

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPlanForAnotherProvince is PlanRequest.Province, the plan of a transfer:
// the province asked for instead of the caller's, with the café's refusals
// and status still applying. 2025-03-03 is a Monday.
func TestPlanForAnotherProvince(t *testing.T) {
	ops := []string{"OP1 +84351000031 default", "OP2 +84351000032 viettel"}
	for _, tt := range []struct {
		name     string
		caller   string // a café's number, or another caller
		at       string
		province string // PlanRequest.Province
		change   func(*DirectoryData)
		route    string // Decision.Province
		targets  []string
		skipped  []string
		notes    []string
	}{
		{
			name:   "café 001 of Kiên Giang (assigned T1) to An Giang: An Giang's technicians, its managers, operators",
			caller: "02973111001", at: "2025-03-03 10:00", province: "an-giang", route: "an-giang",
			targets: append([]string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: []string{"T5 off_duty", "OP3 terminated"},
		},
		{
			name:   "the café's refusals still apply in the other province",
			caller: "02973111001", at: "2025-03-03 10:00", province: "an-giang", route: "an-giang",
			change:  func(d *DirectoryData) { d.Refusals = append(d.Refusals, Refusal{Staff: "T2", Cafe: "001"}) },
			targets: append([]string{"AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: []string{"T2 refuses_cafe", "T5 off_duty", "OP3 terminated"},
		},
		{
			name:   "Hà Nội has no technician: its area and regional managers",
			caller: "02973111001", at: "2025-03-03 10:00", province: "ha-noi", route: "ha-noi",
			targets: append([]string{"AM2 +842438000012 default", "RM2 +84941000022 vinaphone"}, ops...),
			skipped: []string{"OP3 terminated"},
			notes:   []string{"no technician covers province ha-noi"},
		},
		{
			name:   "the café's own province: its assigned technician first, as on a call",
			caller: "02963111003", at: "2025-03-03 10:00", province: "an-giang", route: "an-giang",
			targets: append([]string{"T2 +84901000002 default", "AM1 +84931000011 default", "RM1 +84941000021 vinaphone"}, ops...),
			skipped: []string{"OP3 terminated"},
		},
		{
			name:   "a caller of no café: the province asked for",
			caller: "0912345678", at: "2025-03-03 20:00", province: "an-giang", route: "an-giang",
			targets: []string{"T2 +84901000002 default", "T5 +84381000005 viettel", "AM1 +84931000011 default",
				"RM1 +84941000021 vinaphone", "OP1 +84351000031 default"},
			skipped: []string{"OP2 off_duty", "OP3 terminated"},
		},
		{
			name:   "a terminated café still gets operators only",
			caller: "02973111005", at: "2025-03-03 10:00", province: "an-giang", route: "",
			targets: ops,
			skipped: []string{"OP3 terminated"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := testData()
			if tt.change != nil {
				tt.change(&data)
			}
			dir, err := NewDirectory(data)
			require.NoError(t, err)
			id := Identify(dir, Normalize(tt.caller), "")
			dec := dir.Plan(PlanRequest{ID: id, At: at(t, tt.at), Trunks: testTrunks, Province: tt.province})
			var targets, skipped []string
			for _, tg := range dec.Targets {
				targets = append(targets, tg.Staff+" "+tg.Number+" "+tg.Trunk)
			}
			for _, s := range dec.Skipped {
				skipped = append(skipped, s.Staff+" "+string(s.Reason))
			}
			require.Equal(t, tt.route, dec.Province, dec.String())
			require.Equal(t, tt.targets, targets, dec.String())
			require.Equal(t, tt.skipped, skipped, dec.String())
			for _, n := range tt.notes {
				require.Contains(t, dec.Notes, n)
			}
		})
	}
}

func TestProvinceByAreaCode(t *testing.T) {
	dir, err := NewDirectory(testData())
	require.NoError(t, err)
	for _, tt := range []struct {
		code, want string
	}{
		{"0299", "soc-trang"}, {"299", "soc-trang"}, {"0297", "kien-giang"}, {"024", "ha-noi"}, {"24", "ha-noi"},
		{"028", "ho-chi-minh"}, {"0", ""}, {"", ""}, {"00299", ""}, {"0999", ""}, {"02a9", ""}, {"soc-trang", ""},
	} {
		p, ok := dir.ProvinceByAreaCode(tt.code)
		if tt.want == "" {
			require.False(t, ok, tt.code)
			continue
		}
		require.True(t, ok, tt.code)
		require.Equal(t, tt.want, p.Code, tt.code)
	}
}
