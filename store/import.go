package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Kind is what a directory CSV file holds.
type Kind string

// Import kinds, in the order they are applied (each may refer only to the
// ones before it: regions name their manager from staff, areas their region,
// cafés their technician, holidays their region).
const (
	KindStaff    Kind = "staff"
	KindRegions  Kind = "regions"
	KindAreas    Kind = "areas"
	KindCafes    Kind = "cafes"
	KindHolidays Kind = "holidays"
)

// importOrder is the dependency order of the kinds.
var importOrder = []Kind{KindStaff, KindRegions, KindAreas, KindCafes, KindHolidays}

// Kinds lists the import kinds in the order they are applied.
func Kinds() []Kind { return slices.Clone(importOrder) }

// kindSpec names a kind's required and optional columns.
type kindSpec struct {
	required []string
	optional []string
}

func (s kindSpec) all() []string { return append(slices.Clone(s.required), s.optional...) }
func (s kindSpec) known(col string) bool {
	return slices.Contains(s.required, col) || slices.Contains(s.optional, col)
}

var kindSpecs = map[Kind]kindSpec{
	KindRegions:  {required: []string{"code", "name"}, optional: []string{"manager"}},
	KindAreas:    {required: []string{"code", "name", "region", "provinces"}, optional: []string{"manager"}},
	KindStaff:    {required: []string{"code", "name", "role", "phones"}, optional: []string{"provinces", "status", "hours"}},
	KindCafes:    {required: []string{"code", "name", "phones", "province"}, optional: []string{"technician", "status"}},
	KindHolidays: {required: []string{"date", "name"}, optional: []string{"region"}},
}

// ParseKind accepts a kind name in any case ("Cafes", "staff").
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := kindSpecs[k]; !ok {
		return "", fmt.Errorf("unknown kind %q (want regions, areas, staff, cafes or holidays)", s)
	}
	return k, nil
}

// KindFromName tells a file's kind from its name, ignoring the directory and
// case: regions.csv, areas.csv, staff.csv, cafes.csv, holidays.csv, also with
// a suffix after '-', '_' or '.' ("cafes-mien-tay.csv").
func KindFromName(name string) (Kind, error) {
	base := strings.ToLower(filepath.Base(name))
	base = strings.TrimSuffix(base, filepath.Ext(base))
	for _, k := range importOrder {
		rest, ok := strings.CutPrefix(base, string(k))
		if ok && (rest == "" || strings.ContainsRune("-_.", rune(rest[0]))) {
			return k, nil
		}
	}
	return "", fmt.Errorf("%s: cannot tell what the file holds from its name: name it regions.csv, areas.csv, "+
		"staff.csv, cafes.csv or holidays.csv, or give the kind (--kind)", name)
}

// ImportFile is one CSV file to import.
type ImportFile struct {
	Name   string    // shown in messages ("cafes.csv:12: …"); also gives the kind
	Kind   Kind      // "" = from Name
	Reader io.Reader // the CSV bytes
}

// ImportOptions tune Import.
type ImportOptions struct {
	// Kind, when set, overrides the kind of every file (the --kind flag).
	Kind Kind
	// DryRun validates and counts everything, then rolls back.
	DryRun bool
	// Progress, when set, receives a line every ProgressEvery rows read and
	// one per file read (for large files; the CLI passes stderr). The counts
	// per kind are not repeated there: they are the returned Summary.
	Progress      io.Writer
	ProgressEvery int // default 5000
	Logger        *slog.Logger
}

// Counts is what an import did to one kind of record.
type Counts struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// Summary is the result of an import.
type Summary struct {
	Kinds    map[Kind]Counts
	Warnings []string // "FILE:LINE: column: …" notes that did not stop the import
	DryRun   bool
}

// Changed reports whether the import changed anything.
func (s Summary) Changed() bool {
	for _, c := range s.Kinds {
		if c.Inserted+c.Updated > 0 {
			return true
		}
	}
	return false
}

// String renders the summary for people, one line per kind imported.
func (s Summary) String() string {
	var b strings.Builder
	for _, k := range importOrder {
		c, ok := s.Kinds[k]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%-8s %d new, %d updated, %d unchanged\n", k+":", c.Inserted, c.Updated, c.Unchanged)
	}
	if s.DryRun {
		b.WriteString("dry run: nothing was saved\n")
	}
	return b.String()
}

// RowError is one problem in an input file.
type RowError struct {
	File   string
	Line   int
	Column string
	Reason string
}

