package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/sim"
	"github.com/csm-vn/hotline/store"
)

// importSynthetic generates the synthetic directory of spec from seed and
// writes it into the database through the same import as `hotline import`
// (one transaction; a second run with the same spec and seed changes
// nothing), so `hotline serve` on that database routes the simulated calls
// with it.
func importSynthetic(ctx context.Context, db *sqlx.DB, spec sim.DirectorySpec, seed uint64, log *slog.Logger) (*sim.SyntheticDirectory, error) {
	dir, err := sim.GenerateDirectory(spec, seed)
	if err != nil {
		return nil, err
	}
	// Every province belongs to one area: the synthetic areas cannot join a
	// directory that has its own.
	var others []string
	if err := db.SelectContext(ctx, &others,
		"SELECT code FROM areas WHERE code NOT LIKE 'SY%' ORDER BY code LIMIT 5"); err != nil {
		return nil, fmt.Errorf("simulate: read the database's areas: %w", err)
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("simulate: --directory %s needs a database of its own: this one holds another directory "+
			"(areas %s); create one (createdb hotline_load), point HOTLINE_DATABASE_URL at it and run hotline migrate",
			spec, strings.Join(others, ", "))
	}
	var files []store.ImportFile
	for _, f := range dir.CSV() {
		files = append(files, store.ImportFile{Name: "synthetic/" + f.Name, Reader: bytes.NewReader(f.Data)})
	}
	sum, err := store.Import(ctx, db, files, store.ImportOptions{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("simulate: import the synthetic directory: %w", err)
	}
	log.Info("synthetic directory in the database", "directory", spec.String(), "seed", seed, "changed", sum.Changed())
	return dir, nil
}

// syntheticCallers are the synthetic directory's active cafés with a number,
// as the database holds them; other cafés in the database (e.g. left from an
// earlier, larger synthetic directory) do not call, and are reported once.
func syntheticCallers(data dialplan.DirectoryData, dir *sim.SyntheticDirectory, log *slog.Logger) []dialplan.Cafe {
	ours := make(map[string]bool, len(dir.Data.Cafes))
	for _, c := range dir.Data.Cafes {
		ours[c.Code] = true
	}
	var cafes []dialplan.Cafe
	others := 0
	for _, c := range data.Cafes {
		switch {
		case !ours[c.Code]:
			others++
		case c.Status == dialplan.StatusActive && len(c.Phones) > 0:
			cafes = append(cafes, c)
		}
	}
	if others > 0 {
		log.Warn("the database holds other cafés than the synthetic ones; only the synthetic cafés call, "+
			"but serve may ring the other directory's people too (use a database of its own for load runs)",
			"other_cafes", others)
	}
	return cafes
}
