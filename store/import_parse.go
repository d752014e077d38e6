package store

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/csm-vn/hotline/dialplan"
)

// importer validates the rows of all files against the current directory
// merged with the files read so far, collecting every problem, and keeps
// the records to write.
type importer struct {
	cur dialplan.DirectoryData

	// Current state by code, overridden by file rows as kinds are parsed.
	staff   map[string]dialplan.Staff
	regions map[string]dialplan.Region
	areas   map[string]dialplan.Area
	cafes   map[string]dialplan.Cafe // by CafeKey
	// Rows read from the files, by kind, in file order.
	fileStaff    []staffRow
	fileRegions  []regionRow
	fileAreas    []areaRow
	fileCafes    []cafeRow
	fileHolidays []holidayRow

	errs     []RowError
	warnings []string
}

type origin struct {
	file string
	line int
}

func (o origin) String() string { return fmt.Sprintf("%s:%d", o.file, o.line) }

type staffRow struct {
	origin
	dialplan.Staff
}
type regionRow struct {
	origin
	dialplan.Region
}
type areaRow struct {
	origin
	dialplan.Area
}
type cafeRow struct {
	origin
	dialplan.Cafe
}
type holidayRow struct {
	origin
	dialplan.Holiday
}

func newImporter(cur dialplan.DirectoryData) *importer {
	im := &importer{cur: cur, staff: map[string]dialplan.Staff{}, regions: map[string]dialplan.Region{},
		areas: map[string]dialplan.Area{}, cafes: make(map[string]dialplan.Cafe, len(cur.Cafes))}
	for _, s := range cur.Staff {
		im.staff[s.Code] = s
	}
	for _, r := range cur.Regions {
		im.regions[r.Code] = r
	}
	for _, a := range cur.Areas {
		im.areas[a.Code] = a
	}
	for _, c := range cur.Cafes {
		im.cafes[dialplan.CafeKey(c.Code)] = c
	}
	return im
}

func (im *importer) fail(o origin, col, format string, args ...any) {
	im.errs = append(im.errs, RowError{File: o.file, Line: o.line, Column: col, Reason: fmt.Sprintf(format, args...)})
}

func (im *importer) warn(o origin, col, format string, args ...any) {
	im.warnings = append(im.warnings, fmt.Sprintf("%s:%d: %s: %s", o.file, o.line, col, fmt.Sprintf(format, args...)))
}

func (im *importer) parse(t *table) {
	switch t.kind {
	case KindStaff:
		im.parseStaff(t)
	case KindRegions:
		im.parseRegions(t)
	case KindAreas:
		im.parseAreas(t)
	case KindCafes:
		im.parseCafes(t)
	case KindHolidays:
		im.parseHolidays(t)
	}
}

var codePattern = regexp.MustCompile(`^[\p{L}\p{N}._/-]+$`)

// code checks a row's code and that it is not repeated in the files.
func (im *importer) code(t *table, r row, o origin, seen map[string]origin, key func(string) string) (string, bool) {
	code := t.get(r, "code")
	switch {
	case code == "":
		im.fail(o, "code", "empty")
		return "", false
	case !codePattern.MatchString(code):
		im.fail(o, "code", "%q: use letters, digits, '.', '_', '-' or '/' only", code)
		return "", false
	}
	k := key(code)
	if prev, dup := seen[k]; dup {
		im.fail(o, "code", "%q is also on %s", code, prev)
		return "", false
	}
	seen[k] = o
	return code, true
}

func same(s string) string { return s }

func (im *importer) name(t *table, r row, o origin) string {
	name := t.get(r, "name")
	if name == "" {
		im.fail(o, "name", "empty")
	}
	return name
}

// --- staff ---

var roleNames = map[string]dialplan.Role{
	"technician": dialplan.RoleTechnician, "ktv": dialplan.RoleTechnician,
	"area_manager": dialplan.RoleAreaManager, "regional_manager": dialplan.RoleRegionalManager,
	"operator": dialplan.RoleOperator,
}

var carrierNames = map[string]dialplan.Carrier{
	"viettel": dialplan.CarrierViettel, "vinaphone": dialplan.CarrierVinaphone, "mobifone": dialplan.CarrierMobifone,
	"vietnamobile": dialplan.CarrierVietnamobile, "gmobile": dialplan.CarrierGmobile, "reddi": dialplan.CarrierReddi,
	"itel": dialplan.CarrierItel,
}

