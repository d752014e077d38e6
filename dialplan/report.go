package dialplan

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// RouteReport is the stable JSON form of a routing decision, for supervisors
// and for `hotline route NUMBER [--code CAFE] [--at RFC3339] [--json]`.
// Field names are a contract; new fields may be added, none renamed:
//
//	{
//	  "at":         "2025-03-03T10:00:00+07:00",   // the call's time in Asia/Ho_Chi_Minh
//	  "caller": {
//	    "raw": "sip:0945551519@gw", "e164": "+84945551519", "national": "0945551519",
//	    "kind": "mobile",            // mobile|landline|tollfree|premium|short|foreign|anonymous|invalid
//	    "carrier": "vinaphone",      // prefix hint, "" unknown
//	    "area_code": "", "province": "", "remapped": false
//	  },
//	  "cafe": {"code": "001", "name": "…", "province": "kien-giang", "status": "active"}, // null when unknown
//	  "matched_by": "caller_id",     // caller_id|dtmf|area_code|none
//	  "dtmf": "",                    // the code typed, if any
//	  "province": "kien-giang",      // province routed on, "" when unknown
//	  "area": "KG", "region": "MT",
//	  "targets": [{                  // in ringing order, never null
//	    "staff": "T1", "name": "…", "role": "technician",
//	    "number": "+84961000001", "carrier": "viettel",
//	    "trunk": "viettel", "dial": "PJSIP/0961000001@gw-viettel", "ring_seconds": 25,
//	    "reason": "assigned technician of café 001",
//	    "alternate": {"trunk": "default", "dial": "…"}   // or null
//	  }],
//	  "skipped": [{"staff": "T3", "name": "…", "role": "technician",
//	               "reason": "refuses_cafe", "detail": "refuses café 002"}],  // never null
//	  "notes": []                    // never null
//	}
type RouteReport struct {
	At        string         `json:"at"`
	Caller    CallerReport   `json:"caller"`
	Cafe      *CafeReport    `json:"cafe"`
	MatchedBy MatchedBy      `json:"matched_by"`
	DTMF      string         `json:"dtmf"`
	Province  string         `json:"province"`
	Area      string         `json:"area"`
	Region    string         `json:"region"`
	Targets   []TargetReport `json:"targets"`
	Skipped   []SkipReport   `json:"skipped"`
	Notes     []string       `json:"notes"`
}

// CallerReport is RouteReport.caller.
type CallerReport struct {
	Raw      string  `json:"raw"`
	E164     string  `json:"e164"`
	National string  `json:"national"`
	Kind     Kind    `json:"kind"`
	Carrier  Carrier `json:"carrier"`
	AreaCode string  `json:"area_code"`
	Province string  `json:"province"`
	Remapped bool    `json:"remapped"`
}

// CafeReport is RouteReport.cafe.
type CafeReport struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Province string `json:"province"`
	Status   Status `json:"status"`
}

// TargetReport is one element of RouteReport.targets.
type TargetReport struct {
	Staff       string           `json:"staff"`
	Name        string           `json:"name"`
	Role        Role             `json:"role"`
	Number      string           `json:"number"`
	Carrier     Carrier          `json:"carrier"`
	Trunk       string           `json:"trunk"`
	Dial        string           `json:"dial"`
	RingSeconds int              `json:"ring_seconds"`
	Reason      string           `json:"reason"`
	Alternate   *AlternateReport `json:"alternate"`
}

// AlternateReport is TargetReport.alternate: the same number via another trunk.
type AlternateReport struct {
	Trunk string `json:"trunk"`
	Dial  string `json:"dial"`
}

// SkipReport is one element of RouteReport.skipped.
type SkipReport struct {
	Staff  string     `json:"staff"`
	Name   string     `json:"name"`
	Role   Role       `json:"role"`
	Reason SkipReason `json:"reason"`
	Detail string     `json:"detail"`
}

