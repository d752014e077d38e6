package board

import (
	"cmp"
	"html/template"
	"strconv"
	"time"
)

// inboxPage is what the inbox template renders: every string is ready to
// print.
type inboxPage struct {
	CSS       template.CSS
	CSRF      string
	Who       string // prefilled name
	Notice    string
	Updated   string
	Error     bool
	Masked    bool
	Callbacks bool // the call-back-now button is offered

	Waiting    int
	Voicemails []inboxVM
	Handled    []inboxVM

	ComplaintsWaiting int
	Complaints        []inboxComplaint
	Reviewed          []inboxComplaint
}

type inboxVM struct {
	ID           int64
	Cafe, Number string
	Tel          template.URL
	When, Ago    string
	Length       string // "1:05", "—"
	Audio        string // the recording's URL, relative to /inbox; "" = callback request only
	CallbackTo   []personView
	HandledBy    string
	HandledWhen  string
	Note         string
}

type inboxComplaint struct {
	CallID, Cafe, Caller     string
	StaffName, Staff, Role   string
	Score                    string // "2/5", "" when none
	When, Ago, Talk          string
	ReviewedBy, ReviewedWhen string
	Note                     string
}

func buildInboxPage(d InboxData, now time.Time, o Options) inboxPage {
	number := maskNumber
	if o.FullNumbers {
		number = nationalForm
	}
	p := inboxPage{
		Updated:           now.In(Zone).Format("15:04:05"),
		Masked:            !o.FullNumbers,
		Callbacks:         o.Callbacks != nil,
		Waiting:           max(d.VoicemailsWaiting, len(d.Voicemails)),
		ComplaintsWaiting: max(d.ComplaintsWaiting, len(d.Complaints)),
	}
	vm := func(v InboxVoicemail) inboxVM {
		x := inboxVM{
			ID: v.ID, Cafe: cafeText(v.CafeCode, v.CafeName),
			Number: cmp.Or(number(v.CallbackNumber), "Không rõ số"),
			When:   when(v.Created, now), Ago: age(now.Sub(v.Created)),
			Length: "—", HandledBy: v.HandledBy, Note: v.Note,
		}
		if v.Length > 0 {
			x.Length = clock(v.Length)
		}
		if v.Recorded {
			x.Audio = "inbox/voicemails/" + strconv.FormatInt(v.ID, 10) + "/audio"
		}
		if o.FullNumbers {
			x.Tel = telURL(v.CallbackNumber)
		}
		if !v.HandledAt.IsZero() {
			x.HandledWhen = when(v.HandledAt, now)
		}
		for _, pr := range v.CallbackTo {
			x.CallbackTo = append(x.CallbackTo, personView{Staff: pr.Staff, Name: cmp.Or(pr.Name, pr.Staff), Role: roleText(pr.Role)})
		}
		return x
	}
	for i, v := range d.Voicemails {
		if i == inboxMax {
			break
		}
		p.Voicemails = append(p.Voicemails, vm(v))
	}
	for _, v := range d.Handled {
		p.Handled = append(p.Handled, vm(v))
	}
	cp := func(c InboxComplaint) inboxComplaint {
		x := inboxComplaint{
			CallID: c.CallID, Cafe: cafeText(c.CafeCode, c.CafeName),
			Caller:    cmp.Or(number(c.Caller), "Không rõ số"),
			StaffName: cmp.Or(c.Staff.Name, c.Staff.Staff, "?"), Staff: c.Staff.Staff, Role: roleText(c.Staff.Role),
			When: when(c.CallStarted, now), Ago: age(now.Sub(c.Created)), Talk: clock(c.Talk),
			ReviewedBy: c.ReviewedBy, Note: c.Note,
		}
		if c.Score > 0 {
			x.Score = strconv.Itoa(c.Score) + "/5"
		}
		if !c.ReviewedAt.IsZero() {
			x.ReviewedWhen = when(c.ReviewedAt, now)
		}
		return x
	}
	for i, c := range d.Complaints {
		if i == inboxMax {
			break
		}
		p.Complaints = append(p.Complaints, cp(c))
	}
	for _, c := range d.Reviewed {
		p.Reviewed = append(p.Reviewed, cp(c))
	}
	return p
}
