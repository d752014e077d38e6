package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// apply writes one kind's file rows: new ones inserted, changed ones
// updated (their lists replaced), equal ones left alone so an unchanged
// re-import writes nothing and notifies nobody. Bulk statements over arrays
// keep 20,000-row files fast.
func (im *importer) apply(ctx context.Context, tx *sqlx.Tx, k Kind) (Counts, error) {
	switch k {
	case KindStaff:
		return im.applyStaff(ctx, tx)
	case KindRegions:
		return im.applyRegions(ctx, tx)
	case KindAreas:
		return im.applyAreas(ctx, tx)
	case KindCafes:
		return im.applyCafes(ctx, tx)
	case KindHolidays:
		return im.applyHolidays(ctx, tx)
	}
	return Counts{}, fmt.Errorf("unknown kind %q", k)
}

// tally counts a row as inserted, updated or unchanged.
func tally(c *Counts, exists, equal bool) bool {
	switch {
	case !exists:
		c.Inserted++
	case !equal:
		c.Updated++
	default:
		c.Unchanged++
		return false
	}
	return true
}

func (im *importer) applyStaff(ctx context.Context, tx *sqlx.Tx) (Counts, error) {
	old := map[string]dialplan.Staff{}
	for _, s := range im.cur.Staff {
		old[s.Code] = s
	}
	var c Counts
	var codes, names, roles, statuses, hours []string
	var phStaff, phE164, phCarrier, provStaff, provCode []string
	var phSeq []int64
	for _, r := range im.fileStaff {
		s := r.Staff
		o, exists := old[s.Code]
		equal := exists && o.Name == s.Name && o.Role == s.Role && o.Status == s.Status &&
			o.Hours.String() == s.Hours.String() && slices.Equal(o.Phones, s.Phones) &&
			slices.Equal(sortedCopy(o.Provinces), s.Provinces)
		if !tally(&c, exists, equal) {
			continue
		}
		codes, names = append(codes, s.Code), append(names, s.Name)
		roles, statuses, hours = append(roles, string(s.Role)), append(statuses, string(s.Status)), append(hours, s.Hours.String())
		for i, p := range s.Phones {
			phStaff, phSeq = append(phStaff, s.Code), append(phSeq, int64(i+1))
			phE164, phCarrier = append(phE164, p.E164), append(phCarrier, string(p.Carrier))
		}
		for _, p := range s.Provinces {
			provStaff, provCode = append(provStaff, s.Code), append(provCode, p)
		}
	}
	if len(codes) == 0 {
		return c, nil
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO staff (code, name, role, status, hours)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, status = EXCLUDED.status,
	hours = EXCLUDED.hours, updated_at = now()`,
			[]any{pq.Array(codes), pq.Array(names), pq.Array(roles), pq.Array(statuses), pq.Array(hours)}},
		{`DELETE FROM staff_phones WHERE staff_code = ANY($1)`, []any{pq.Array(codes)}},
		{`DELETE FROM staff_provinces WHERE staff_code = ANY($1)`, []any{pq.Array(codes)}},
		{`INSERT INTO staff_phones (staff_code, seq, e164, carrier)
SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[])`,
			[]any{pq.Array(phStaff), pq.Array(phSeq), pq.Array(phE164), pq.Array(phCarrier)}},
		{`INSERT INTO staff_provinces (staff_code, province_code) SELECT * FROM unnest($1::text[], $2::text[])`,
			[]any{pq.Array(provStaff), pq.Array(provCode)}},
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (im *importer) applyRegions(ctx context.Context, tx *sqlx.Tx) (Counts, error) {
	old := map[string]dialplan.Region{}
	for _, r := range im.cur.Regions {
		old[r.Code] = r
	}
	var c Counts
	var codes, names, managers []string
	for _, r := range im.fileRegions {
		o, exists := old[r.Code]
		if !tally(&c, exists, exists && o == r.Region) {
			continue
		}
		codes, names, managers = append(codes, r.Code), append(names, r.Name), append(managers, r.Manager)
	}
	if len(codes) == 0 {
		return c, nil
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO regions (code, name, manager)
SELECT code, name, nullif(manager, '') FROM unnest($1::text[], $2::text[], $3::text[]) AS t (code, name, manager)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, manager = EXCLUDED.manager, updated_at = now()`,
		pq.Array(codes), pq.Array(names), pq.Array(managers))
	return c, err
}

