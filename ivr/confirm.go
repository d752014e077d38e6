package ivr

import (
	"strings"
)

// announcement is what an answering person hears before pressing 1: "hotline
// call from café <code digits>, province <name>, press 1 to accept". A code's
// letters are the LetterPrefix sounds (Asterisk's characters: media, English
// letter names, without one); parts that are not known (unknown café,
// unknown province) are left out.
func (c *call) announcement() []string {
	p := c.s.cfg.Prompts
	c.mu.Lock()
	cafe, province := c.rec.Cafe, c.rec.Province
	c.mu.Unlock()
	first := p.Announce
	if c.cb != nil && p.Callback != "" {
		first = p.Callback // "callback to café …"
	}
	media := sounds(first)
	for _, r := range strings.ToUpper(cafe) {
		switch {
		case r >= '0' && r <= '9' && p.DigitPrefix != "":
			media = append(media, "sound:"+p.DigitPrefix+string(r))
		case r >= '0' && r <= '9':
			media = append(media, "digits:"+string(r))
		case r >= 'A' && r <= 'Z' && p.LetterPrefix != "":
			media = append(media, "sound:"+p.LetterPrefix+string(r-'A'+'a'))
		case r >= 'A' && r <= 'Z':
			media = append(media, "characters:"+string(r))
		}
	}
	if dir := c.s.dir(); dir != nil && province != "" {
		if prov, ok := dir.Province(province); ok && prov.AreaCode != "" && p.ProvincePrefix != "" {
			media = append(media, sounds(p.Province, p.ProvincePrefix+prov.AreaCode)...)
		}
	}
	media = append(media, sounds(p.PressOne)...)
	if len(media) == 0 {
		// Something must be played so the confirmation clock starts after it.
		media = []string{"sound:beep"}
	}
	return media
}