// Error renders FILE:LINE: column: reason. Problems found only when checking
// the whole directory after the import have no file ("directory: …").
func (e RowError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%s: %s", e.Column, e.Reason)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Column, e.Reason)
}

// ImportError lists every problem found in the input; when Import returns
// it, the database is unchanged.
type ImportError struct {
	Errors []RowError
}

// Error lists all problems, one per line, then a summary line.
func (e *ImportError) Error() string {
	var b strings.Builder
	for _, r := range e.Errors {
		b.WriteString(r.Error())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "import failed with %d error(s); nothing was changed", len(e.Errors))
	return b.String()
}

// ImportPaths opens the files at paths and imports them with Import.
func ImportPaths(ctx context.Context, db *sqlx.DB, paths []string, opts ImportOptions) (Summary, error) {
	files := make([]ImportFile, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return Summary{}, fmt.Errorf("store: import: %w", err)
		}
		defer f.Close()
		files = append(files, ImportFile{Name: p, Reader: f})
	}
	return Import(ctx, db, files, opts)
}

// Import reads directory CSV files and applies them in ONE transaction, in
// dependency order (staff, regions, areas, cafés, holidays), upserting by
// code. Every bad row of every file is reported, as an *ImportError listing
// FILE:LINE: column: reason; then nothing at all is changed. After the rows
// are written the whole directory is checked with dialplan.NewDirectory, so
// an import can never leave a directory the hotline cannot load. A café's
// (staff member's, area's) list of numbers (numbers and provinces,
// provinces) is replaced by the file's. Rows absent from a file are left
// alone: retire a café or a person with status terminated. Committing
// notifies DirectoryChannel, so running instances reload.
func Import(ctx context.Context, db *sqlx.DB, files []ImportFile, opts ImportOptions) (Summary, error) {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 5000
	}
	log := opts.Logger
	if log == nil {
		log = discardLogger()
	}
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}
	sum := Summary{Kinds: map[Kind]Counts{}, DryRun: opts.DryRun}
	var errs []RowError
	byKind := map[Kind][]*table{}
	for _, f := range files {
		kind := f.Kind
		if opts.Kind != "" {
			kind = opts.Kind
		}
		if kind == "" {
			k, err := KindFromName(f.Name)
			if err != nil {
				return sum, fmt.Errorf("store: import: %w", err)
			}
			kind = k
		}
		if _, ok := kindSpecs[kind]; !ok {
			return sum, fmt.Errorf("store: import %s: unknown kind %q", f.Name, kind)
		}
		name := f.Name
		t, rowErrs, warns, err := readTable(name, kind, f.Reader, func(n int) {
			if n%opts.ProgressEvery == 0 {
				progress("%s: %d rows read", name, n)
			}
		})
		if err != nil {
			return sum, fmt.Errorf("store: import: %w", err)
		}
		progress("%s: %d rows (%s)", name, len(t.rows), kind)
		errs = append(errs, rowErrs...)
		sum.Warnings = append(sum.Warnings, warns...)
		if len(rowErrs) == 0 {
			byKind[kind] = append(byKind[kind], t)
		}
	}

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return sum, fmt.Errorf("store: import: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// One import at a time: each validates against the state it read.
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('hotline_import'))"); err != nil {
		return sum, fmt.Errorf("store: import: lock: %w", err)
	}
	cur, err := loadData(ctx, tx)
	if err != nil {
		return sum, fmt.Errorf("store: import: read current directory: %w", err)
	}
	im := newImporter(cur)
	for _, k := range importOrder {
		for _, t := range byKind[k] {
			im.parse(t)
		}
	}
	errs = append(errs, im.errs...)
	sum.Warnings = append(sum.Warnings, im.warnings...)
	if len(errs) > 0 {
		return sum, &ImportError{Errors: errs}
	}
	for _, k := range importOrder {
		if len(byKind[k]) == 0 {
			continue
		}
		c, err := im.apply(ctx, tx, k)
		if err != nil {
			return sum, fmt.Errorf("store: import %s: %w", k, err)
		}
		sum.Kinds[k] = c
	}
	if sum.Changed() {
		if err := checkDirectory(ctx, tx); err != nil {
			return sum, err
		}
	}
	if opts.DryRun {
		return sum, nil // the deferred rollback undoes it all
	}
	if err := tx.Commit(); err != nil {
		return sum, fmt.Errorf("store: import: commit: %w", err)
	}
	log.Info("directory imported", "summary", strings.TrimSpace(sum.String()), "warnings", len(sum.Warnings))
	return sum, nil
}