func (im *importer) applyAreas(ctx context.Context, tx *sqlx.Tx) (Counts, error) {
	old := map[string]dialplan.Area{}
	for _, a := range im.cur.Areas {
		old[a.Code] = a
	}
	var c Counts
	var codes, names, regions, managers, apArea, apProvince []string
	for _, r := range im.fileAreas {
		a := r.Area
		o, exists := old[a.Code]
		equal := exists && o.Name == a.Name && o.Region == a.Region && o.Manager == a.Manager &&
			slices.Equal(sortedCopy(o.Provinces), a.Provinces)
		if !tally(&c, exists, equal) {
			continue
		}
		codes, names, regions, managers = append(codes, a.Code), append(names, a.Name), append(regions, a.Region), append(managers, a.Manager)
		for _, p := range a.Provinces {
			apArea, apProvince = append(apArea, a.Code), append(apProvince, p)
		}
	}
	if len(codes) == 0 {
		return c, nil
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO areas (code, name, region_code, manager)
SELECT code, name, region, nullif(manager, '')
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t (code, name, region, manager)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, region_code = EXCLUDED.region_code,
	manager = EXCLUDED.manager, updated_at = now()`,
			[]any{pq.Array(codes), pq.Array(names), pq.Array(regions), pq.Array(managers)}},
		{`DELETE FROM area_provinces WHERE area_code = ANY($1)`, []any{pq.Array(codes)}},
		{`INSERT INTO area_provinces (area_code, province_code) SELECT * FROM unnest($1::text[], $2::text[])`,
			[]any{pq.Array(apArea), pq.Array(apProvince)}},
	} {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (im *importer) applyCafes(ctx context.Context, tx *sqlx.Tx) (Counts, error) {
	old := make(map[string]dialplan.Cafe, len(im.cur.Cafes))
	for _, c := range im.cur.Cafes {
		old[c.Code] = c
	}
	var c Counts
	var codes, names, provinces, techs, statuses, phCafe, phE164 []string
	var phSeq []int64
	for _, r := range im.fileCafes {
		f := r.Cafe
		o, exists := old[f.Code]
		equal := exists && o.Name == f.Name && o.Province == f.Province && o.Technician == f.Technician &&
			o.Status == f.Status && slices.Equal(o.Phones, f.Phones)
		if !tally(&c, exists, equal) {
			continue
		}
		codes, names, provinces = append(codes, f.Code), append(names, f.Name), append(provinces, f.Province)
		techs, statuses = append(techs, f.Technician), append(statuses, string(f.Status))
		for i, p := range f.Phones {
			phCafe, phSeq, phE164 = append(phCafe, f.Code), append(phSeq, int64(i+1)), append(phE164, p)
		}
	}
	if len(codes) == 0 {
		return c, nil
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO cafes (code, name, province_code, technician, status)
SELECT code, name, province, nullif(tech, ''), status
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t (code, name, province, tech, status)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, province_code = EXCLUDED.province_code,
	technician = EXCLUDED.technician, status = EXCLUDED.status, updated_at = now()`,
			[]any{pq.Array(codes), pq.Array(names), pq.Array(provinces), pq.Array(techs), pq.Array(statuses)}},
		// All changed cafés lose their numbers before any gets new ones, so a
		// number moving between two cafés of the file does not collide.
		{`DELETE FROM cafe_phones WHERE cafe_code = ANY($1)`, []any{pq.Array(codes)}},
		{`INSERT INTO cafe_phones (cafe_code, seq, e164) SELECT * FROM unnest($1::text[], $2::int[], $3::text[])`,
			[]any{pq.Array(phCafe), pq.Array(phSeq), pq.Array(phE164)}},
	} {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (im *importer) applyHolidays(ctx context.Context, tx *sqlx.Tx) (Counts, error) {
	old := map[string]dialplan.Holiday{}
	for _, h := range im.cur.Holidays {
		old[holidayKey(h)] = h
	}
	var c Counts
	var days []time.Time
	var names, regions []string
	for _, r := range im.fileHolidays {
		o, exists := old[holidayKey(r.Holiday)]
		if !tally(&c, exists, exists && o.Name == r.Name) {
			continue
		}
		days = append(days, r.Date)
		names, regions = append(names, r.Name), append(regions, r.Region)
	}
	if len(days) == 0 {
		return c, nil
	}
	dayText := make([]string, len(days))
	for i, d := range days {
		dayText[i] = d.Format(time.DateOnly)
	}
	_, err := tx.ExecContext(ctx, `
INSERT INTO holidays (day, name, region_code)
SELECT day, name, nullif(region, '') FROM unnest($1::date[], $2::text[], $3::text[]) AS t (day, name, region)
ON CONFLICT (day, (coalesce(region_code, ''))) DO UPDATE SET name = EXCLUDED.name`,
		pq.Array(dayText), pq.Array(names), pq.Array(regions))
	return c, err
}