func (im *importer) parseStaff(t *table) {
	seen := map[string]origin{}
	for _, s := range im.fileStaff {
		seen[s.Code] = s.origin
	}
	for _, r := range t.rows {
		o := origin{t.file, r.line}
		code, okCode := im.code(t, r, o, seen, same)
		s := dialplan.Staff{Code: code, Name: im.name(t, r, o)}

		roleText := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(t.get(r, "role")))
		role, ok := roleNames[roleText]
		if !ok {
			im.fail(o, "role", "unknown role %q (want technician, area_manager, regional_manager or operator)", t.get(r, "role"))
		}
		s.Role = role
		s.Status = im.status(t, r, o, true)

		hours, err := dialplan.ParseSchedule(t.get(r, "hours"))
		if err != nil {
			im.fail(o, "hours", "%v", err)
		}
		s.Hours = hours

		nerr := len(im.errs)
		seenPhone := map[string]bool{}
		for _, item := range splitList(t.get(r, "phones")) {
			raw, carrierText, hasCarrier := strings.Cut(item, ":")
			n := dialplan.Normalize(raw)
			if !n.Dialable() {
				im.fail(o, "phones", "%q is %s; staff numbers must be Vietnamese mobile or landline numbers",
					strings.TrimSpace(raw), kindText(n.Kind))
				continue
			}
			var carrier dialplan.Carrier
			if hasCarrier {
				c, ok := carrierNames[strings.ToLower(strings.TrimSpace(carrierText))]
				if !ok {
					im.fail(o, "phones", "%s: unknown carrier %q (want viettel, vinaphone, mobifone, vietnamobile, gmobile, reddi or itel)",
						strings.TrimSpace(raw), strings.TrimSpace(carrierText))
					continue
				}
				carrier = c
			}
			if seenPhone[n.E164] {
				im.warn(o, "phones", "%s listed twice; kept once", n.National)
				continue
			}
			seenPhone[n.E164] = true
			if n.Remapped {
				im.warn(o, "phones", "old 11-digit number %s stored as %s", strings.TrimSpace(raw), n.National)
			}
			s.Phones = append(s.Phones, dialplan.Phone{E164: n.E164, Carrier: carrier})
		}
		if len(s.Phones) == 0 && s.Status != dialplan.StatusTerminated && len(im.errs) == nerr {
			im.fail(o, "phones", "no number (a person the hotline can ring needs at least one)")
		}

		provinces := im.provinces(t, r, o, "provinces")
		switch {
		case s.Role == dialplan.RoleTechnician:
			if len(provinces) == 0 && s.Status != dialplan.StatusTerminated && t.get(r, "provinces") == "" {
				im.fail(o, "provinces", "a technician must cover at least one province")
			}
			s.Provinces = provinces
		case len(provinces) > 0:
			im.warn(o, "provinces", "ignored for a %s (areas.csv says which provinces a manager has)", s.Role)
		}
		if okCode {
			im.staff[code] = s
			im.fileStaff = append(im.fileStaff, staffRow{o, s})
		}
	}
}

// status reads the status column: "" = active.
func (im *importer) status(t *table, r row, o origin, staff bool) dialplan.Status {
	text := strings.ToLower(t.get(r, "status"))
	switch {
	case text == "" || text == "active":
		return dialplan.StatusActive
	case text == "terminated":
		return dialplan.StatusTerminated
	case text == "suspended" && staff:
		return dialplan.StatusSuspended
	case staff:
		im.fail(o, "status", "unknown status %q (want active, suspended or terminated)", t.get(r, "status"))
	default:
		im.fail(o, "status", "unknown status %q (want active or terminated)", t.get(r, "status"))
	}
	return dialplan.StatusActive
}

// provinces reads a list of provinces given by name (any case, with or
// without diacritics), slug or landline area code, as sorted codes.
func (im *importer) provinces(t *table, r row, o origin, col string) []string {
	var out []string
	for _, p := range splitList(t.get(r, col)) {
		prov, ok := dialplan.LookupProvince(p)
		if !ok {
			im.fail(o, col, "unknown province %q", p)
			continue
		}
		if !slices.Contains(out, prov.Code) {
			out = append(out, prov.Code)
		}
	}
	return sortedCopy(out)
}

