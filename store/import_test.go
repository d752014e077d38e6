package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
)

const sampleDir = "../deploy/sample"

func samplePaths(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(sampleDir, "*.csv"))
	require.NoError(t, err)
	require.Len(t, paths, 5)
	return paths
}

// importSample imports deploy/sample into db.
func importSample(t *testing.T, db *sqlx.DB) Summary {
	t.Helper()
	sum, err := ImportPaths(testCtx(t), db, samplePaths(t), ImportOptions{})
	require.NoError(t, err)
	return sum
}

// directoryChecksum fingerprints every directory table, to prove a failed
// import changed nothing.
func directoryChecksum(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	var parts []string
	for _, table := range []string{"provinces", "staff", "staff_phones", "staff_provinces", "regions", "areas",
		"area_provinces", "cafes", "cafe_phones", "refusals", "holidays"} {
		var sum string
		require.NoError(t, db.GetContext(context.Background(), &sum,
			"SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM "+table+" x"))
		parts = append(parts, table+"="+sum)
	}
	return strings.Join(parts, " ")
}

func TestImportSampleAndReimportUnchanged(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	var progress bytes.Buffer
	sum, err := ImportPaths(ctx, db, samplePaths(t), ImportOptions{Progress: &progress})
	require.NoError(t, err)
	require.Equal(t, map[Kind]Counts{
		KindStaff:    {Inserted: 11},
		KindRegions:  {Inserted: 2},
		KindAreas:    {Inserted: 2},
		KindCafes:    {Inserted: 20},
		KindHolidays: {Inserted: 3},
	}, sum.Kinds)
	require.Equal(t, []string{"../deploy/sample/cafes.csv:4: phones: old 11-digit number 01235550203 stored as 0835550203"},
		sum.Warnings)
	require.Contains(t, progress.String(), "../deploy/sample/cafes.csv: 20 rows (cafes)\n")
	require.NotContains(t, progress.String(), "new", "the counts are the summary's, not progress")

	before := directoryChecksum(t, db)
	again, err := ImportPaths(ctx, db, samplePaths(t), ImportOptions{})
	require.NoError(t, err)
	require.False(t, again.Changed())
	require.Equal(t, map[Kind]Counts{
		KindStaff:    {Unchanged: 11},
		KindRegions:  {Unchanged: 2},
		KindAreas:    {Unchanged: 2},
		KindCafes:    {Unchanged: 20},
		KindHolidays: {Unchanged: 3},
	}, again.Kinds)
	require.Equal(t, before, directoryChecksum(t, db))

	d, err := LoadDirectory(ctx, db)
	require.NoError(t, err)
	cnt := d.Counts()
	require.Equal(t, 20, cnt.Cafes)
	require.Equal(t, 11, cnt.Staff)

	ktv, ok := d.Staff("KTV01")
	require.True(t, ok)
	require.Equal(t, "KTV Nguyễn Văn A", ktv.Name)
	require.Equal(t, []string{"hau-giang", "kien-giang", "soc-trang"}, ktv.Provinces)
	require.Equal(t, []dialplan.Phone{{E164: "+84945550101", Carrier: dialplan.CarrierVinaphone},
		{E164: "+84965550102"}}, ktv.Phones, "the explicit carrier is kept; none given = prefix hint at routing")
	require.True(t, ktv.Hours.Always)

	ktv2, _ := d.Staff("KTV02")
	require.Equal(t, "Mon-Sat 07:00-22:00; Sun 08:00-12:00", ktv2.Hours.String())
	ktv3, _ := d.Staff("KTV03")
	require.Equal(t, dialplan.StatusSuspended, ktv3.Status)

	landline, ok := d.CafeByPhone("+842973555001")
	require.True(t, ok)
	require.Equal(t, "KG002", landline.Code)
	old, ok := d.CafeByPhone("0835550203")
	require.True(t, ok, "old 11-digit number stored in its new form")
	require.Equal(t, "KG003", old.Code)
	st2, _ := d.CafeByCode("ST002")
	require.Equal(t, "soc-trang", st2.Province, "province given as area code 0299")
	require.Equal(t, []string{"+84915550207", "+84915550208"}, st2.Phones)

	area, ok := d.AreaOf("hung-yen")
	require.True(t, ok, "province given as area code 0221")
	require.Equal(t, "HN", area.Code)
	require.Equal(t, "AM02", area.Manager)
	region, _ := d.Region("MN")
	require.Equal(t, "RM01", region.Manager)

	data, err := LoadDirectoryData(ctx, db)
	require.NoError(t, err)
	require.Len(t, data.Holidays, 3)
	require.Equal(t, "2026-12-31", data.Holidays[2].Date.Format("2006-01-02"))
	require.Equal(t, dialplan.Location(), data.Holidays[2].Date.Location())
}

