package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/jmoiron/sqlx"
)

// LoadDirectory reads everything routing needs in one repeatable-read
// transaction (a consistent snapshot even while an import commits) and
// builds the indexed dialplan.Directory.
func LoadDirectory(ctx context.Context, db *sqlx.DB, opts ...dialplan.Option) (*dialplan.Directory, error) {
	tx, err := db.BeginTxx(ctx, &sqlTxReadOnlySnapshot)
	if err != nil {
		return nil, fmt.Errorf("store: load directory: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	data, err := loadData(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("store: load directory: %w", err)
	}
	d, err := dialplan.NewDirectory(data, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: load directory: %w", err)
	}
	return d, nil
}

// LoadDirectoryData reads the directory tables into dialplan.DirectoryData
// without building the Directory (for tools and tests).
func LoadDirectoryData(ctx context.Context, db *sqlx.DB) (dialplan.DirectoryData, error) {
	tx, err := db.BeginTxx(ctx, &sqlTxReadOnlySnapshot)
	if err != nil {
		return dialplan.DirectoryData{}, fmt.Errorf("store: load directory: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	data, err := loadData(ctx, tx)
	if err != nil {
		return data, fmt.Errorf("store: load directory: %w", err)
	}
	return data, nil
}

// checkDirectory builds a Directory from the state inside tx (after an
// import wrote to it) and turns its problems into an *ImportError.
func checkDirectory(ctx context.Context, tx *sqlx.Tx) error {
	data, err := loadData(ctx, tx)
	if err != nil {
		return fmt.Errorf("store: import: check directory: %w", err)
	}
	_, err = dialplan.NewDirectory(data)
	var de *dialplan.DirectoryError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		ie := &ImportError{}
		for _, p := range de.Problems {
			ie.Errors = append(ie.Errors, RowError{Column: "directory", Reason: p})
		}
		return ie
	default:
		return fmt.Errorf("store: import: check directory: %w", err)
	}
}

// loadData reads the directory tables with q (a DB or a transaction).
func loadData(ctx context.Context, q sqlx.QueryerContext) (dialplan.DirectoryData, error) {
	var data dialplan.DirectoryData

	var provinces []provinceRow
	if err := sqlx.SelectContext(ctx, q, &provinces,
		"SELECT code, name, ascii_name, area_code, merged_into FROM provinces ORDER BY area_code"); err != nil {
		return data, fmt.Errorf("provinces: %w", err)
	}
	for _, p := range provinces {
		data.Provinces = append(data.Provinces, dialplan.Province{Code: p.Code, Name: p.Name, ASCII: p.ASCII,
			AreaCode: p.AreaCode, MergedInto: p.MergedInto})
	}

	var regions []struct {
		Code    string `db:"code"`
		Name    string `db:"name"`
		Manager string `db:"manager"`
	}
	if err := sqlx.SelectContext(ctx, q, &regions,
		"SELECT code, name, coalesce(manager, '') AS manager FROM regions ORDER BY code"); err != nil {
		return data, fmt.Errorf("regions: %w", err)
	}
	for _, r := range regions {
		data.Regions = append(data.Regions, dialplan.Region{Code: r.Code, Name: r.Name, Manager: r.Manager})
	}

	var areas []struct {
		Code    string `db:"code"`
		Name    string `db:"name"`
		Region  string `db:"region_code"`
		Manager string `db:"manager"`
	}
	if err := sqlx.SelectContext(ctx, q, &areas,
		"SELECT code, name, region_code, coalesce(manager, '') AS manager FROM areas ORDER BY code"); err != nil {
		return data, fmt.Errorf("areas: %w", err)
	}
	areaProvinces, err := pairs(ctx, q, "SELECT area_code, province_code FROM area_provinces ORDER BY 1, 2")
	if err != nil {
		return data, fmt.Errorf("area provinces: %w", err)
	}
	for _, a := range areas {
		data.Areas = append(data.Areas, dialplan.Area{Code: a.Code, Name: a.Name, Region: a.Region,
			Manager: a.Manager, Provinces: areaProvinces[a.Code]})
	}

	var staff []struct {
		Code   string `db:"code"`
		Name   string `db:"name"`
		Role   string `db:"role"`
		Status string `db:"status"`
		Hours  string `db:"hours"`
	}
	if err := sqlx.SelectContext(ctx, q, &staff,
		"SELECT code, name, role, status, hours FROM staff ORDER BY code"); err != nil {
		return data, fmt.Errorf("staff: %w", err)
	}
	var phones []struct {
		Staff   string `db:"staff_code"`
		E164    string `db:"e164"`
		Carrier string `db:"carrier"`
	}
	if err := sqlx.SelectContext(ctx, q, &phones,
		"SELECT staff_code, e164, carrier FROM staff_phones ORDER BY staff_code, seq"); err != nil {
		return data, fmt.Errorf("staff phones: %w", err)
	}
	phonesOf := map[string][]dialplan.Phone{}
	for _, p := range phones {
		phonesOf[p.Staff] = append(phonesOf[p.Staff], dialplan.Phone{E164: p.E164, Carrier: dialplan.Carrier(p.Carrier)})
	}
	staffProvinces, err := pairs(ctx, q, "SELECT staff_code, province_code FROM staff_provinces ORDER BY 1, 2")
	if err != nil {
		return data, fmt.Errorf("staff provinces: %w", err)
	}
	for _, s := range staff {
		hours, err := dialplan.ParseSchedule(s.Hours)
		if err != nil {
			return data, fmt.Errorf("staff %s: hours: %w", s.Code, err)
		}
		data.Staff = append(data.Staff, dialplan.Staff{Code: s.Code, Name: s.Name, Role: dialplan.Role(s.Role),
			Status: dialplan.Status(s.Status), Phones: phonesOf[s.Code], Provinces: staffProvinces[s.Code], Hours: hours})
	}

	var cafes []struct {
		Code       string `db:"code"`
		Name       string `db:"name"`
		Province   string `db:"province_code"`
		Technician string `db:"technician"`
		Status     string `db:"status"`
	}
	if err := sqlx.SelectContext(ctx, q, &cafes,
		"SELECT code, name, province_code, coalesce(technician, '') AS technician, status FROM cafes ORDER BY code"); err != nil {
		return data, fmt.Errorf("cafes: %w", err)
	}
	cafePhones, err := pairs(ctx, q, "SELECT cafe_code, e164 FROM cafe_phones ORDER BY cafe_code, seq")
	if err != nil {
		return data, fmt.Errorf("cafe phones: %w", err)
	}
	data.Cafes = make([]dialplan.Cafe, 0, len(cafes))
	for _, c := range cafes {
		data.Cafes = append(data.Cafes, dialplan.Cafe{Code: c.Code, Name: c.Name, Province: c.Province,
			Technician: c.Technician, Status: dialplan.Status(c.Status), Phones: cafePhones[c.Code]})
	}

	refusals, err := pairList(ctx, q, "SELECT staff_code, cafe_code FROM refusals ORDER BY 1, 2")
	if err != nil {
		return data, fmt.Errorf("refusals: %w", err)
	}
	for _, r := range refusals {
		data.Refusals = append(data.Refusals, dialplan.Refusal{Staff: r[0], Cafe: r[1]})
	}

	var holidays []struct {
		Day    time.Time `db:"day"`
		Name   string    `db:"name"`
		Region string    `db:"region_code"`
	}
	if err := sqlx.SelectContext(ctx, q, &holidays,
		"SELECT day, name, coalesce(region_code, '') AS region_code FROM holidays ORDER BY day, region_code NULLS FIRST"); err != nil {
		return data, fmt.Errorf("holidays: %w", err)
	}
	for _, h := range holidays {
		data.Holidays = append(data.Holidays, dialplan.Holiday{Date: civil(h.Day), Name: h.Name, Region: h.Region})
	}
	return data, nil
}

// civil turns a DATE column (read as midnight UTC) into midnight in
// Asia/Ho_Chi_Minh of the same calendar day.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, dialplan.Location())
}

// pairs reads two-column rows into key → values (in query order).
func pairs(ctx context.Context, q sqlx.QueryerContext, query string) (map[string][]string, error) {
	list, err := pairList(ctx, q, query)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, p := range list {
		out[p[0]] = append(out[p[0]], p[1])
	}
	return out, nil
}

func pairList(ctx context.Context, q sqlx.QueryerContext, query string) ([][2]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// sortedCopy returns a sorted copy of s.
func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
