package dialplan

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func w(d time.Weekday, start, end string) Window {
	s, _ := parseClock(start)
	e, _ := parseClock(end)
	return Window{Day: d, Start: s, End: e}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in   string
		want Schedule
		str  string
	}{
		{"", Schedule{Always: true}, "24/7"},
		{" 24/7 ", Schedule{Always: true}, "24/7"},
		{"never", Schedule{}, "never"},
		{"Mon-Sat 07:00-22:00; Sun 08:00-12:00", Schedule{Windows: []Window{
			w(1, "07:00", "22:00"), w(2, "07:00", "22:00"), w(3, "07:00", "22:00"), w(4, "07:00", "22:00"),
			w(5, "07:00", "22:00"), w(6, "07:00", "22:00"), w(0, "08:00", "12:00"),
		}}, "Mon-Sat 07:00-22:00; Sun 08:00-12:00"},
		{"mon,wed 8:00-12:00, 13:30 - 17:30", Schedule{Windows: []Window{
			w(1, "08:00", "12:00"), w(1, "13:30", "17:30"), w(3, "08:00", "12:00"), w(3, "13:30", "17:30"),
		}}, "Mon,Wed 08:00-12:00,13:30-17:30"},
		// Overnight windows split at midnight; Friday night runs into Saturday.
		{"Mon-Fri 22:00-06:00", Schedule{Windows: []Window{
			w(1, "22:00", "24:00"), w(2, "00:00", "06:00"), w(2, "22:00", "24:00"), w(3, "00:00", "06:00"),
			w(3, "22:00", "24:00"), w(4, "00:00", "06:00"), w(4, "22:00", "24:00"), w(5, "00:00", "06:00"),
			w(5, "22:00", "24:00"), w(6, "00:00", "06:00"),
		}}, "Mon 22:00-24:00; Tue-Fri 00:00-06:00,22:00-24:00; Sat 00:00-06:00"},
		// Sunday night wraps to Monday.
		{"Sun 20:00-02:00", Schedule{Windows: []Window{w(1, "00:00", "02:00"), w(0, "20:00", "24:00")}}, "Mon 00:00-02:00; Sun 20:00-24:00"},
		{"Sat-Mon 18:00-24:00", Schedule{Windows: []Window{w(1, "18:00", "24:00"), w(6, "18:00", "24:00"), w(0, "18:00", "24:00")}}, "Mon,Sat-Sun 18:00-24:00"},
		// Overlaps merge.
		{"Mon 08:00-12:00; Monday 11:00-14:00,14:00-15:00;", Schedule{Windows: []Window{w(1, "08:00", "15:00")}}, "Mon 08:00-15:00"},
		{"Mon-Sun 00:00-24:00", Schedule{Windows: []Window{
			w(1, "00:00", "24:00"), w(2, "00:00", "24:00"), w(3, "00:00", "24:00"), w(4, "00:00", "24:00"),
			w(5, "00:00", "24:00"), w(6, "00:00", "24:00"), w(0, "00:00", "24:00"),
		}}, "Mon-Sun 00:00-24:00"},
	}
	for _, tt := range tests {
		got, err := ParseSchedule(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
		require.Equal(t, tt.str, got.String(), tt.in)
		back, err := ParseSchedule(got.String())
		require.NoError(t, err)
		require.Equal(t, got, back, "round trip of %q", tt.in)
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"Mon 08:00", `bad schedule "Mon 08:00": clause 1 "Mon 08:00": time window "08:00" is not START-END (e.g. 08:00-17:00)`},
		{"Mox 08:00-12:00", `clause 1 "Mox 08:00-12:00": unknown day "Mox" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)`},
		{"Mon-Frx 08:00-12:00", `unknown day "Frx"`},
		{"08:00-12:00", `no days before the time`},
		{"Mon", `no time window`},
		{"Mon 25:00-26:00", `time "25:00": hour must be 00..23 (or 24:00 as an end)`},
		{"Mon 08:60-09:00", `time "08:60": minute must be 00..59`},
		{"Mon 08:00-08:00", `time window "08:00-08:00" is empty`},
		{"Mon 24:00-06:00", `starts at 24:00`},
		{"Mon 8-12", `time "8" is not HH:MM`},
		{"Mon 08:00-12:00;; Tue 08:00-12:00", `clause 2 "": empty clause`},
		{"Mon,,Tue 08:00-12:00", `empty day in list`},
		{"Mon 08:00-12:00; Tue x", `clause 2 "Tue x": no time window`},
	}
	for _, tt := range tests {
		_, err := ParseSchedule(tt.in)
		require.Error(t, err, tt.in)
		require.True(t, errors.Is(err, ErrBadSchedule))
		require.Contains(t, err.Error(), tt.msg, tt.in)
	}
}

