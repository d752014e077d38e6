package dialplan

import "slices"

// RouteNumber picks how to dial one number outside a Plan (a café called
// back, a person a supervisor chose): through its carrier's trunk, else the
// default trunk, like Plan; the alternate is the same number through the
// default trunk (when the first was the carrier's own), else the next
// configured trunk by name; nil when there is none. ok is false when the
// number cannot be dialled (not a Vietnamese mobile or landline number) or
// no trunk is configured for it.
func (t Trunks) RouteNumber(n Number, carrier Carrier) (primary Route, alternate *Route, ok bool) {
	if !n.Dialable() || len(t) == 0 {
		return Route{}, nil, false
	}
	ph := dialPhone{e164: n.E164, national: n.National}
	want := ""
	if carrier != CarrierUnknown {
		if _, has := t[string(carrier)]; has {
			want = string(carrier)
		}
	}
	if want == "" {
		if _, has := t[DefaultTrunk]; !has {
			return Route{}, nil, false
		}
		want = DefaultTrunk
	}
	primary = Route{Trunk: want, Dial: dialString(t[want], ph)}
	next := ""
	if want != DefaultTrunk {
		if _, has := t[DefaultTrunk]; has {
			next = DefaultTrunk
		}
	}
	if next == "" {
		names := make([]string, 0, len(t))
		for name := range t {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if name != want {
				next = name
				break
			}
		}
	}
	if next != "" {
		alternate = &Route{Trunk: next, Dial: dialString(t[next], ph)}
	}
	return primary, alternate, true
}
