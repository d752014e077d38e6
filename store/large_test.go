package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
)

// largeDirectory builds import files for a company-sized directory: nStaff
// people (technicians, 3 provinces per area, 3 areas per region, 50
// operators) and nCafes cafés with one or two (fictional) numbers each.
func largeDirectory(nStaff, nCafes int) []ImportFile {
	provinces := dialplan.Provinces()
	var regions, areas, staff, cafes strings.Builder
	regions.WriteString("code,name,manager\n")
	areas.WriteString("code,name,region,manager,provinces\n")
	staff.WriteString("code,name,role,phones,provinces,status,hours\n")
	cafes.WriteString("code,name,phones,province,technician,status\n")
	phone := 0
	nextPhone := func(prefix string) string {
		phone++
		return fmt.Sprintf("%s%06d", prefix, phone)
	}
	people := 0
	nAreas := (len(provinces) + 2) / 3
	for a := range nAreas {
		if a%3 == 0 {
			r := a / 3
			fmt.Fprintf(&staff, "RM%03d,Quản lý vùng %d,regional_manager,%s,,active,\n", r, r, nextPhone("0965"))
			fmt.Fprintf(&regions, "R%03d,Vùng %d,RM%03d\n", r, r, r)
			people++
		}
		fmt.Fprintf(&staff, "AM%03d,Quản lý khu vực %d,area_manager,%s,,active,\n", a, a, nextPhone("0965"))
		var ps []string
		for p := 3 * a; p < min(3*a+3, len(provinces)); p++ {
			ps = append(ps, provinces[p].Name)
		}
		fmt.Fprintf(&areas, "A%03d,Khu vực %d,R%03d,AM%03d,%s\n", a, a, a/3, a, strings.Join(ps, "; "))
		people++
	}
	for o := range 50 {
		fmt.Fprintf(&staff, "OP%03d,Tổng đài viên %d,operator,%s,,active,\n", o, o, nextPhone("0965"))
		people++
	}
	nTech := nStaff - people
	for k := range nTech {
		p1, p2 := provinces[k%len(provinces)], provinces[(k+7)%len(provinces)]
		hours := ""
		if k%4 == 0 {
			hours = "Mon-Sat 07:00-22:00; Sun 08:00-12:00"
		}
		fmt.Fprintf(&staff, "KTV%04d,KTV Nguyễn Văn %d,technician,%s:viettel; %s,%s; %s,active,%s\n",
			k, k, nextPhone("0965"), nextPhone("0975"), p1.Name, p2.AreaCode, hours)
	}
	for c := range nCafes {
		phones := nextPhone("0945")
		if c%2 == 0 {
			phones += "; " + nextPhone("0985")
		}
		tech := ""
		if c%10 == 0 {
			tech = fmt.Sprintf("KTV%04d", c%nTech)
		}
		p := provinces[c%len(provinces)]
		if tech != "" {
			p = provinces[(c%nTech)%len(provinces)]
		}
		fmt.Fprintf(&cafes, "C%05d,Quán net %d,%s,%s,%s,active\n", c, c, phones, p.ASCII, tech)
	}
	return []ImportFile{
		{Name: "regions.csv", Reader: strings.NewReader(regions.String())},
		{Name: "areas.csv", Reader: strings.NewReader(areas.String())},
		{Name: "staff.csv", Reader: strings.NewReader(staff.String())},
		{Name: "cafes.csv", Reader: strings.NewReader(cafes.String())},
	}
}

func importLarge(t testing.TB, db *sqlx.DB) time.Duration {
	start := time.Now()
	sum, err := Import(testCtx(t), db, largeDirectory(1000, 20000), ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, 20000, sum.Kinds[KindCafes].Inserted)
	require.Equal(t, 1000, sum.Kinds[KindStaff].Inserted)
	return time.Since(start)
}

// TestLargeDirectory imports and loads a 20,000-café, 1,000-staff directory
// and logs how long it took (speed figures: BenchmarkLoadDirectory).
func TestLargeDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("large directory in -short mode")
	}
	t.Parallel()
	db, _ := migratedDB(t)
	took := importLarge(t, db)
	t.Logf("import of 20,000 cafés and 1,000 staff: %v", took)

	ctx := testCtx(t)
	start := time.Now()
	d, err := LoadDirectory(ctx, db)
	require.NoError(t, err)
	t.Logf("LoadDirectory: %v", time.Since(start))
	c := d.Counts()
	require.Equal(t, 20000, c.Cafes)
	require.Equal(t, 30000, c.CafePhones)
	require.Equal(t, 1000, c.Staff)

	// Re-import: everything unchanged, nothing written.
	start = time.Now()
	sum, err := Import(ctx, db, largeDirectory(1000, 20000), ImportOptions{})
	require.NoError(t, err)
	require.False(t, sum.Changed())
	require.Equal(t, 20000, sum.Kinds[KindCafes].Unchanged)
	t.Logf("unchanged re-import: %v", time.Since(start))
}

func BenchmarkLoadDirectory(b *testing.B) {
	db, _ := migratedDB(b)
	took := importLarge(b, db)
	b.ReportMetric(took.Seconds(), "import-s")
	ctx := testCtx(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := LoadDirectory(ctx, db); err != nil {
			b.Fatal(err)
		}
	}
}
