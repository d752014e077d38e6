package dialplan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tết (lunar 1/1) in Vietnam, 2000–2050, typed from published Vietnamese
// calendar tables (the "Tết Nguyên Đán" dates of the lịch vạn niên tables
// computed by Hồ Ngọc Đức, informatik.uni-leipzig.de/~duc/amlich/); 2020–2030
// also match the known-Tết list in github.com/vuhaininh/vn_lunar_calendar's
// tests. Where Vietnam (UTC+7) and China (UTC+8) differ the Chinese date is
// noted: scienceinfo.net "Why is the Vietnamese and Chinese New Year a day
// different?" names 2030 and 2053; 1985 and 2007 are the well-known past cases.
var tetTable = map[int]string{
	2000: "02-05", 2001: "01-24", 2002: "02-12", 2003: "02-01", 2004: "01-22",
	2005: "02-09", 2006: "01-29", 2007: "02-17" /* China 02-18 */, 2008: "02-07", 2009: "01-26",
	2010: "02-14", 2011: "02-03", 2012: "01-23", 2013: "02-10", 2014: "01-31",
	2015: "02-19", 2016: "02-08", 2017: "01-28", 2018: "02-16", 2019: "02-05",
	2020: "01-25", 2021: "02-12", 2022: "02-01", 2023: "01-22", 2024: "02-10",
	2025: "01-29", 2026: "02-17", 2027: "02-06", 2028: "01-26", 2029: "02-13",
	2030: "02-02" /* China 02-03 */, 2031: "01-23", 2032: "02-11", 2033: "01-31", 2034: "02-19",
	2035: "02-08", 2036: "01-28", 2037: "02-15", 2038: "02-04", 2039: "01-24",
	2040: "02-12", 2041: "02-01", 2042: "01-22", 2043: "02-10", 2044: "01-30",
	2045: "02-17", 2046: "02-06", 2047: "01-26", 2048: "02-14", 2049: "02-02",
	2050: "01-23",
	// Years where Vietnam's Tết is not China's.
	1985: "01-21", // China 02-20: a whole month apart (leap month placement)
	2053: "02-18", // China 02-19
}

func TestTetDate(t *testing.T) {
	for y := 2000; y <= 2050; y++ {
		require.Contains(t, tetTable, y)
	}
	for y, md := range tetTable {
		got := TetDate(y)
		require.Equal(t, md, got.Format("01-02"), "Tết %d", y)
		require.Equal(t, y, got.Year())
		require.Equal(t, Location(), got.Location())
		require.Zero(t, got.Hour())
	}
}

// Giỗ Tổ Hùng Vương (lunar 10/3), as announced for the public holiday in those
// years (e.g. Ministry of Labour notices: 2023-04-29, 2024-04-18, 2025-04-07).
func TestGioTo(t *testing.T) {
	for y, want := range map[int]string{2019: "2019-04-14", 2020: "2020-04-02", 2021: "2021-04-21", 2022: "2022-04-10",
		2023: "2023-04-29", 2024: "2024-04-18", 2025: "2025-04-07", 2026: "2026-04-26"} {
		got, err := LunarToSolar(10, 3, y, false)
		require.NoError(t, err)
		require.Equal(t, want, got.Format(time.DateOnly))
	}
}

func TestLunarToSolarLeap(t *testing.T) {
	// 2023 had a leap 2nd month (tháng 2 nhuận, from 2023-03-22); 2020 a leap 4th (from 2020-05-23).
	got, err := LunarToSolar(1, 2, 2023, true)
	require.NoError(t, err)
	require.Equal(t, "2023-03-22", got.Format(time.DateOnly))
	got, err = LunarToSolar(1, 3, 2023, false)
	require.NoError(t, err)
	require.Equal(t, "2023-04-20", got.Format(time.DateOnly))
	got, err = LunarToSolar(1, 4, 2020, true)
	require.NoError(t, err)
	require.Equal(t, "2020-05-23", got.Format(time.DateOnly))
	_, err = LunarToSolar(1, 5, 2023, true)
	require.Error(t, err)
	_, err = LunarToSolar(1, 5, 2024, true)
	require.Error(t, err)
	_, err = LunarToSolar(1, 13, 2024, false)
	require.Error(t, err)
}
