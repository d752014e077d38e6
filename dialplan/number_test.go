package dialplan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Test data: /work/shared/vn/NOTES.md (§1 forms and lengths, §2 prefix caveats,
// §4 numbers never to dial) and the CSVs copied into data/.

func TestNormalizeForms(t *testing.T) {
	mobile := func(raw string) Number {
		return Number{Raw: raw, E164: "+84945551519", National: "0945551519", Kind: KindMobile, Carrier: CarrierVinaphone}
	}
	for _, raw := range []string{
		"+84945551519", "84945551519", "0084945551519", "0945551519", "945551519",
		"+84 94 555 15 19", "094.555.1519", "094-555-1519", "(094) 555 1519", " 0945551519 ",
		"+840945551519", // stray trunk 0 after the country code
		"840945551519",
		"sip:0945551519@10.0.0.1;user=phone", "<sip:+84945551519@gw>", "tel:+84-94-555-1519",
		"sips:84945551519@gw.example:5061", `"Cafe" <sip:0945551519@10.0.0.1>`, "SIP:0945551519@gw",
		"sip:%2B84945551519@gw", "tel:0945551519;phone-context=+84",
	} {
		require.Equal(t, mobile(raw), Normalize(raw), raw)
	}
}

func TestNormalizeKinds(t *testing.T) {
	tests := []struct {
		raw  string
		want Number
	}{
		// NOTES §1: a 9-digit string starting with 84 is Vinaphone 084 without its 0.
		{"841234567", Number{E164: "+84841234567", National: "0841234567", Kind: KindMobile, Carrier: CarrierVinaphone}},
		// NOTES §1: landlines are 11 digits; Hà Nội/HCM have 2-digit codes.
		{"02973123456", Number{E164: "+842973123456", National: "02973123456", Kind: KindLandline, AreaCode: "0297", Province: "kien-giang"}},
		{"+84 24 3823 4567", Number{E164: "+842438234567", National: "02438234567", Kind: KindLandline, AreaCode: "024", Province: "ha-noi"}},
		{"842838234567", Number{E164: "+842838234567", National: "02838234567", Kind: KindLandline, AreaCode: "028", Province: "ho-chi-minh"}},
		{"2973123456", Number{E164: "+842973123456", National: "02973123456", Kind: KindLandline, AreaCode: "0297", Province: "kien-giang"}},
		// 2017 plan has no 0217, 0223 or 0295 (landline_area_codes.csv).
		{"02173123456", Number{Kind: KindInvalid}},
		{"02953123456", Number{Kind: KindInvalid}},
		// Wrong lengths.
		{"0297312345", Number{Kind: KindInvalid}},
		{"094555151", Number{Kind: KindInvalid}},
		{"09455515190", Number{Kind: KindInvalid}},
		// NOTES §2: 095 is in no list; 030x/051x are unconfirmed and not in the CSV.
		{"0955551519", Number{Kind: KindInvalid}},
		{"0301234567", Number{Kind: KindInvalid}},
		// NOTES §1: old 11-digit mobiles (conversion CSV).
		{"01685551519", Number{E164: "+84385551519", National: "0385551519", Kind: KindMobile, Carrier: CarrierViettel, Remapped: true}},
		{"+84 123 555 1519", Number{E164: "+84835551519", National: "0835551519", Kind: KindMobile, Carrier: CarrierVinaphone, Remapped: true}},
		{"1995551519", Number{E164: "+84595551519", National: "0595551519", Kind: KindMobile, Carrier: CarrierGmobile, Remapped: true}},
		// NOTES §2: 10-digit 0121[0-3]… and 0160… are NOT old numbers; old 0160/0161 never existed.
		{"0121012345", Number{Kind: KindInvalid}},
		{"0160123456", Number{Kind: KindInvalid}},
		{"01605551519", Number{Kind: KindInvalid}},
		// NOTES §4.
		{"18001091", Number{National: "18001091", Kind: KindTollFree}},
		{"1800 599 920", Number{National: "1800599920", Kind: KindTollFree}},
		{"19001570", Number{National: "19001570", Kind: KindPremium}},
		{"113", Number{National: "113", Kind: KindShort}},
		{"115", Number{National: "115", Kind: KindShort}},
		{"1080", Number{National: "1080", Kind: KindShort}},
		// Foreign.
		{"+1 415 555 0100", Number{E164: "+14155550100", Kind: KindForeign}},
		{"0061 2 9999 0000", Number{E164: "+61299990000", Kind: KindForeign}},
		{"+12", Number{Kind: KindInvalid}},
		{"+0945551519", Number{Kind: KindInvalid}},
		// Anonymous.
		{"", Number{Kind: KindAnonymous}},
		{"   ", Number{Kind: KindAnonymous}},
		{"anonymous", Number{Kind: KindAnonymous}},
		{"Unknown", Number{Kind: KindAnonymous}},
		{"RESTRICTED", Number{Kind: KindAnonymous}},
		{"private", Number{Kind: KindAnonymous}},
		{"sip:anonymous@anonymous.invalid", Number{Kind: KindAnonymous}},
		{"<sip:restricted@gw>", Number{Kind: KindAnonymous}},
		{"abc", Number{Kind: KindAnonymous}},
		{"--", Number{Kind: KindAnonymous}},
		// Digits mixed with garbage.
		{"0945x551519", Number{Kind: KindInvalid}},
		{"09455+51519", Number{Kind: KindInvalid}},
	}
	for _, tt := range tests {
		tt.want.Raw = tt.raw
		require.Equal(t, tt.want, Normalize(tt.raw), tt.raw)
	}
}

// Every row of mobile_prefixes.csv: 0 + prefix + 7 digits is a mobile of
// that carrier, in every accepted form.
func TestNormalizeEveryMobilePrefix(t *testing.T) {
	rows, err := readCSV("mobile_prefixes.csv", mobilePrefixesCSV, "prefix,carrier", 2)
	require.NoError(t, err)
	require.Len(t, rows, 36, "NOTES §2: 36 rows")
	for _, row := range rows {
		national := row[0] + "5551519"
		want := Number{E164: "+84" + national[1:], National: national, Kind: KindMobile, Carrier: Carrier(row[1])}
		for _, raw := range []string{national, national[1:], "+84" + national[1:], "84" + national[1:], "0084" + national[1:]} {
			want.Raw = raw
			require.Equal(t, want, Normalize(raw), raw)
		}
		require.Equal(t, Carrier(row[1]), CarrierHint(national))
	}
	// Hand-written: the carriers NOTES §2 names explicitly.
	require.Equal(t, CarrierItel, CarrierHint("0871234567"))
	require.Equal(t, CarrierReddi, CarrierHint("0551234567"))
	require.Equal(t, CarrierViettel, CarrierHint("0861234567"))
	require.Equal(t, CarrierMobifone, CarrierHint("0891234567"))
	require.Equal(t, CarrierUnknown, CarrierHint("02973123456"))
	require.Equal(t, CarrierUnknown, CarrierHint("0951234567"))
}

// Every row of mobile_prefix_conversion_2018.csv: the old prefix becomes the new
// one and the last 7 digits stay (NOTES §1).
func TestNormalizeEveryConversion(t *testing.T) {
	rows, err := readCSV("mobile_prefix_conversion_2018.csv", conversionCSV, "old_prefix,new_prefix,carrier", 3)
	require.NoError(t, err)
	require.Len(t, rows, 21)
	for _, row := range rows {
		old := row[0] + "7654321"
		national := row[1] + "7654321"
		want := Number{E164: "+84" + national[1:], National: national, Kind: KindMobile, Carrier: Carrier(row[2]), Remapped: true}
		for _, raw := range []string{old, old[1:], "+84" + old[1:], "84" + old[1:], "0084" + old[1:]} {
			want.Raw = raw
			require.Equal(t, want, Normalize(raw), raw)
		}
		// The new number itself is not remapped and has the same carrier hint.
		n := Normalize(national)
		require.False(t, n.Remapped)
		require.Equal(t, Carrier(row[2]), n.Carrier)
		// An old prefix with only 10 digits is not an old number (NOTES §2).
		require.Equal(t, KindInvalid, Normalize(row[0]+"765432").Kind, row[0])
	}
	// Hand-written rows from the brief and NOTES.
	require.Equal(t, "0835551519", Normalize("01235551519").National)
	require.Equal(t, "0385551519", Normalize("01685551519").National)
	require.Equal(t, "0705551519", Normalize("01205551519").National)
}

// Every row of landline_area_codes.csv gives its province.
func TestNormalizeEveryAreaCode(t *testing.T) {
	rows, err := readCSV("landline_area_codes.csv", areaCodesCSV, "area_code,province_2017_to_2025,province_since_2025_07", 3)
	require.NoError(t, err)
	require.Len(t, rows, 63)
	for _, row := range rows {
		code := row[0]
		national := code + strings.Repeat("3", 11-len(code)) // always 11 digits (NOTES §1)
		n := Normalize(national)
		require.Equal(t, KindLandline, n.Kind, national)
		require.Equal(t, code, n.AreaCode)
		require.Equal(t, "+84"+national[1:], n.E164)
		p, ok := LookupProvince(n.Province)
		require.True(t, ok)
		require.Equal(t, row[1], p.Name)
		require.Equal(t, row[2], p.MergedInto)
		// One digit short or long is not a landline.
		require.Equal(t, KindInvalid, Normalize(national[:10]).Kind, national[:10])
		require.Equal(t, KindInvalid, Normalize(national+"3").Kind)
	}
}

func TestEffectiveCarrier(t *testing.T) {
	// NOTES §3: number portability; the stored carrier wins.
	require.Equal(t, CarrierMobifone, EffectiveCarrier(Phone{E164: "+84961234567", Carrier: CarrierMobifone}))
	require.Equal(t, CarrierViettel, EffectiveCarrier(Phone{E164: "+84961234567"}))
	require.Equal(t, CarrierUnknown, EffectiveCarrier(Phone{E164: "+842973123456"}))
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, raw := range []string{"01685551519", "0945551519", "02973123456", "+14155550100", "sip:0241234567@x"} {
		checkIdempotent(t, raw)
	}
}

// checkIdempotent: re-normalising the E.164 form gives the same number except
// Raw and Remapped (the E.164 form is already today's number).
func checkIdempotent(t *testing.T, raw string) {
	t.Helper()
	n := Normalize(raw)
	if n.E164 == "" {
		return
	}
	again := Normalize(n.E164)
	again.Raw, again.Remapped = n.Raw, n.Remapped
	require.Equal(t, n, again, "raw %q", raw)
	if n.National != "" {
		again = Normalize(n.National)
		again.Raw, again.Remapped = n.Raw, n.Remapped
		require.Equal(t, n, again, "national of %q", raw)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"0945551519", "+84945551519", "01685551519", "02973123456", "sip:0945551519@gw;user=phone",
		"<tel:+1-415-555-0100>", "anonymous", "", "18001091", "113", "0084 24 3823 4567", "841234567", "+840945551519"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n := Normalize(raw)
		if n.Raw != raw {
			t.Fatalf("Raw %q != %q", n.Raw, raw)
		}
		switch n.Kind {
		case KindMobile, KindLandline:
			if !strings.HasPrefix(n.E164, "+84") || "0"+n.E164[3:] != n.National {
				t.Fatalf("%q: E164 %q National %q", raw, n.E164, n.National)
			}
		case KindForeign:
			if !strings.HasPrefix(n.E164, "+") || strings.HasPrefix(n.E164, "+84") {
				t.Fatalf("%q: foreign %q", raw, n.E164)
			}
		default:
			if n.E164 != "" {
				t.Fatalf("%q: kind %s with E164 %q", raw, n.Kind, n.E164)
			}
		}
		checkIdempotent(t, raw)
	})
}