// kindText describes a number kind in an error message.
func kindText(k dialplan.Kind) string {
	switch k {
	case dialplan.KindTollFree:
		return "a toll-free (1800) number"
	case dialplan.KindPremium:
		return "a premium-rate (1900) number"
	case dialplan.KindShort:
		return "a short or emergency number"
	case dialplan.KindForeign:
		return "a foreign number"
	case dialplan.KindAnonymous:
		return "not a number"
	default:
		return "not a valid Vietnamese number"
	}
}

// staffRef checks a reference to a staff member of the given role.
func (im *importer) staffRef(o origin, col, code string, role dialplan.Role) {
	if code == "" {
		return
	}
	s, ok := im.staff[code]
	switch {
	case !ok:
		im.fail(o, col, "unknown staff %q", code)
	case s.Role != role:
		im.fail(o, col, "%q is %s, not %s", code, article(s.Role), role)
	}
}

func article(r dialplan.Role) string {
	if strings.ContainsRune("aeiou", rune(r[0])) {
		return "an " + string(r)
	}
	return "a " + string(r)
}

// --- regions ---

func (im *importer) parseRegions(t *table) {
	seen := map[string]origin{}
	for _, r := range im.fileRegions {
		seen[r.Code] = r.origin
	}
	for _, r := range t.rows {
		o := origin{t.file, r.line}
		code, okCode := im.code(t, r, o, seen, same)
		reg := dialplan.Region{Code: code, Name: im.name(t, r, o), Manager: t.get(r, "manager")}
		im.staffRef(o, "manager", reg.Manager, dialplan.RoleRegionalManager)
		if okCode {
			im.regions[code] = reg
			im.fileRegions = append(im.fileRegions, regionRow{o, reg})
		}
	}
}

// --- areas ---

func (im *importer) parseAreas(t *table) {
	seen := map[string]origin{}
	for _, a := range im.fileAreas {
		seen[a.Code] = a.origin
	}
	// Which area has each province: the database's areas, then the files'.
	owner := map[string]string{}
	for _, a := range im.cur.Areas {
		for _, p := range a.Provinces {
			owner[p] = a.Code
		}
	}
	fileOwner := map[string]areaRow{}
	inFile := map[string]bool{}
	for _, a := range im.fileAreas {
		inFile[a.Code] = true
		for _, p := range a.Provinces {
			fileOwner[p] = a
		}
	}
	for _, r := range t.rows {
		if c := t.get(r, "code"); c != "" {
			inFile[c] = true
		}
	}
	for _, r := range t.rows {
		o := origin{t.file, r.line}
		code, okCode := im.code(t, r, o, seen, same)
		a := dialplan.Area{Code: code, Name: im.name(t, r, o), Region: t.get(r, "region"), Manager: t.get(r, "manager")}
		switch _, ok := im.regions[a.Region]; {
		case a.Region == "":
			im.fail(o, "region", "empty")
		case !ok:
			im.fail(o, "region", "unknown region %q", a.Region)
		}
		im.staffRef(o, "manager", a.Manager, dialplan.RoleAreaManager)
		a.Provinces = im.provinces(t, r, o, "provinces")
		if len(a.Provinces) == 0 && t.get(r, "provinces") == "" {
			im.fail(o, "provinces", "an area needs at least one province")
		}
		for _, p := range a.Provinces {
			if other, ok := fileOwner[p]; ok && other.Code != code {
				im.fail(o, "provinces", "%s is also in area %s on %s", provinceName(p), other.Code, other.origin)
			} else if dbArea, ok := owner[p]; ok && dbArea != code && !inFile[dbArea] {
				im.fail(o, "provinces", "%s is already in area %s", provinceName(p), dbArea)
			}
		}
		if okCode {
			ar := areaRow{o, a}
			for _, p := range a.Provinces {
				if _, taken := fileOwner[p]; !taken {
					fileOwner[p] = ar
				}
			}
			im.areas[code] = a
			im.fileAreas = append(im.fileAreas, ar)
		}
	}
}

func provinceName(code string) string {
	if p, ok := dialplan.LookupProvince(code); ok {
		return p.Name
	}
	return code
}

// --- cafés ---

