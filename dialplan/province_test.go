package dialplan

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Province facts: /work/shared/vn/landline_area_codes.csv (63 rows, NOTES §6).
func TestProvinces(t *testing.T) {
	ps := Provinces()
	require.Len(t, ps, 63)
	codes := map[string]bool{}
	for _, p := range ps {
		require.False(t, codes[p.Code], "duplicate slug %s", p.Code)
		codes[p.Code] = true
		require.Regexp(t, `^[a-z0-9]+(-[a-z0-9]+)*$`, p.Code)
		require.Regexp(t, `^[a-z0-9 ]+$`, p.ASCII)
		require.NotEmpty(t, p.MergedInto)
		for _, key := range []string{p.Name, p.ASCII, p.Code, p.AreaCode, p.AreaCode[1:]} {
			got, ok := LookupProvince(key)
			require.True(t, ok, key)
			require.Equal(t, p, got, key)
		}
	}
	ps[0].Name = "changed"
	require.NotEqual(t, "changed", Provinces()[0].Name, "Provinces returns a copy")
}

func TestLookupProvince(t *testing.T) {
	tests := []struct {
		in, code, name, area string
	}{
		{"Kiên Giang", "kien-giang", "Kiên Giang", "0297"},
		{"kien giang", "kien-giang", "Kiên Giang", "0297"},
		{"KIEN GIANG", "kien-giang", "Kiên Giang", "0297"},
		{"  kiên   GIANG ", "kien-giang", "Kiên Giang", "0297"},
		{"kien-giang", "kien-giang", "Kiên Giang", "0297"},
		{"0297", "kien-giang", "Kiên Giang", "0297"},
		{"297", "kien-giang", "Kiên Giang", "0297"},
		{"Tỉnh Kiên Giang", "kien-giang", "Kiên Giang", "0297"},
		{"TP Hồ Chí Minh", "ho-chi-minh", "TP Hồ Chí Minh", "028"},
		{"Hồ Chí Minh", "ho-chi-minh", "TP Hồ Chí Minh", "028"},
		{"ho-chi-minh", "ho-chi-minh", "TP Hồ Chí Minh", "028"},
		{"tp hcm", "ho-chi-minh", "TP Hồ Chí Minh", "028"},
		{"Sài Gòn", "ho-chi-minh", "TP Hồ Chí Minh", "028"},
		{"28", "ho-chi-minh", "TP Hồ Chí Minh", "028"},
		{"Hà Nội", "ha-noi", "Hà Nội", "024"},
		{"Thành phố Hà Nội", "ha-noi", "Hà Nội", "024"},
		{"024", "ha-noi", "Hà Nội", "024"},
		{"Thừa Thiên Huế", "thua-thien-hue", "Thừa Thiên Huế", "0234"},
		{"thua-thien-hue", "thua-thien-hue", "Thừa Thiên Huế", "0234"},
		{"Huế", "thua-thien-hue", "Thừa Thiên Huế", "0234"},
		{"Đắk Lắk", "dak-lak", "Đắk Lắk", "0262"},
		{"DAK LAK", "dak-lak", "Đắk Lắk", "0262"},
		{"Bà Rịa - Vũng Tàu", "ba-ria-vung-tau", "Bà Rịa - Vũng Tàu", "0254"},
		{"ba ria vung tau", "ba-ria-vung-tau", "Bà Rịa - Vũng Tàu", "0254"},
		{"Điện Biên", "dien-bien", "Điện Biên", "0215"},
		{"Hòa Bình", "hoa-binh", "Hòa Bình", "0218"},
	}
	for _, tt := range tests {
		p, ok := LookupProvince(tt.in)
		require.True(t, ok, tt.in)
		require.Equal(t, tt.code, p.Code, tt.in)
		require.Equal(t, tt.name, p.Name, tt.in)
		require.Equal(t, tt.area, p.AreaCode, tt.in)
	}
	for _, bad := range []string{"", "Atlantis", "0295", "02", "kien", "0297x"} {
		_, ok := LookupProvince(bad)
		require.False(t, ok, bad)
	}
}

func TestFold(t *testing.T) {
	require.Equal(t, "ba ria vung tau", Fold("  Bà Rịa - Vũng Tàu "))
	require.Equal(t, "dak nong", Fold("ĐẮK NÔNG"))
	// Decomposed (NFD) input folds like composed input.
	require.Equal(t, "kien giang", Fold("Kie\u0302\u0301n Giang"))
	require.Equal(t, "thua-thien-hue", Slug("Thừa Thiên Huế"))
}

// Every carrier's prefixes are mobile numbers of that carrier, and every
// prefix of the table belongs to one carrier.
func TestMobilePrefixes(t *testing.T) {
	total := 0
	for _, c := range []Carrier{CarrierViettel, CarrierVinaphone, CarrierMobifone, CarrierVietnamobile,
		CarrierGmobile, CarrierReddi, CarrierItel} {
		ps := MobilePrefixes(c)
		if len(ps) == 0 {
			t.Errorf("%s: no prefix", c)
		}
		for _, p := range ps {
			n := Normalize(p + "1234567")
			if n.Kind != KindMobile || n.Carrier != c {
				t.Errorf("%s: prefix %s gives %s %s", c, p, n.Kind, n.Carrier)
			}
		}
		total += len(ps)
	}
	if total != len(tables.mobile) {
		t.Errorf("%d prefixes over the carriers, the table has %d", total, len(tables.mobile))
	}
	if got := MobilePrefixes(CarrierViettel); got[0] != "032" {
		t.Errorf("viettel prefixes not sorted: %v", got)
	}
	if MobilePrefixes(CarrierUnknown) != nil {
		t.Error("unknown carrier has prefixes")
	}
}
