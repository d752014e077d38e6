package sim

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
)

func TestParseDirectorySpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want DirectorySpec
		err  string
	}{
		{in: "", want: DirectorySpec{}},
		{in: "database", want: DirectorySpec{}},
		{in: "synthetic:20000,1000", want: DirectorySpec{Cafes: 20000, Staff: 1000}},
		{in: "synthetic:1,100", want: DirectorySpec{Cafes: 1, Staff: 100}},
		{in: "synthetic:200000,50000", want: DirectorySpec{Cafes: 200000, Staff: 50000}},
		{in: "synthetic:020000,01000", want: DirectorySpec{Cafes: 20000, Staff: 1000}},
		{in: "synthetic:0,1000", err: "cafés must be between 1 and 200000, not 0"},
		{in: "synthetic:200001,1000", err: "cafés must be between 1 and 200000"},
		{in: "synthetic:20000,99", err: "staff must be between 100 and 50000, not 99"},
		{in: "synthetic:20000,50001", err: "staff must be between 100 and 50000"},
		{in: "synthetic:20000", err: "want synthetic:CAFES,STAFF"},
		{in: "synthetic:", err: "want synthetic:CAFES,STAFF"},
		{in: "synthetic:20000,1000,5", err: `staff "1000,5" is not a whole number`},
		{in: "synthetic:20 000,1000", err: `cafés "20 000" is not a whole number`},
		{in: "synthetic:-5,1000", err: `cafés "-5" is not a whole number`},
		{in: "synthetic:+5,1000", err: `cafés "+5" is not a whole number`},
		{in: "synthetic:20000, 1000", err: `staff " 1000" is not a whole number`},
		{in: "synthetic:,1000", err: `cafés "" is not a whole number`},
		{in: "synthetic:99999999999999999999,1000", err: "is not a whole number"},
		{in: "synthetic:2e4,1000", err: `cafés "2e4" is not a whole number`},
		{in: "Synthetic:20000,1000", err: "want database or synthetic:CAFES,STAFF"},
		{in: "sample", err: "want database or synthetic:CAFES,STAFF"},
		{in: "synthetic20000,1000", err: "want database or synthetic:CAFES,STAFF"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDirectorySpec(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// A spec that parses prints back as itself and stays within the limits;
// nothing panics.
func FuzzParseDirectorySpec(f *testing.F) {
	for _, s := range []string{"", "database", "synthetic:20000,1000", "synthetic:1,100", "synthetic:0,0",
		"synthetic:,", "synthetic:9999999,9999999", "synthetic:20000,1000,1", "synthetic:-1,+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDirectorySpec(s)
		if err != nil {
			if d != (DirectorySpec{}) {
				t.Fatalf("%q: error %v with a spec %+v", s, err, d)
			}
			return
		}
		if d.Synthetic() {
			if d.Cafes < 1 || d.Cafes > MaxSyntheticCafes || d.Staff < MinSyntheticStaff || d.Staff > MaxSyntheticStaff {
				t.Fatalf("%q: out of limits: %+v", s, d)
			}
		} else if d.Staff != 0 {
			t.Fatalf("%q: staff without cafés: %+v", s, d)
		}
		again, err := ParseDirectorySpec(d.String())
		if err != nil || again != d {
			t.Fatalf("%q → %q → %+v, %v", s, d.String(), again, err)
		}
	})
}

func csvBytes(files []CSVFile) []byte {
	var b bytes.Buffer
	for _, f := range files {
		b.WriteString(f.Name + "\n")
		b.Write(f.Data)
	}
	return b.Bytes()
}

func TestGenerateDirectoryDeterministic(t *testing.T) {
	spec := DirectorySpec{Cafes: 3000, Staff: 300}
	a, err := GenerateDirectory(spec, 7)
	require.NoError(t, err)
	b, err := GenerateDirectory(spec, 7)
	require.NoError(t, err)
	require.Equal(t, csvBytes(a.CSV()), csvBytes(b.CSV()), "same seed, same directory")
	require.Equal(t, a.Profiles, b.Profiles, "same seed, same people")
	c, err := GenerateDirectory(spec, 8)
	require.NoError(t, err)
	require.NotEqual(t, csvBytes(a.CSV()), csvBytes(c.CSV()), "another seed, another directory")
	// The codes are the same whatever the seed: a second run with another
	// seed updates the same cafés and people instead of adding more.
	require.Equal(t, a.Data.Cafes[2999].Code, c.Data.Cafes[2999].Code)
	require.Equal(t, a.Data.Staff[299].Code, c.Data.Staff[299].Code)

	_, err = GenerateDirectory(DirectorySpec{}, 7)
	require.Error(t, err, "not synthetic")
	_, err = GenerateDirectory(DirectorySpec{Cafes: 10, Staff: 5}, 7)
	require.ErrorContains(t, err, "staff must be between")
}

// The 20,000-café, 1,000-staff directory of the load runs: a valid
// directory of that size with every province served, valid numbers in
// realistic carrier shares, landlines in the café's province.
func TestSyntheticDirectory(t *testing.T) {
	s, err := GenerateDirectory(DirectorySpec{Cafes: 20000, Staff: 1000}, 1)
	require.NoError(t, err)
	dir, err := dialplan.NewDirectory(s.Data)
	require.NoError(t, err, "dialplan accepts it")
	c := dir.Counts()
	require.Equal(t, 20000, c.Cafes)
	require.Equal(t, 1000, c.Staff)
	require.Equal(t, 3, c.Regions)
	require.Len(t, s.Profiles, 1000, "everyone has a behaviour")

	// Every province: in exactly one area, has cafés, and an active
	// technician covering it.
	inArea := map[string]int{}
	for _, a := range s.Data.Areas {
		for _, p := range a.Provinces {
			inArea[p]++
		}
	}
	cafesIn := map[string]int{}
	for _, cf := range s.Data.Cafes {
		cafesIn[cf.Province]++
	}
	for _, p := range dialplan.Provinces() {
		require.Equal(t, 1, inArea[p.Code], "province %s in one area", p.Name)
		require.Positive(t, cafesIn[p.Code], "province %s has cafés", p.Name)
		active := 0
		for _, st := range dir.Technicians(p.Code) {
			if st.Status == dialplan.StatusActive {
				active++
			}
		}
		require.Positive(t, active, "province %s has an active technician", p.Name)
	}
	require.Greater(t, cafesIn["ha-noi"], 4*cafesIn["kien-giang"], "more cafés in the capital")

	// Numbers: valid, unique, landlines on the café's province.
	seen := map[string]bool{}
	carriers := map[dialplan.Carrier]int{}
	mobiles, withLandline := 0, 0
	for _, cf := range s.Data.Cafes {
		landline := false
		for _, ph := range cf.Phones {
			n := dialplan.Normalize(ph)
			require.True(t, n.Dialable(), "café %s number %s", cf.Code, ph)
			require.Equal(t, ph, n.E164)
			require.False(t, seen[ph], "%s given twice", ph)
			seen[ph] = true
			switch n.Kind {
			case dialplan.KindLandline:
				landline = true
				require.Equal(t, cf.Province, n.Province, "café %s landline %s", cf.Code, ph)
				require.Len(t, n.National, 11)
			case dialplan.KindMobile:
				mobiles++
				carriers[n.Carrier]++
				require.Len(t, n.National, 10)
			}
		}
		if landline {
			withLandline++
		}
	}
	ported := 0
	for _, st := range s.Data.Staff {
		require.NotEmpty(t, st.Phones)
		for _, ph := range st.Phones {
			n := dialplan.Normalize(ph.E164)
			require.Equal(t, dialplan.KindMobile, n.Kind, "staff %s number %s", st.Code, ph.E164)
			require.False(t, seen[ph.E164], "%s given twice", ph.E164)
			seen[ph.E164] = true
			if ph.Carrier != dialplan.CarrierUnknown {
				require.NotEqual(t, n.Carrier, ph.Carrier, "an explicit carrier is a ported number")
				ported++
			}
			code, ok := s.Person(n.National)
			require.True(t, ok)
			require.Equal(t, st.Code, code)
		}
	}
	require.Positive(t, ported)
	require.Less(t, ported, 150)
	require.InDelta(t, 0.40, float64(withLandline)/20000, 0.02, "40 % of cafés have a landline")
	share := func(c dialplan.Carrier) float64 { return float64(carriers[c]) / float64(mobiles) }
	require.InDelta(t, 0.54, share(dialplan.CarrierViettel), 0.02)
	require.InDelta(t, 0.24, share(dialplan.CarrierVinaphone), 0.02)
	require.InDelta(t, 0.19, share(dialplan.CarrierMobifone), 0.02)
	require.Positive(t, carriers[dialplan.CarrierVietnamobile])
	_, ok := s.Person("0900000000")
	require.False(t, ok)
}

// People's behaviours come in the documented shares, person by person and
// ring by ring.
func TestSyntheticBehaviourShares(t *testing.T) {
	s, err := GenerateDirectory(DirectorySpec{Cafes: 100, Staff: 5000}, 3)
	require.NoError(t, err)
	kinds := map[Profile]int{}
	for _, p := range s.Profiles {
		kinds[p]++
	}
	require.Len(t, kinds, len(profileKinds))
	for _, k := range profileKinds {
		require.InDelta(t, float64(k.share)/100, float64(kinds[k.profile])/5000, 0.02, "people like %+v", k.profile)
	}
	// Every person rung 20 times: the shares of all rings.
	r := rand.New(rand.NewPCG(1, 2))
	rings := map[Behaviour]int{}
	for _, st := range s.Data.Staff {
		for range 20 {
			rings[s.Profiles[st.Code].pick(r)]++
		}
	}
	total := float64(20 * 5000)
	require.InDelta(t, 0.791, float64(rings[Answered])/total, 0.015)
	require.InDelta(t, 0.073, float64(rings[Busy])/total, 0.01)
	require.InDelta(t, 0.085, float64(rings[NoAnswer])/total, 0.01)
	require.InDelta(t, 0.051, float64(rings[Voicemail])/total, 0.01)
}

// The CSV files hold the same directory as Data, in the columns `hotline
// import` reads.
func TestSyntheticCSV(t *testing.T) {
	s, err := GenerateDirectory(DirectorySpec{Cafes: 500, Staff: 150}, 5)
	require.NoError(t, err)
	files := s.CSV()
	want := map[string]int{"regions.csv": 3, "areas.csv": len(s.Data.Areas), "staff.csv": 150, "cafes.csv": 500}
	require.Len(t, files, 4)
	for _, f := range files {
		rows, err := csv.NewReader(bytes.NewReader(f.Data)).ReadAll()
		require.NoError(t, err, f.Name)
		require.Len(t, rows, want[f.Name]+1, f.Name)
		if f.Name == "staff.csv" {
			require.Equal(t, "code,name,role,phones,provinces,status,hours", strings.Join(rows[0], ","))
			st := s.Data.Staff[len(s.Data.Staff)-1]
			require.Equal(t, st.Code, rows[len(rows)-1][0])
			require.Equal(t, st.Hours.String(), rows[len(rows)-1][6])
		}
	}
}
