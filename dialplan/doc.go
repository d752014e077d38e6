// Package dialplan is the routing brain of the hotline, with no I/O: it
// normalises phone numbers (Normalize: E.164, kind, carrier hint, the 2018
// 11→10-digit remap, landline area code → province), knows the 63 provinces
// (Provinces, LookupProvince), parses working hours (ParseSchedule) and
// computes Vietnamese public holidays with the lunar calendar (TetDate,
// LunarToSolar, PublicHolidays) and who has a day off when, compensatory days
// off (nghỉ bù) included (Directory.DayOffAt). NewDirectory turns the loaded DirectoryData
// into an indexed immutable snapshot; Identify finds the calling café (caller
// ID, DTMF code, area code); Directory.Plan orders who is rung, on which
// number and through which trunk, and why; Decision.Report and
// Decision.WriteText explain it to a supervisor. Directory.Coverage plans
// calls over the coming days to find when a province or a café would ring no
// technician (coverage gaps).
//
// Numbering facts come from the embedded copies of /work/shared/vn/*.csv
// (data/); see that directory's NOTES.md. All times are evaluated in
// Asia/Ho_Chi_Minh whatever the server's zone.
//
// Decisions worth knowing:
//   - Café codes compare by CafeKey: trimmed, upper case, leading zeros of an
//     all-digit code dropped ("007" = "7"). On the keypad a letter prefix is
//     not typed: "C001" is found by 001 or 1; two codes typing the same digits
//     are found by neither.
//   - The province's technicians are rung only when the café has no assigned
//     technician or that technician is skipped (refusing the café included).
//   - A congested/unavailable trunk: the number is dialled through another
//     usable trunk in the same Target (Trunk and Reason say so); every Target
//     also carries Alternate, the next usable trunk for the same number, for
//     the call flow to retry on congestion. Numbers are never re-emitted as
//     extra targets.
//   - Staff numbers that are not Vietnamese mobile or landline numbers are
//     refused by NewDirectory, so a plan never contains 1800/1900/short/foreign
//     numbers, nor the caller's own digits.
package dialplan
