package dialplan

import (
	"strings"
	"unicode"
)

// vietFold maps each lower-case Vietnamese letter with diacritics to its bare
// ASCII letter. đ becomes d (it is a distinct letter, not a diacritic, but
// every ASCII spelling writes it d).
var vietFold = func() map[rune]byte {
	m := map[rune]byte{}
	for base, letters := range map[byte]string{
		'a': "àáảãạăằắẳẵặâầấẩẫậ",
		'e': "èéẻẽẹêềếểễệ",
		'i': "ìíỉĩị",
		'o': "òóỏõọôồốổỗộơờớởỡợ",
		'u': "ùúủũụưừứửữự",
		'y': "ỳýỷỹỵ",
		'd': "đ",
	} {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()

// combining diacritics that decomposed (NFD) Vietnamese text carries.
func isCombiningMark(r rune) bool {
	return unicode.Is(unicode.Mn, r)
}

// Fold returns s in lower case ASCII with Vietnamese diacritics removed
// (đ → d), punctuation other than letters and digits turned into single
// spaces, and surrounding space trimmed: "  Bà Rịa - Vũng Tàu " → "ba ria vung tau".
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		r = unicode.ToLower(r)
		var c byte
		switch {
		case r < 128 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			c = byte(r)
		case vietFold[r] != 0:
			c = vietFold[r]
		case isCombiningMark(r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// A letter outside Vietnamese: keep it as is so that
			// different names never fold to the same key.
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		default:
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	return b.String()
}

// Slug returns the ASCII slug of a name: folded, words joined by '-'
// ("Thừa Thiên Huế" → "thua-thien-hue").
func Slug(s string) string {
	return strings.ReplaceAll(Fold(s), " ", "-")
}
