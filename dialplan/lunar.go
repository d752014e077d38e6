package dialplan

import (
	"fmt"
	"math"
	"time"
)

// The Vietnamese lunisolar calendar, computed astronomically as Hồ Ngọc Đức
// describes it ("Thuật toán tính âm lịch"): months begin on the day (in local
// time UTC+7) of the true new moon; month 11 is the month containing the
// winter solstice; in a year with 13 months the leap month is the first one
// in which the sun enters no new 30° sector of ecliptic longitude (contains
// no major solar term). Using UTC+7 rather than China's UTC+8 is what makes
// Vietnamese and Chinese dates differ in some years (Tết 1985, 2007, 2030).
//
// The new moon and the sun's longitude use the low-precision series from
// Jean Meeus, "Astronomical Algorithms" (new moon: chapter 49 in its simpler
// pre-1998 form; sun: chapter 25), accurate to minutes over 1800–2200.

const (
	lunarTZ       = 7.0               // hours east of UTC
	synodicMonth  = 29.530588853      // days
	newMoonEpoch0 = 2415021.076998695 // JD of the new moon k = 0 (1900-01-01)
)

// julianDay returns the Julian day number of a Gregorian calendar date.
func julianDay(y int, m time.Month, d int) int {
	a := (14 - int(m)) / 12
	yy := y + 4800 - a
	mm := int(m) + 12*a - 3
	return d + (153*mm+2)/5 + 365*yy + yy/4 - yy/100 + yy/400 - 32045
}

// fromJulianDay converts a Julian day number to a date at midnight in hcm.
func fromJulianDay(jd int) time.Time {
	// Unix epoch 1970-01-01 is JDN 2440588.
	return time.Date(1970, 1, 1+jd-2440588, 0, 0, 0, 0, hcm)
}

// newMoon returns the Julian date (TT ≈ UT) of the k-th new moon after the one
// of 1900-01-01.
func newMoon(k int) float64 {
	const dr = math.Pi / 180
	kf := float64(k)
	t := kf / 1236.85
	t2, t3 := t*t, t*t*t
	jd := 2415020.75933 + 29.53058868*kf + 0.0001178*t2 - 0.000000155*t3 +
		0.00033*math.Sin((166.56+132.87*t-0.009173*t2)*dr)
	m := (359.2242 + 29.10535608*kf - 0.0000333*t2 - 0.00000347*t3) * dr   // sun's mean anomaly
	mp := (306.0253 + 385.81691806*kf + 0.0107306*t2 + 0.00001236*t3) * dr // moon's mean anomaly
	f := (21.2964 + 390.67050646*kf - 0.0016528*t2 - 0.00000239*t3) * dr   // moon's argument of latitude
	c := (0.1734-0.000393*t)*math.Sin(m) + 0.0021*math.Sin(2*m) -
		0.4068*math.Sin(mp) + 0.0161*math.Sin(2*mp) - 0.0004*math.Sin(3*mp) +
		0.0104*math.Sin(2*f) - 0.0051*math.Sin(m+mp) - 0.0074*math.Sin(m-mp) +
		0.0004*math.Sin(2*f+m) - 0.0004*math.Sin(2*f-m) - 0.0006*math.Sin(2*f+mp) +
		0.0010*math.Sin(2*f-mp) + 0.0005*math.Sin(2*mp+m)
	var deltaT float64 // TT − UT in days
	if t < -11 {
		deltaT = 0.001 + 0.000839*t + 0.0002261*t2 - 0.00000845*t3 - 0.000000081*t*t3
	} else {
		deltaT = -0.000278 + 0.000265*t + 0.000262*t2
	}
	return jd + c - deltaT
}

// newMoonDay is the Julian day number of the local (UTC+7) day of the k-th new moon.
func newMoonDay(k int) int {
	return int(math.Floor(newMoon(k) + 0.5 + lunarTZ/24))
}

