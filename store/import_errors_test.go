package store

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	staffHeader = "code,name,role,phones,provinces,status,hours\n"
	cafesHeader = "code,name,phones,province,technician,status\n"
	areasHeader = "code,name,region,manager,provinces\n"
)

func TestImportReportsEveryBadRowAndChangesNothing(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	importSample(t, db) // the database already holds the sample directory

	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{{
		name: "number claimed by two cafés in the file",
		files: map[string]string{"cafes.csv": cafesHeader +
			"X1,Net Một,0945550901,Kiên Giang,,\n" +
			"X2,Net Hai,+84 94 555 0901,Kiên Giang,,\n"},
		want: []string{"cafes.csv:3: phones: 0945550901 is also a number of café X1 on cafes.csv:2"},
	}, {
		name:  "number of another café in the database",
		files: map[string]string{"cafes.csv": cafesHeader + "X1,Net Một,84945550201,Kiên Giang,,\n"},
		want:  []string{"cafes.csv:2: phones: 0945550201 already belongs to café KG001"},
	}, {
		name:  "unknown province",
		files: map[string]string{"cafes.csv": cafesHeader + "X1,Net Một,0945550901,Kien Gang,,\n"},
		want:  []string{`cafes.csv:2: province: unknown province "Kien Gang"`},
	}, {
		name: "managers who are not managers",
		files: map[string]string{
			"regions.csv": "code,name,manager\nMN,Miền Nam,AM01\n",
			"areas.csv":   areasHeader + "TNB,Tây Nam Bộ,MN,RM01,Kiên Giang; Hậu Giang; Sóc Trăng; Cần Thơ\n",
		},
		want: []string{
			`regions.csv:2: manager: "AM01" is an area_manager, not regional_manager`,
			`areas.csv:2: manager: "RM01" is a regional_manager, not area_manager`,
		},
	}, {
		name:  "technician covering no province",
		files: map[string]string{"staff.csv": staffHeader + "KTV99,KTV Mới,technician,0945550901,,active,\n"},
		want:  []string{"staff.csv:2: provinces: a technician must cover at least one province"},
	}, {
		name: "unknown referenced codes",
		files: map[string]string{
			"cafes.csv":    cafesHeader + "X1,Net Một,0945550901,Kiên Giang,KTV99,\n",
			"areas.csv":    areasHeader + "NEW,Mới,MX,,Cà Mau\n",
			"regions.csv":  "code,name,manager\nMT,Miền Trung,RM99\n",
			"holidays.csv": "date,name,region\n2026-09-03,Nghỉ,MX\n",
		},
		// Reported in dependency order: staff, regions, areas, cafés, holidays.
		want: []string{
			`regions.csv:2: manager: unknown staff "RM99"`,
			`areas.csv:2: region: unknown region "MX"`,
			`cafes.csv:2: technician: unknown staff "KTV99"`,
			`holidays.csv:2: region: unknown region "MX"`,
		},
	}, {
		name: "staff numbers that cannot be rung",
		files: map[string]string{"staff.csv": staffHeader +
			"OP09,Op,operator,18001091,,,\n" +
			"OP10,Op,operator,19001570,,,\n" +
			"OP11,Op,operator,113,,,\n" +
			"OP12,Op,operator,+16505550100,,,\n" +
			"OP13,Op,operator,0123,,,\n" +
			"OP14,Op,operator,0945550901:vinafone,,,\n"},
		want: []string{
			`staff.csv:2: phones: "18001091" is a toll-free (1800) number; staff numbers must be Vietnamese mobile or landline numbers`,
			`staff.csv:3: phones: "19001570" is a premium-rate (1900) number; staff numbers must be Vietnamese mobile or landline numbers`,
			`staff.csv:4: phones: "113" is a short or emergency number; staff numbers must be Vietnamese mobile or landline numbers`,
			`staff.csv:5: phones: "+16505550100" is a foreign number; staff numbers must be Vietnamese mobile or landline numbers`,
			`staff.csv:6: phones: "0123" is not a valid Vietnamese number; staff numbers must be Vietnamese mobile or landline numbers`,
			`staff.csv:7: phones: 0945550901: unknown carrier "vinafone" (want viettel, vinaphone, mobifone, vietnamobile, gmobile, reddi or itel)`,
		},
	}, {
		name: "bad role, status and hours",
		files: map[string]string{"staff.csv": staffHeader +
			"OP09,Op,boss,0945550901,,,\n" +
			"OP10,Op,operator,0945550902,,sleeping,\n" +
			"OP11,Op,operator,0945550903,,,Mon-Fri 25:00-26:00\n"},
		want: []string{
			`staff.csv:2: role: unknown role "boss" (want technician, area_manager, regional_manager or operator)`,
			`staff.csv:3: status: unknown status "sleeping" (want active, suspended or terminated)`,
			`staff.csv:4: hours: ` + scheduleError(t, "Mon-Fri 25:00-26:00"),
		},
	}, {
		name:  "missing required column",
		files: map[string]string{"cafes.csv": "code,name,phones\nX1,Net Một,0945550901\n"},
		want:  []string{"cafes.csv:1: province: missing required column (header must have code, name, phones, province)"},
	}, {
		name: "errors in several files are all reported",
		files: map[string]string{
			"staff.csv": staffHeader + "KTV01,KTV Nguyễn Văn A,technician,0945550101,Atlantis,active,\n",
			"cafes.csv": cafesHeader + "X1,,0945550901,Kiên Giang,,closed\nX1,Net,0945550902,Kiên Giang,,\n",
			"holidays.csv": "date,name,region\n2026-13-01,Nghỉ,\n" +
				"\n" + // a blank line keeps the line numbers right
				"01/05/2026,Lễ,\n2026-05-01,Lễ trùng,\n",
		},
		want: []string{
			`staff.csv:2: provinces: unknown province "Atlantis"`,
			`cafes.csv:2: name: empty`,
			`cafes.csv:2: status: unknown status "closed" (want active or terminated)`,
			`cafes.csv:3: code: "X1" is also on cafes.csv:2`,
			`holidays.csv:2: date: "2026-13-01" is not a date (want YYYY-MM-DD or DD/MM/YYYY)`,
			`holidays.csv:5: date: 2026-05-01 is also on holidays.csv:4`,
		},
	}, {
		name: "province already in another area",
		files: map[string]string{"areas.csv": areasHeader +
			"NEW,Mới,MN,AM01,Cà Mau; Sóc Trăng\nNEW2,Mới 2,MN,,ca mau\n"},
		want: []string{
			"areas.csv:2: provinces: Sóc Trăng is already in area TNB",
			"areas.csv:3: provinces: Cà Mau is also in area NEW on areas.csv:2",
		},
	}, {
		name:  "café code that differs only by leading zeros from one in the database",
		files: map[string]string{"cafes.csv": cafesHeader + "kg001,Net,0945550901,Kiên Giang,,\n"},
		want: []string{`cafes.csv:2: code: "kg001" is the same café code as "KG001" already in the database ` +
			`(codes ignore case and leading zeros); use "KG001"`},
	}, {
		name:  "malformed quotes",
		files: map[string]string{"cafes.csv": cafesHeader + "X1,\"Net \"Một\",0945550901,Kiên Giang,,\n"},
		want:  []string{`cafes.csv:2: csv: extraneous or missing " in quoted-field`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, importErrors(t, db, tc.files))
		})
	}
}