func TestImportUpdatesAndReplacesLists(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	ctx := testCtx(t)
	importSample(t, db)

	// KG001 drops a number and gains one; HG001 takes the dropped one (a move
	// inside one file is fine); KTV01 changes carrier; a new café.
	cafes := "code,name,phones,province,technician,status\n" +
		"KG001,Net Cỏ Mây,0945550299,Kiên Giang,,active\n" +
		"HG001,Net Vị Thanh,0965550204; 0945550202,Hậu Giang,,active\n" +
		"KG010,Net Mới,0945550298,Kiên Giang,,active\n" +
		"KG002,Game Thủ Rạch Giá,02973555001,Kiên Giang,,active\n"
	staff := "code,name,role,phones,provinces,status,hours\n" +
		"KTV01,KTV Nguyễn Văn A,technician,0945550101:viettel; 0965550102,Kiên Giang; Hậu Giang; Sóc Trăng,active,\n"
	sum, err := Import(ctx, db, []ImportFile{
		{Name: "cafes.csv", Reader: strings.NewReader(cafes)},
		{Name: "staff.csv", Reader: strings.NewReader(staff)},
	}, ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, Counts{Inserted: 1, Updated: 2, Unchanged: 1}, sum.Kinds[KindCafes])
	require.Equal(t, Counts{Updated: 1}, sum.Kinds[KindStaff])

	d, err := LoadDirectory(ctx, db)
	require.NoError(t, err)
	kg1, _ := d.CafeByCode("KG001")
	require.Equal(t, []string{"+84945550299"}, kg1.Phones)
	moved, _ := d.CafeByPhone("+84945550202")
	require.Equal(t, "HG001", moved.Code)
	_, gone := d.CafeByPhone("+84945550201")
	require.False(t, gone)
	ktv, _ := d.Staff("KTV01")
	require.Equal(t, dialplan.CarrierViettel, ktv.Phones[0].Carrier, "explicit carrier wins over the vinaphone prefix")
	require.Equal(t, 21, d.Counts().Cafes, "rows absent from the file are kept")
}

func TestImportDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	before := directoryChecksum(t, db)
	sum, err := ImportPaths(testCtx(t), db, samplePaths(t), ImportOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, 20, sum.Kinds[KindCafes].Inserted)
	require.Contains(t, sum.String(), "dry run")
	require.Equal(t, before, directoryChecksum(t, db))
}

func TestKindFromName(t *testing.T) {
	for name, want := range map[string]Kind{
		"regions.csv": KindRegions, "/tmp/x/Areas.CSV": KindAreas, "STAFF.csv": KindStaff,
		"dir/cafes.csv": KindCafes, "holidays.csv": KindHolidays, "cafes-mien-tay.csv": KindCafes,
		"staff_2026.csv": KindStaff,
	} {
		got, err := KindFromName(name)
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}
	for _, name := range []string{"cafe.csv", "cafesx.csv", "data.csv", "staffing.csv"} {
		_, err := KindFromName(name)
		require.Error(t, err, name)
	}
	k, err := ParseKind("Cafes")
	require.NoError(t, err)
	require.Equal(t, KindCafes, k)
	_, err = ParseKind("people")
	require.Error(t, err)
}

func TestImportUnknownKindName(t *testing.T) {
	t.Parallel()
	db, _ := migratedDB(t)
	_, err := Import(testCtx(t), db, []ImportFile{{Name: "people.csv", Reader: strings.NewReader("code\n")}}, ImportOptions{})
	require.ErrorContains(t, err, "cannot tell what the file holds")
	// --kind overrides the name.
	sum, err := Import(testCtx(t), db, []ImportFile{{Name: "people.csv",
		Reader: strings.NewReader("code,name,role,phones\nOP9,Op,operator,0945550999\n")}}, ImportOptions{Kind: KindStaff})
	require.NoError(t, err)
	require.Equal(t, 1, sum.Kinds[KindStaff].Inserted)
}

// importErrors runs an import expected to fail and returns its row errors
// as strings, after checking the database did not change.
func importErrors(t *testing.T, db *sqlx.DB, files map[string]string) []string {
	t.Helper()
	before := directoryChecksum(t, db)
	var in []ImportFile
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		in = append(in, ImportFile{Name: n, Reader: strings.NewReader(files[n])})
	}
	_, err := Import(testCtx(t), db, in, ImportOptions{})
	require.Error(t, err)
	var ie *ImportError
	require.True(t, errors.As(err, &ie), "want *ImportError, got %v", err)
	require.Equal(t, before, directoryChecksum(t, db), "a failed import must change nothing")
	out := make([]string, len(ie.Errors))
	for i, e := range ie.Errors {
		out[i] = e.Error()
	}
	require.Contains(t, err.Error(), "nothing was changed")
	return out
}

var _ = os.ReadFile

func parseScheduleForTest(s string) (dialplan.Schedule, error) { return dialplan.ParseSchedule(s) }

// cafeLine is a valid cafes.csv row for café number i (fictional numbers).
func cafeLine(i int) string {
	return fmt.Sprintf("C%05d,Net %d,09455%05d,Kiên Giang,,active\n", i, i, i)
}
