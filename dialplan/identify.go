package dialplan

import "strings"

// Identification is who is calling, as far as the hotline can tell.
type Identification struct {
	Caller    Number
	Cafe      *Cafe  // nil when unknown; points into the Directory
	Province  string // province code; "" when unknown
	MatchedBy MatchedBy
	DTMF      string // the café code typed, if any
	Note      string // why a tried method did not match, for the supervisor
}

// Identify works out the calling café, in this order:
//
//  1. caller_id: the caller's E.164 number is one of a café's numbers;
//  2. dtmf: the digits typed are a café code (see Directory.CafeByDTMF:
//     leading zeros and a letter prefix of the code do not matter, '#'/'*'
//     are ignored);
//  3. area_code: the caller is a landline, whose area code gives the province
//     (café unknown);
//  4. none.
//
// A café found by caller ID or code is returned even when terminated; Plan
// then routes the call to operators only. dir may be nil (nothing matches
// but the area code).
func Identify(dir *Directory, caller Number, dtmfCode string) Identification {
	id := Identification{Caller: caller, MatchedBy: MatchedByNone, DTMF: strings.TrimSpace(dtmfCode)}
	if dir != nil && caller.E164 != "" {
		if c := dir.cafe(dir.cafeByPhone, caller.E164); c != nil {
			id.Cafe, id.Province, id.MatchedBy = c, c.Province, MatchedByCallerID
			return id
		}
	}
	if dir != nil && id.DTMF != "" {
		if c, ok := dir.CafeByDTMF(id.DTMF); ok {
			id.Cafe, id.Province, id.MatchedBy = c, c.Province, MatchedByDTMF
			return id
		}
		id.Note = "code " + id.DTMF + " matches no café"
	}
	if caller.Kind == KindLandline && caller.Province != "" {
		id.Province, id.MatchedBy = caller.Province, MatchedByAreaCode
	}
	return id
}