func scheduleError(t *testing.T, text string) string {
	t.Helper()
	_, err := parseScheduleForTest(text)
	require.Error(t, err)
	return err.Error()
}

func TestImportFormats(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	importSample(t, db)

	// Semicolon-separated (Excel in a Vietnamese locale), with a BOM, CRLF,
	// quoted cells, an unknown column, a header in other case and trailing
	// blank lines.
	cafes := "\uFEFFCode;Name;Phones;Province;Technician;Status;Ghi chú\r\n" +
		"X1;\"Net \"\"Sao\"\"; Một\";\"0945550901, 0945550902\";Kiên Giang;KTV01;active;khách mới\r\n" +
		"X2;Net Hai;0945550903;TP HCM;;;\r\n" +
		"\r\n;;;;;;\r\n\r\n"
	sum, err := Import(ctx, db, []ImportFile{{Name: "Cafes.CSV", Reader: strings.NewReader(cafes)}}, ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, Counts{Inserted: 2}, sum.Kinds[KindCafes])
	require.Equal(t, []string{"Cafes.CSV:1: ghi_chú: unknown column ignored " +
		"(known: code, name, phones, province, technician, status)"}, sum.Warnings)

	d, err := LoadDirectory(ctx, db)
	require.NoError(t, err)
	x1, ok := d.CafeByCode("X1")
	require.True(t, ok)
	require.Equal(t, `Net "Sao"; Một`, x1.Name)
	require.Equal(t, []string{"+84945550901", "+84945550902"}, x1.Phones)
	x2, _ := d.CafeByCode("X2")
	require.Equal(t, "ho-chi-minh", x2.Province)

	// Comma CSV with a BOM, Windows line ends and quoted list cells.
	staff := "\uFEFF" + strings.ReplaceAll(staffHeader, "\n", "\r\n") +
		"OP09,\"Lý, Thị Mai\",operator,\"0945550911:itel; 0945550912\",,,\r\n"
	sum, err = Import(ctx, db, []ImportFile{{Name: "staff.csv", Reader: strings.NewReader(staff)}}, ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, Counts{Inserted: 1}, sum.Kinds[KindStaff])
	d, err = LoadDirectory(ctx, db)
	require.NoError(t, err)
	op, _ := d.Staff("OP09")
	require.Equal(t, "Lý, Thị Mai", op.Name)
	require.Len(t, op.Phones, 2)
	require.Equal(t, "itel", string(op.Phones[0].Carrier))
}

func TestImportProgress(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	var b strings.Builder
	b.WriteString(cafesHeader)
	for i := range 25 {
		b.WriteString(cafeLine(i))
	}
	var progress strings.Builder
	sum, err := Import(testCtx(t), db, []ImportFile{{Name: "cafes.csv", Reader: strings.NewReader(b.String())}},
		ImportOptions{Progress: &progress, ProgressEvery: 10})
	require.NoError(t, err)
	require.Equal(t, 25, sum.Kinds[KindCafes].Inserted)
	require.Equal(t, "cafes.csv: 10 rows read\ncafes.csv: 20 rows read\ncafes.csv: 25 rows (cafes)\n", progress.String())
}

// A change that is valid row by row but breaks a row of another kind already
// in the database is caught by the whole-directory check, and rolled back.
func TestImportWholeDirectoryCheck(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	importSample(t, db)
	// KTV02 is café CT001's assigned technician; making them an operator
	// would leave CT001 pointing at a non-technician.
	got := importErrors(t, db, map[string]string{"staff.csv": staffHeader +
		"KTV02,KTV Trần Thị Bình,operator,0975550103:viettel,,active,\n"})
	require.Equal(t, []string{"directory: cafe CT001 technician: staff KTV02 is operator, not technician"}, got)
}
