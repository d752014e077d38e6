package ivr

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTransferKeys feeds the keys of the person who accepted, with the time
// since the previous key, and lists the codes completed.
func TestTransferKeys(t *testing.T) {
	type key struct {
		k   string
		gap time.Duration // since the previous key
	}
	keys := func(s string) []key {
		out := make([]key, 0, len(s))
		for _, r := range s {
			out = append(out, key{string(r), 100 * time.Millisecond})
		}
		return out
	}
	late := func(ks []key, i int) []key { ks[i].gap = 5 * time.Second; return ks }
	for _, tc := range []struct {
		name string
		in   []key
		want []string
	}{
		{"operators", keys("*0#"), []string{"0"}},
		{"a province", keys("*0299#"), []string{"0299"}},
		{"twice", keys("*0299#*0#"), []string{"0299", "0"}},
		{"digits without a star are talk", keys("0299#"), nil},
		{"a star then nothing", keys("*"), nil},
		{"star hash asks for nothing", keys("*#"), nil},
		{"star again starts again", keys("*02*0#"), []string{"0"}},
		{"digits and hash before the star are ignored", keys("12#*0#"), []string{"0"}},
		{"a letter abandons the code", keys("*02A99#"), nil},
		{"a late digit: the star is forgotten", late(keys("*0#"), 1), nil},
		{"a late hash: the code is forgotten", late(keys("*0299#"), 5), nil},
		{"a late star starts a code", late(keys("1*0#"), 1), []string{"0"}},
		{"too long names no province", keys("*0123456789#"), []string{"01234567…"}},
		{"1 pressed again and again while talking", keys("1111"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := transferKeys{interDigit: 4 * time.Second}
			now := time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)
			var got []string
			for _, in := range tc.in {
				now = now.Add(in.gap)
				if code, ok := k.press(in.k, now); ok {
					got = append(got, code)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}
