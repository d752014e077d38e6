package dialplan

import "time"

// Carrier is a Vietnamese mobile network, lower case ("" = unknown).
type Carrier string

// Carriers named in ../shared/vn/mobile_prefixes.csv.
const (
	CarrierUnknown      Carrier = ""
	CarrierViettel      Carrier = "viettel"
	CarrierVinaphone    Carrier = "vinaphone"
	CarrierMobifone     Carrier = "mobifone"
	CarrierVietnamobile Carrier = "vietnamobile"
	CarrierGmobile      Carrier = "gmobile"
	CarrierReddi        Carrier = "reddi"
	CarrierItel         Carrier = "itel"
)

// Role is what a staff member does for the hotline; it fixes the fallback order.
type Role string

// Roles, in the order a call falls back through them.
const (
	RoleTechnician      Role = "technician"
	RoleAreaManager     Role = "area_manager"
	RoleRegionalManager Role = "regional_manager"
	RoleOperator        Role = "operator"
)

// Status of a staff member or a café.
type Status string

// Statuses. Cafés use active and terminated (closed); staff use all three.
const (
	StatusActive     Status = "active"
	StatusSuspended  Status = "suspended"
	StatusTerminated Status = "terminated"
)

// MatchedBy says how a call's café (or province) was identified.
type MatchedBy string

// Identification methods.
const (
	MatchedByCallerID MatchedBy = "caller_id"
	MatchedByDTMF     MatchedBy = "dtmf"
	MatchedByAreaCode MatchedBy = "area_code"
	MatchedByNone     MatchedBy = "none"
)

// Province is one of the 63 provinces of the 2017 landline plan. Code is a stable
// ASCII slug of its name ("kien-giang"); MergedInto is the province it belongs to
// since the July 2025 merger (the same name when it was not merged).
type Province struct {
	Code       string
	Name       string // with diacritics, e.g. "Kiên Giang"
	ASCII      string // folded, lower case, e.g. "kien giang"
	AreaCode   string // national form with the 0, e.g. "0297"
	MergedInto string // name of the province since 2025-07-01
}

// Region (vùng miền) groups areas; its manager is the regional manager.
type Region struct {
	Code    string
	Name    string
	Manager string // staff code, "" if none
}

// Area (khu vực) is a set of provinces inside one region, with an area manager.
type Area struct {
	Code      string
	Name      string
	Region    string   // region code
	Manager   string   // staff code, "" if none
	Provinces []string // province codes
}

// Phone is one of a staff member's numbers. Carrier is the carrier stored with the
// number; it wins over the prefix hint (numbers keep their number when they port).
type Phone struct {
	E164    string // "+84945551519"
	Carrier Carrier
}

// Window is a weekly working window in Asia/Ho_Chi_Minh: Day from Start to End,
// both minutes since midnight, Start < End <= 24*60.
type Window struct {
	Day   time.Weekday
	Start int
	End   int
}

// Schedule is when a person works. Always means 24/7, holidays included; a
// person with weekly windows does not work on holidays, nor on the
// compensatory day of a public holiday that falls on one of their weekly rest
// days, the days without a window (Directory.DayOffAt).
type Schedule struct {
	Always  bool
	Windows []Window
}

// Staff is a person the hotline can ring.
type Staff struct {
	Code      string
	Name      string
	Role      Role
	Status    Status
	Phones    []Phone  // in dialling order
	Provinces []string // province codes a technician covers
	Hours     Schedule
}

// Cafe is a customer internet café.
type Cafe struct {
	Code       string
	Name       string
	Province   string   // province code
	Technician string   // assigned technician's staff code, "" = whoever covers the province
	Status     Status   // active or terminated
	Phones     []string // E.164 numbers; a number belongs to at most one café
}

// Refusal records that a technician no longer serves a café.
type Refusal struct {
	Staff string
	Cafe  string
}

// Holiday is a day off from the directory's list (holidays.csv): a company
// day off, or a day of the government's yearly decision, on top of the
// computed public holidays (see Directory.HolidayAt for the entries that
// change those). Region "" means nationwide.
type Holiday struct {
	Date   time.Time // midnight Asia/Ho_Chi_Minh
	Name   string
	Region string
}

// DirectoryData is everything routing needs, as loaded from the database. It is
// turned into an indexed, immutable *Directory by NewDirectory.
type DirectoryData struct {
	Provinces []Province
	Regions   []Region
	Areas     []Area
	Staff     []Staff
	Cafes     []Cafe
	Refusals  []Refusal
	Holidays  []Holiday
}
