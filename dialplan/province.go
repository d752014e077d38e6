package dialplan

import "strings"

// Provinces returns the 63 provinces of the 2017 landline plan in the order of
// landline_area_codes.csv. The slice is a fresh copy.
func Provinces() []Province {
	return append([]Province(nil), tables.provinces...)
}

// provinceAliases are other names people type for a few provinces, keyed by
// their folded form.
var provinceAliases = map[string]string{
	"hcm":                   "ho-chi-minh",
	"tp hcm":                "ho-chi-minh",
	"tphcm":                 "ho-chi-minh",
	"thanh pho ho chi minh": "ho-chi-minh",
	"sai gon":               "ho-chi-minh",
	"saigon":                "ho-chi-minh",
	"hn":                    "ha-noi",
	"hue":                   "thua-thien-hue", // Huế city since 2025 (NOTES §6)
	"brvt":                  "ba-ria-vung-tau",
	"vung tau":              "ba-ria-vung-tau",
}

// provinceIndex maps every accepted key (folded name, folded name without
// "tp", slug, alias, area code with and without its 0) to an index in
// tables.provinces.
var provinceIndex = func() map[string]int {
	m := map[string]int{}
	bySlug := map[string]int{}
	for i, p := range tables.provinces {
		bySlug[p.Code] = i
		m[p.ASCII] = i
		m[Fold(provinceBaseName(p.Name))] = i
		m[p.Code] = i
		m[p.AreaCode] = i
		m[p.AreaCode[1:]] = i
	}
	for alias, code := range provinceAliases {
		if i, ok := bySlug[code]; ok {
			m[alias] = i
		}
	}
	return m
}()

// LookupProvince finds a province by name with or without diacritics, in any
// case and spacing ("Kiên Giang", "kien  giang", "KIEN GIANG"), by slug
// ("kien-giang"), by a few common aliases ("TP HCM", "Sài Gòn"), or by its
// landline area code ("0297" or "297").
func LookupProvince(s string) (Province, bool) {
	key := strings.TrimSpace(s)
	if i, ok := provinceIndex[key]; ok {
		return tables.provinces[i], true
	}
	key = Fold(key)
	if i, ok := provinceIndex[key]; ok {
		return tables.provinces[i], true
	}
	// "Tỉnh Kiên Giang", "Thành phố Hà Nội", "TP. Hà Nội".
	for _, p := range []string{"tinh ", "thanh pho ", "tp "} {
		if rest, ok := strings.CutPrefix(key, p); ok {
			if i, ok := provinceIndex[rest]; ok {
				return tables.provinces[i], true
			}
		}
	}
	return Province{}, false
}
