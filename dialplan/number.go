package dialplan

import (
	"strings"
)

// Kind classifies a normalised number.
type Kind string

// Kinds of numbers. Only mobile and landline numbers may ever be dialled to
// reach staff (/work/shared/vn/NOTES.md §4).
const (
	KindMobile    Kind = "mobile"    // 0 + a prefix of mobile_prefixes.csv + 7 digits
	KindLandline  Kind = "landline"  // 0 + an area code of landline_area_codes.csv, 11 digits in all
	KindTollFree  Kind = "tollfree"  // 1800 + 4..6 digits
	KindPremium   Kind = "premium"   // 1900 + 4..6 digits
	KindShort     Kind = "short"     // short and emergency codes (111–115, 1xxx…), 3–6 digits starting with 1
	KindForeign   Kind = "foreign"   // an international number outside +84
	KindAnonymous Kind = "anonymous" // no caller ID: empty, "anonymous", "restricted", no digits at all
	KindInvalid   Kind = "invalid"   // digits that are none of the above
)

// Number is a phone number as a caller ID or a stored record presented it,
// and what it normalises to.
//
// E164 is set for mobile, landline and foreign numbers only ("+84945551519").
// National is the Vietnamese national form with the trunk 0 ("0945551519",
// "02973123456") for mobile and landline numbers, and the bare digits of
// toll-free, premium and short numbers ("18001234", "113").
type Number struct {
	Raw      string
	E164     string
	National string
	Kind     Kind
	Carrier  Carrier // hint from the mobile prefix; see EffectiveCarrier
	AreaCode string  // landline area code with the 0 ("0297", "024")
	Province string  // province code of a landline ("kien-giang")
	Remapped bool    // an old 11-digit mobile number converted by the 2018 plan
}

// Dialable reports whether the number may be rung to reach a person: a
// Vietnamese mobile or landline number.
func (n Number) Dialable() bool { return n.Kind == KindMobile || n.Kind == KindLandline }

// anonymousWords are caller ID values that mean "no number" (case-insensitive).
var anonymousWords = map[string]bool{
	"anonymous": true, "unknown": true, "restricted": true, "private": true,
	"unavailable": true, "withheld": true, "blocked": true,
}

// Normalize turns any form in which a caller ID or a typed record presents a
// number into its E.164 form and classifies it. It accepts +84…, 84…, 0084…,
// 0…, national digits without the 0, visual separators (spaces, dots, dashes,
// parentheses, slashes), and the user part of a tel:, sip: or sips: URI with or
// without angle brackets and a display name ("Name" <sip:0945551519@gw;user=phone>).
//
// Rules (facts from /work/shared/vn/NOTES.md §1, §2, §4 and the CSVs):
//   - +CC… or 00CC…: +84 / 0084 is Vietnamese, any other country code is foreign;
//     a stray trunk 0 after +84 ("+840945…") is dropped.
//   - a leading 0 is the trunk prefix; without it the digits are the national
//     significant number (NSN), except that 84 + 9 or 10 digits (11 or 12 digits
//     in all) is the country code: no Vietnamese NSN is 11 or 12 digits long.
//   - NSN of 9 digits with a prefix of mobile_prefixes.csv: mobile.
//   - NSN of 10 digits starting with an old prefix of
//     mobile_prefix_conversion_2018.csv: an old 11-digit mobile, converted
//     (Remapped). A 9-digit NSN starting with 1 (0121x…, 0160…: NOTES §2) is
//     not an old number and is invalid here.
//   - NSN of 10 digits starting with an area code of landline_area_codes.csv
//     (24 and 28 are two-digit codes): landline, with its province.
//   - 1800/1900 + 4..6 digits: toll-free/premium; other 3–6 digit numbers
//     starting with 1: short (emergency 113–115 etc.).
//
// Normalize never fails: anything else is KindInvalid (or KindAnonymous when no
// digit at all was presented).
func Normalize(raw string) Number {
	n := Number{Raw: raw}
	s := uriUser(strings.TrimSpace(raw))
	if anonymousWords[strings.ToLower(s)] || s == "" {
		n.Kind = KindAnonymous
		return n
	}
	plus, digits, ok := cleanDigits(s)
	if !ok {
		if digits == "" {
			n.Kind = KindAnonymous
		} else {
			n.Kind = KindInvalid
		}
		return n
	}
	var nsn string
	switch {
	case plus:
		nsn, ok = international(digits)
		if !ok {
			return foreign(n, digits)
		}
	case strings.HasPrefix(digits, "00"):
		nsn, ok = international(digits[2:])
		if !ok {
			return foreign(n, digits[2:])
		}
	case strings.HasPrefix(digits, "0"):
		nsn = digits[1:]
	case strings.HasPrefix(digits, "84") && len(digits) >= 11 && len(digits) <= 13:
		// 84 + NSN: no Vietnamese NSN is 11 digits or longer, so this
		// is the country code without its +.
		nsn, _ = international(digits)
	default:
		nsn = digits
		if k, ok := serviceKind(digits); ok {
			n.Kind = k
			n.National = digits
			return n
		}
	}
	return classifyNSN(n, nsn)
}