// Report returns the decision in its stable JSON shape.
func (dec Decision) Report() RouteReport {
	id := dec.ID
	c := id.Caller
	r := RouteReport{
		At: dec.At.Format(time.RFC3339),
		Caller: CallerReport{Raw: c.Raw, E164: c.E164, National: c.National, Kind: c.Kind, Carrier: c.Carrier,
			AreaCode: c.AreaCode, Province: c.Province, Remapped: c.Remapped},
		MatchedBy: id.MatchedBy,
		DTMF:      id.DTMF,
		Province:  dec.Province,
		Area:      dec.Area,
		Region:    dec.Region,
		Targets:   make([]TargetReport, 0, len(dec.Targets)),
		Skipped:   make([]SkipReport, 0, len(dec.Skipped)),
		Notes:     append([]string{}, dec.Notes...),
	}
	if r.MatchedBy == "" {
		r.MatchedBy = MatchedByNone
	}
	if id.Cafe != nil {
		r.Cafe = &CafeReport{Code: id.Cafe.Code, Name: id.Cafe.Name, Province: id.Cafe.Province, Status: id.Cafe.Status}
	}
	if id.Note != "" {
		r.Notes = append([]string{id.Note}, r.Notes...)
	}
	for _, t := range dec.Targets {
		tr := TargetReport{Staff: t.Staff, Name: t.Name, Role: t.Role, Number: t.Number, Carrier: t.Carrier,
			Trunk: t.Trunk, Dial: t.Dial, RingSeconds: t.RingSeconds, Reason: t.Reason}
		if t.Alternate != nil {
			tr.Alternate = &AlternateReport{Trunk: t.Alternate.Trunk, Dial: t.Alternate.Dial}
		}
		r.Targets = append(r.Targets, tr)
	}
	for _, s := range dec.Skipped {
		r.Skipped = append(r.Skipped, SkipReport{Staff: s.Staff, Name: s.Name, Role: s.Role, Reason: s.Reason, Detail: s.Detail})
	}
	return r
}

// String explains the identification in one line.
func (id Identification) String() string {
	var b strings.Builder
	b.WriteString("caller ")
	b.WriteString(callerText(id.Caller))
	switch {
	case id.Cafe != nil:
		fmt.Fprintf(&b, "; café %s %q (%s, %s) matched by %s", id.Cafe.Code, id.Cafe.Name, id.Cafe.Province, id.Cafe.Status, id.MatchedBy)
	case id.Province != "":
		fmt.Fprintf(&b, "; café unknown, province %s matched by %s", id.Province, id.MatchedBy)
	default:
		b.WriteString("; café and province unknown")
	}
	if id.DTMF != "" && id.MatchedBy != MatchedByDTMF {
		fmt.Fprintf(&b, "; typed %q", id.DTMF)
	}
	if id.Note != "" {
		b.WriteString("; " + id.Note)
	}
	return b.String()
}

func callerText(n Number) string {
	switch {
	case n.Kind == KindAnonymous:
		return "anonymous"
	case n.E164 == "":
		return fmt.Sprintf("%q (%s)", n.Raw, n.Kind)
	}
	s := n.E164 + " (" + string(n.Kind)
	if n.Carrier != "" {
		s += ", " + string(n.Carrier)
	}
	if n.AreaCode != "" {
		s += ", area code " + n.AreaCode
	}
	if n.Remapped {
		s += ", old number " + n.Raw
	}
	return s + ")"
}

// WriteText writes the decision for a supervisor: who is rung in what order
// and why, then who was left out and why.
func (dec Decision) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "At %s (%s, Asia/Ho_Chi_Minh)\n", dec.At.Format("2006-01-02 15:04"), dec.At.Weekday())
	fmt.Fprintf(&b, "Identified: %s\n", dec.ID)
	if dec.Province != "" {
		fmt.Fprintf(&b, "Routing on province %s", dec.Province)
		if dec.Area != "" {
			fmt.Fprintf(&b, ", area %s", dec.Area)
		}
		if dec.Region != "" {
			fmt.Fprintf(&b, ", region %s", dec.Region)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("Routing to operators only\n")
	}
	b.WriteString("Ring, in order:\n")
	if len(dec.Targets) == 0 {
		b.WriteString("  (nobody)\n")
	}
	for i, t := range dec.Targets {
		carrier := string(t.Carrier)
		if carrier == "" {
			carrier = "unknown carrier"
		}
		fmt.Fprintf(&b, "  %d. %s %s (%s) %s [%s] via %s %q for %ds: %s\n",
			i+1, t.Staff, t.Name, t.Role, t.Number, carrier, t.Trunk, t.Dial, t.RingSeconds, t.Reason)
		if t.Alternate != nil {
			fmt.Fprintf(&b, "     on congestion: via %s %q\n", t.Alternate.Trunk, t.Alternate.Dial)
		}
	}
	if len(dec.Skipped) > 0 {
		b.WriteString("Skipped:\n")
		for _, s := range dec.Skipped {
			fmt.Fprintf(&b, "  - %s %s (%s): %s", s.Staff, s.Name, s.Role, s.Reason)
			if s.Detail != "" {
				fmt.Fprintf(&b, " (%s)", s.Detail)
			}
			b.WriteString("\n")
		}
	}
	for _, n := range dec.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String is WriteText into a string.
func (dec Decision) String() string {
	var b strings.Builder
	_ = dec.WriteText(&b)
	return b.String()
}
