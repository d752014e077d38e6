package dialplan

import (
	"bytes"
	_ "embed" // numbering tables are embedded copies of ../shared/vn/*.csv
	"encoding/csv"
	"fmt"
	"strings"
)

// The numbering facts, copied verbatim from the shared research in
// /work/shared/vn (see NOTES.md and SOURCES.md there for the sources).
var (
	//go:embed data/mobile_prefixes.csv
	mobilePrefixesCSV []byte
	//go:embed data/mobile_prefix_conversion_2018.csv
	conversionCSV []byte
	//go:embed data/landline_area_codes.csv
	areaCodesCSV []byte
)

// numbering is the parsed form of the embedded tables. It is built once at
// package initialisation and never modified afterwards.
type numbering struct {
	// mobile maps a two-digit national destination code without the 0
	// ("94" for 094) to its carrier.
	mobile map[string]Carrier
	// remap maps an old three-digit code without the 0 ("162" for 0162)
	// to its 2018 replacement without the 0 ("32").
	remap map[string]remapRow
	// provinces in CSV order; byArea maps an area code without the 0
	// ("297", "24") to an index in provinces.
	provinces []Province
	byArea    map[string]int
}

type remapRow struct {
	newCode string // without the leading 0
	carrier Carrier
}

var tables = mustLoadTables()

func mustLoadTables() *numbering {
	n, err := loadTables(mobilePrefixesCSV, conversionCSV, areaCodesCSV)
	if err != nil {
		panic("dialplan: embedded numbering tables: " + err.Error())
	}
	return n
}

func readCSV(name string, data []byte, header string, fields int) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = fields
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != header {
		return nil, fmt.Errorf("%s: header is not %q", name, header)
	}
	return rows[1:], nil
}

func loadTables(mobileCSV, convCSV, areaCSV []byte) (*numbering, error) {
	n := &numbering{
		mobile: map[string]Carrier{},
		remap:  map[string]remapRow{},
		byArea: map[string]int{},
	}
	rows, err := readCSV("mobile_prefixes.csv", mobileCSV, "prefix,carrier", 2)
	if err != nil {
		return nil, err
	}
	for i, row := range rows {
		p := row[0]
		if len(p) != 3 || p[0] != '0' || !allDigits(p) {
			return nil, fmt.Errorf("mobile_prefixes.csv line %d: bad prefix %q", i+2, p)
		}
		n.mobile[p[1:]] = Carrier(row[1])
	}
	rows, err = readCSV("mobile_prefix_conversion_2018.csv", convCSV, "old_prefix,new_prefix,carrier", 3)
	if err != nil {
		return nil, err
	}
	for i, row := range rows {
		oldP, newP := row[0], row[1]
		if len(oldP) != 4 || len(newP) != 3 || !allDigits(oldP) || !allDigits(newP) {
			return nil, fmt.Errorf("mobile_prefix_conversion_2018.csv line %d: bad row %q", i+2, row)
		}
		if _, ok := n.mobile[newP[1:]]; !ok {
			return nil, fmt.Errorf("mobile_prefix_conversion_2018.csv line %d: new prefix %s is not a mobile prefix", i+2, newP)
		}
		n.remap[oldP[1:]] = remapRow{newCode: newP[1:], carrier: Carrier(row[2])}
	}
	rows, err = readCSV("landline_area_codes.csv", areaCSV, "area_code,province_2017_to_2025,province_since_2025_07", 3)
	if err != nil {
		return nil, err
	}
	for i, row := range rows {
		code := row[0]
		if (len(code) != 3 && len(code) != 4) || code[:2] != "02" || !allDigits(code) {
			return nil, fmt.Errorf("landline_area_codes.csv line %d: bad area code %q", i+2, code)
		}
		name := row[1]
		p := Province{
			Code:       Slug(provinceBaseName(name)),
			Name:       name,
			ASCII:      Fold(name),
			AreaCode:   code,
			MergedInto: row[2],
		}
		n.byArea[code[1:]] = len(n.provinces)
		n.provinces = append(n.provinces, p)
	}
	return n, nil
}

// provinceBaseName drops the "TP " (thành phố, city) prefix so that the slug
// of "TP Hồ Chí Minh" is "ho-chi-minh".
func provinceBaseName(name string) string {
	for _, p := range []string{"TP ", "TP. ", "Thành phố "} {
		if strings.HasPrefix(name, p) {
			return name[len(p):]
		}
	}
	return name
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