func (im *importer) parseCafes(t *table) {
	seen := map[string]origin{}
	for _, c := range im.fileCafes {
		seen[dialplan.CafeKey(c.Code)] = c.origin
	}
	// Owner of each number: the database's cafés, then the files'.
	dbOwner := map[string]string{}
	for _, c := range im.cur.Cafes {
		for _, p := range c.Phones {
			dbOwner[p] = c.Code
		}
	}
	fileOwner := map[string]cafeRow{}
	inFile := map[string]bool{}
	for _, c := range im.fileCafes {
		inFile[dialplan.CafeKey(c.Code)] = true
		for _, p := range c.Phones {
			fileOwner[p] = c
		}
	}
	for _, r := range t.rows {
		if c := t.get(r, "code"); c != "" {
			inFile[dialplan.CafeKey(c)] = true
		}
	}
	for _, r := range t.rows {
		o := origin{t.file, r.line}
		code, okCode := im.code(t, r, o, seen, dialplan.CafeKey)
		c := dialplan.Cafe{Code: code, Name: im.name(t, r, o), Technician: t.get(r, "technician")}
		if okCode {
			if old, ok := im.cafes[dialplan.CafeKey(code)]; ok && old.Code != code {
				im.fail(o, "code", "%q is the same café code as %q already in the database "+
					"(codes ignore case and leading zeros); use %q", code, old.Code, old.Code)
				okCode = false
			}
		}
		switch provText := t.get(r, "province"); {
		case provText == "":
			im.fail(o, "province", "empty")
		default:
			if p, ok := dialplan.LookupProvince(provText); ok {
				c.Province = p.Code
			} else {
				im.fail(o, "province", "unknown province %q", provText)
			}
		}
		im.staffRef(o, "technician", c.Technician, dialplan.RoleTechnician)
		c.Status = im.status(t, r, o, false)
		for _, raw := range splitList(t.get(r, "phones")) {
			n := dialplan.Normalize(raw)
			if !n.Dialable() {
				im.fail(o, "phones", "%q is %s; café numbers must be Vietnamese mobile or landline numbers", raw, kindText(n.Kind))
				continue
			}
			if slices.Contains(c.Phones, n.E164) {
				im.warn(o, "phones", "%s listed twice; kept once", n.National)
				continue
			}
			if other, ok := fileOwner[n.E164]; ok {
				im.fail(o, "phones", "%s is also a number of café %s on %s", n.National, other.Code, other.origin)
				continue
			}
			if owner, ok := dbOwner[n.E164]; ok && dialplan.CafeKey(owner) != dialplan.CafeKey(code) && !inFile[dialplan.CafeKey(owner)] {
				im.fail(o, "phones", "%s already belongs to café %s", n.National, owner)
				continue
			}
			if n.Remapped {
				im.warn(o, "phones", "old 11-digit number %s stored as %s", raw, n.National)
			}
			c.Phones = append(c.Phones, n.E164)
		}
		if okCode {
			cr := cafeRow{o, c}
			for _, p := range c.Phones {
				fileOwner[p] = cr
			}
			im.cafes[dialplan.CafeKey(code)] = c
			im.fileCafes = append(im.fileCafes, cr)
		}
	}
}

// --- holidays ---

var dateLayouts = []string{"2006-01-02", "02/01/2006", "2/1/2006"}

func (im *importer) parseHolidays(t *table) {
	seen := map[string]origin{}
	for _, h := range im.fileHolidays {
		seen[holidayKey(h.Holiday)] = h.origin
	}
	for _, r := range t.rows {
		o := origin{t.file, r.line}
		h := dialplan.Holiday{Name: im.name(t, r, o), Region: t.get(r, "region")}
		text := t.get(r, "date")
		var day time.Time
		var err error
		for _, layout := range dateLayouts {
			if day, err = time.ParseInLocation(layout, text, dialplan.Location()); err == nil {
				break
			}
		}
		if err != nil {
			im.fail(o, "date", "%q is not a date (want YYYY-MM-DD or DD/MM/YYYY)", text)
			continue
		}
		h.Date = day
		if h.Region != "" {
			if _, ok := im.regions[h.Region]; !ok {
				im.fail(o, "region", "unknown region %q", h.Region)
			}
		}
		k := holidayKey(h)
		if prev, dup := seen[k]; dup {
			im.fail(o, "date", "%s is also on %s", text, prev)
			continue
		}
		seen[k] = o
		im.fileHolidays = append(im.fileHolidays, holidayRow{o, h})
	}
}

func holidayKey(h dialplan.Holiday) string {
	return h.Date.Format(time.DateOnly) + "/" + h.Region
}
