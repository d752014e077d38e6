package board

import (
	"cmp"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"
)

// page is what the template renders: every string is ready to print.
type page struct {
	CSS       template.CSS
	Refresh   int    // seconds
	Updated   string // "14:32:05"
	Date      string // "25/11/2025"
	Calls     []callView
	OnCall    []personView
	Regions   []totalsView
	Total     totalsView
	Voicemail voicemailView
	Error     bool
	Masked    bool // numbers are masked (not Options.FullNumbers)
	Inbox     bool // the inbox is served: link to it
	Report    bool // link to the monthly report (Options.Report set)

	// CallbacksPending counts the cafés waiting to be called back.
	CallbacksPending int
}

type callView struct {
	ID, State, StateText, StateEN, StateClass string
	Cafe, CafeCode, CafeName, Province        string
	Region, Caller                            string
	TargetLabel                               string
	Target                                    *personView
	Transfer                                  *transferView
	InState, Lasted                           string // clocks
	Late                                      bool
	Callback                                  bool   // the hotline calls the café back
	Node                                      string // the Asterisk node ("" with one node)
}

// transferView is a transfer in progress: from whom, to where.
type transferView struct {
	From     personView
	FromGone bool
	To       string // "Sóc Trăng", "Tổng đài viên"
}

type personView struct {
	Staff, Name, Role, Number string
	For                       string // clock since Since
	With                      string // café of the bridged call, if known
}

type totalsView struct {
	Region, Name                                                           string
	Offered, Answered, Abandoned, Voicemail, NoAnswer, Failed, Interrupted int
	AnsweredPct                                                            string // "83%", "—" when nothing ended
	All                                                                    bool   // the sum of all regions
}

type voicemailView struct {
	Waiting int
	Oldest  string // age of the oldest, "" if none
	Latest  []vmView
}

type vmView struct {
	ID           int64
	Cafe, Number string
	Tel          template.URL // "tel:+84…", digits only; "" for no link
	When, Ago    string
}

