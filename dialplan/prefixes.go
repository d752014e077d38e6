package dialplan

import "slices"

// MobilePrefixes returns the national mobile prefixes ("096", "097", …)
// allocated to carrier in mobile_prefixes.csv, sorted; nil for a carrier
// with none. The slice is a fresh copy.
func MobilePrefixes(carrier Carrier) []string {
	var out []string
	for ndc, c := range tables.mobile {
		if c == carrier {
			out = append(out, "0"+ndc)
		}
	}
	slices.Sort(out)
	return out
}