func TestOpenAt(t *testing.T) {
	s, err := ParseSchedule("Mon-Fri 22:00-06:00; Sat 08:00-12:00")
	require.NoError(t, err)
	// The same instants given in UTC and in Asia/Ho_Chi_Minh (UTC+7).
	tests := []struct {
		local string // in Asia/Ho_Chi_Minh
		open  bool
	}{
		{"2025-03-03T21:59:00", false}, // Monday
		{"2025-03-03T22:00:00", true},
		{"2025-03-04T05:59:59", true}, // Tuesday early morning
		{"2025-03-04T06:00:00", false},
		{"2025-03-08T05:00:00", true},  // Saturday morning after Friday night
		{"2025-03-08T07:59:00", false}, // Saturday
		{"2025-03-08T11:59:00", true},
		{"2025-03-08T12:00:00", false},
		{"2025-03-09T03:00:00", false}, // Sunday
		{"2025-03-03T03:00:00", false}, // Monday early morning: Sunday night is off
	}
	for _, tt := range tests {
		at, err := time.ParseInLocation("2006-01-02T15:04:05", tt.local, Location())
		require.NoError(t, err)
		require.Equal(t, tt.open, s.OpenAt(at), tt.local)
		require.Equal(t, tt.open, s.OpenAt(at.UTC()), "%s as UTC", tt.local)
		require.Equal(t, tt.open, s.OpenAt(at.In(time.FixedZone("PST", -8*3600))), "%s as PST", tt.local)
	}
	require.True(t, Schedule{Always: true}.OpenAt(time.Time{}))
	require.False(t, Schedule{}.OpenAt(time.Now()))
}

func TestLocation(t *testing.T) {
	_, off := time.Date(2025, 7, 1, 12, 0, 0, 0, Location()).Zone()
	require.Equal(t, 7*3600, off)
	require.Equal(t, "Asia/Ho_Chi_Minh", Location().String())
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"", "24/7", "never", "Mon-Sat 07:00-22:00; Sun 08:00-12:00", "Mon,Wed 08:00-12:00,13:00-17:00",
		"Mon-Fri 22:00-06:00", "Sat-Mon 18:00-24:00", "mon 8:00-9:00;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSchedule(in)
		if err != nil {
			if !errors.Is(err, ErrBadSchedule) {
				t.Fatalf("%q: error %v does not wrap ErrBadSchedule", in, err)
			}
			return
		}
		for _, w := range s.Windows {
			if w.Start < 0 || w.Start >= w.End || w.End > 24*60 || w.Day < 0 || w.Day > 6 {
				t.Fatalf("%q: bad window %+v", in, w)
			}
		}
		back, err := ParseSchedule(s.String())
		if err != nil {
			t.Fatalf("%q: String %q does not parse: %v", in, s.String(), err)
		}
		if back.String() != s.String() || back.Always != s.Always || len(back.Windows) != len(s.Windows) {
			t.Fatalf("%q: round trip %q -> %q", in, s.String(), back.String())
		}
	})
}