// buildPage turns a snapshot into the page model. now is the snapshot's
// instant; the snapshot's slices are not modified.
func buildPage(s Snapshot, now time.Time, o Options) page {
	p := page{
		Refresh: int(o.Refresh / time.Second),
		Updated: now.In(Zone).Format("15:04:05"),
		Date:    now.In(Zone).Format("02/01/2006"),
		Masked:  !o.FullNumbers,
		Inbox:   o.Inbox != nil,
		Report:  o.Report != nil,
	}
	regionNames := map[string]string{}
	for _, t := range s.Today {
		regionNames[t.Region] = t.Name
	}
	number := maskNumber
	if o.FullNumbers {
		number = nationalForm
	}

	calls := slices.Clone(s.Calls)
	slices.SortStableFunc(calls, func(a, b Call) int { return a.Started.Compare(b.Started) })
	withCafe := map[string]string{}
	for _, c := range calls {
		st := stateOf(c.State)
		since := c.StateSince
		if since.IsZero() {
			since = c.Started
		}
		v := callView{
			ID: c.ID, State: c.State, StateText: st.vi, StateEN: st.en, StateClass: st.class,
			CafeCode: c.CafeCode, CafeName: c.CafeName, Cafe: cafeText(c.CafeCode, c.CafeName),
			Province: c.Province, Region: cmp.Or(regionNames[c.Region], c.Region),
			Caller:  cmp.Or(number(c.Caller), "Không rõ số"),
			InState: sinceClock(since, now), Lasted: sinceClock(c.Started, now),
			TargetLabel: st.target, Callback: c.Callback, Node: c.Node,
		}
		// A call being transferred was answered: never "waiting long".
		v.Late = c.State != StateBridged && c.State != StateTransferring && o.WarnAfter > 0 && !c.Started.IsZero() &&
			now.Sub(c.Started) >= o.WarnAfter
		if c.Target != nil {
			pv := personOf(*c.Target, now, number)
			v.Target = &pv
			if c.State == StateBridged && c.Target.Staff != "" {
				withCafe[c.Target.Staff] = v.Cafe
			}
		}
		if x := c.Transfer; x != nil {
			to := x.To
			if to == "operators" {
				to = roleText(RoleOperator)
			}
			v.Transfer = &transferView{From: personOf(x.From, now, number), FromGone: x.FromGone, To: to}
		}
		p.Calls = append(p.Calls, v)
	}

	onCall := slices.Clone(s.OnCall)
	slices.SortStableFunc(onCall, func(a, b Person) int { return a.Since.Compare(b.Since) })
	for _, pr := range onCall {
		pv := personOf(pr, now, number)
		pv.With = withCafe[pr.Staff]
		p.OnCall = append(p.OnCall, pv)
	}

	p.Total = totalsView{Name: "Tổng cộng", All: true}
	for _, t := range s.Today {
		v := totalsOf(t)
		v.Name = cmp.Or(t.Name, t.Region, "Chưa rõ vùng")
		p.Regions = append(p.Regions, v)
		p.Total.add(t)
	}
	p.Total.AnsweredPct = pct(p.Total)

	p.CallbacksPending = s.CallbacksPending
	p.Voicemail.Waiting = s.VoicemailsWaiting
	if !s.OldestVoicemail.IsZero() && s.VoicemailsWaiting > 0 {
		p.Voicemail.Oldest = age(now.Sub(s.OldestVoicemail))
	}
	limit := o.Voicemails
	for i, vm := range s.Voicemails {
		if i == limit {
			break
		}
		v := vmView{
			ID: vm.ID, Cafe: cafeText(vm.CafeCode, vm.CafeName),
			Number: cmp.Or(number(vm.CallbackNumber), "Không rõ số"),
			When:   when(vm.Created, now), Ago: age(now.Sub(vm.Created)),
		}
		if o.FullNumbers {
			v.Tel = telURL(vm.CallbackNumber)
		}
		p.Voicemail.Latest = append(p.Voicemail.Latest, v)
	}
	return p
}

func cafeText(code, name string) string {
	switch {
	case code == "" && name == "":
		return "Chưa xác định quán"
	case code == "":
		return name
	case name == "":
		return code
	}
	return code + " — " + name
}

func personOf(p Person, now time.Time, number func(string) string) personView {
	return personView{
		Staff: p.Staff, Name: cmp.Or(p.Name, p.Staff, "?"), Role: roleText(p.Role),
		Number: number(p.Number), For: sinceClock(p.Since, now),
	}
}

func sinceClock(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return clock(now.Sub(t))
}

func totalsOf(t RegionTotals) totalsView {
	v := totalsView{Region: t.Region}
	v.add(t)
	v.AnsweredPct = pct(v)
	return v
}

func (v *totalsView) add(t RegionTotals) {
	v.Offered += t.Offered
	v.Answered += t.Answered
	v.Abandoned += t.Abandoned
	v.Voicemail += t.Voicemail
	v.NoAnswer += t.NoAnswer
	v.Failed += t.Failed
	v.Interrupted += t.Interrupted
}

// pct is the share of ended calls that a person answered.
func pct(v totalsView) string {
	ended := v.Answered + v.Abandoned + v.Voicemail + v.NoAnswer + v.Failed + v.Interrupted
	if ended == 0 {
		return "—"
	}
	return strconv.Itoa((v.Answered*200+ended)/(2*ended)) + "%" // rounded half up
}

// telURL is a tel: link to n built from its digits (and a leading "+")
// only, so nothing but a phone number can reach the href; "" when n has
// fewer than three digits.
func telURL(n string) template.URL {
	n = strings.TrimSpace(n)
	var b strings.Builder
	if strings.HasPrefix(n, "+") {
		b.WriteByte('+')
	}
	digits := 0
	for _, r := range n {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
			digits++
		}
	}
	if digits < 3 {
		return ""
	}
	return template.URL("tel:" + b.String()) //nolint:gosec // digits and "+" only
}