// sunLongitude returns the sun's apparent ecliptic longitude in radians,
// [0, 2π), at Julian date jd.
func sunLongitude(jd float64) float64 {
	const dr = math.Pi / 180
	t := (jd - 2451545.0) / 36525
	t2 := t * t
	m := 357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2 // mean anomaly, degrees
	l0 := 280.46645 + 36000.76983*t + 0.0003032*t2                  // mean longitude, degrees
	c := (1.914600-0.004817*t-0.000014*t2)*math.Sin(dr*m) +
		(0.019993-0.000101*t)*math.Sin(2*dr*m) + 0.000290*math.Sin(3*dr*m)
	omega := 125.04 - 1934.136*t
	l := (l0 + c - 0.00569 - 0.00478*math.Sin(omega*dr)) * dr
	l = math.Mod(l, 2*math.Pi)
	if l < 0 {
		l += 2 * math.Pi
	}
	return l
}

// sunSector is the 30° sector (0..11, 0 = from the spring equinox) the sun is
// in at the start of local day jdn.
func sunSector(jdn int) int {
	return int(sunLongitude(float64(jdn)-0.5-lunarTZ/24) / math.Pi * 6)
}

// month11 returns the first day (JDN) of lunar month 11 of Gregorian year y:
// the month containing the winter solstice (sun sector 9 = 270°).
func month11(y int) int {
	off := julianDay(y, time.December, 31) - 2415021
	k := int(math.Floor(float64(off) / synodicMonth))
	nm := newMoonDay(k)
	if sunSector(nm) >= 9 {
		// This new moon is after the solstice: month 11 began a month before.
		nm = newMoonDay(k - 1)
	}
	return nm
}

// leapMonthOffset returns, for a 13-month lunar year starting with month 11 at
// JDN a11, how many months after month 11 the leap month falls: the first
// month during which the sun stays in the same sector.
func leapMonthOffset(a11 int) int {
	k := int(math.Floor((float64(a11)-newMoonEpoch0)/synodicMonth + 0.5))
	i := 1
	arc := sunSector(newMoonDay(k + i))
	for {
		last := arc
		i++
		arc = sunSector(newMoonDay(k + i))
		if arc == last || i >= 14 {
			break
		}
	}
	return i - 1
}

// LunarToSolar converts a Vietnamese lunar date to the Gregorian date, at
// midnight Asia/Ho_Chi_Minh. leap selects the leap (intercalary) month of that
// number; it is an error when that year has no such leap month.
func LunarToSolar(day, month, year int, leap bool) (time.Time, error) {
	if month < 1 || month > 12 || day < 1 || day > 30 {
		return time.Time{}, fmt.Errorf("lunar date %d/%d/%d out of range", day, month, year)
	}
	var a11, b11 int
	if month < 11 {
		a11, b11 = month11(year-1), month11(year)
	} else {
		a11, b11 = month11(year), month11(year+1)
	}
	k := int(math.Floor(0.5 + (float64(a11)-newMoonEpoch0)/synodicMonth))
	off := month - 11
	if off < 0 {
		off += 12
	}
	if b11-a11 > 365 { // 13 months between two months 11: a leap year
		leapOff := leapMonthOffset(a11)
		leapMonth := (leapOff - 2 + 12) % 12
		if leapMonth == 0 {
			leapMonth = 12
		}
		if leap && month != leapMonth {
			return time.Time{}, fmt.Errorf("lunar year %d has no leap month %d", year, month)
		}
		if leap || off >= leapOff {
			off++
		}
	} else if leap {
		return time.Time{}, fmt.Errorf("lunar year %d has no leap month", year)
	}
	start := newMoonDay(k + off)
	if day == 30 && newMoonDay(k+off+1)-start < 30 {
		return time.Time{}, fmt.Errorf("lunar month %d/%d has only 29 days", month, year)
	}
	return fromJulianDay(start + day - 1), nil
}

// TetDate returns the first day of the Vietnamese lunar year that begins in
// Gregorian year y (Tết Nguyên Đán), at midnight Asia/Ho_Chi_Minh.
func TetDate(y int) time.Time {
	t, _ := LunarToSolar(1, 1, y, false) // month 1 always exists
	return t
}