// international takes the digits after + or 00 and returns the Vietnamese NSN,
// or false for another country.
func international(d string) (string, bool) {
	if !strings.HasPrefix(d, "84") {
		return "", false
	}
	nsn := d[2:]
	if len(nsn) == 10 && nsn[0] == '0' || len(nsn) == 11 && nsn[0] == '0' {
		nsn = nsn[1:] // "+84 0945…": a trunk 0 that should not be there
	}
	return nsn, true
}

// foreign classifies digits after + or 00 that do not start with 84. E.164
// numbers have at most 15 digits; anything shorter than 7 is not a number.
func foreign(n Number, d string) Number {
	if len(d) < 7 || len(d) > 15 || d[0] == '0' {
		n.Kind = KindInvalid
		return n
	}
	n.Kind = KindForeign
	n.E164 = "+" + d
	return n
}

// serviceKind recognises toll-free, premium and short numbers (NOTES §4).
func serviceKind(d string) (Kind, bool) {
	if d[0] != '1' {
		return "", false
	}
	switch {
	case (strings.HasPrefix(d, "1800")) && len(d) >= 8 && len(d) <= 10:
		return KindTollFree, true
	case strings.HasPrefix(d, "1900") && len(d) >= 8 && len(d) <= 10:
		return KindPremium, true
	case len(d) >= 3 && len(d) <= 6:
		return KindShort, true
	}
	return "", false
}

func classifyNSN(n Number, nsn string) Number {
	switch {
	case len(nsn) == 9:
		if c, ok := tables.mobile[nsn[:2]]; ok {
			n.Kind = KindMobile
			n.Carrier = c
			n.National = "0" + nsn
			n.E164 = "+84" + nsn
			return n
		}
	case len(nsn) == 10 && nsn[0] == '1':
		if r, ok := tables.remap[nsn[:3]]; ok {
			nsn = r.newCode + nsn[3:]
			n.Kind = KindMobile
			n.Carrier = r.carrier
			n.Remapped = true
			n.National = "0" + nsn
			n.E164 = "+84" + nsn
			return n
		}
	case len(nsn) == 10 && nsn[0] == '2':
		code := nsn[:3]
		if nsn[1] == '4' || nsn[1] == '8' {
			code = nsn[:2] // Hà Nội 024 and TP HCM 028: 8-digit subscriber numbers
		}
		if i, ok := tables.byArea[code]; ok {
			n.Kind = KindLandline
			n.National = "0" + nsn
			n.E164 = "+84" + nsn
			n.AreaCode = "0" + code
			n.Province = tables.provinces[i].Code
			return n
		}
	}
	n.Kind = KindInvalid
	return n
}

// uriUser returns the user part of a tel:/sip:/sips: URI (with or without a
// display name and angle brackets), or s itself when it is not a URI.
func uriUser(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		} else {
			s = s[i+1:]
		}
		s = strings.TrimSpace(s)
	}
	lower := strings.ToLower(s)
	isURI := false
	for _, scheme := range []string{"sips:", "sip:", "tel:"} {
		if strings.HasPrefix(lower, scheme) {
			s = s[len(scheme):]
			isURI = true
			break
		}
	}
	if !isURI {
		return s
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i] // user parameters (;npdi, ;phone-context=…)
	}
	return strings.ReplaceAll(s, "%2B", "+")
}

// cleanDigits removes visual separators and returns whether the number began
// with +, its digits, and false if anything other than separators and digits
// (or a + not at the start) was present.
func cleanDigits(s string) (plus bool, digits string, ok bool) {
	var b strings.Builder
	b.Grow(len(s))
	ok = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '+' && b.Len() == 0 && !plus:
			plus = true
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '/' || c == '\t':
		default:
			ok = false
		}
	}
	digits = b.String()
	if digits == "" {
		ok = false
	}
	return plus, digits, ok
}

// CarrierHint returns the carrier that a mobile number's prefix was allocated
// to (mobile_prefixes.csv; old 11-digit numbers through the 2018 conversion
// table), or CarrierUnknown. Because of number portability (NOTES §3) it is a
// hint only: see EffectiveCarrier.
func CarrierHint(number string) Carrier {
	return Normalize(number).Carrier
}

// EffectiveCarrier is the carrier to route a staff number through: the carrier
// stored with the number always wins (the subscriber may have ported the
// number), else the prefix hint.
func EffectiveCarrier(p Phone) Carrier {
	if p.Carrier != CarrierUnknown {
		return p.Carrier
	}
	return CarrierHint(p.E164)
}
