package store

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// table is one CSV file read into memory: its header and data rows, each
// with the line it starts on.
type table struct {
	file    string
	kind    Kind
	columns map[string]int // header name → index
	rows    []row
}

type row struct {
	line   int
	fields []string
}

// get returns the trimmed cell of column col ("" when the column is absent or
// the row is short).
func (t *table) get(r row, col string) string {
	i, ok := t.columns[col]
	if !ok || i >= len(r.fields) {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// maxParseErrors stops reading a file that is not CSV at all.
const maxParseErrors = 100

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readTable reads a CSV file: UTF-8 with or without a byte-order mark, comma
// or semicolon separated (whichever the header line uses more; Excel writes
// both depending on the locale), a header row, quoted fields, blank lines
// ignored. Header problems and malformed lines become row errors; unknown
// columns become warnings.
func readTable(name string, kind Kind, r io.Reader, progress func(rows int)) (*table, []RowError, []string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	t := &table{file: name, kind: kind, columns: map[string]int{}}
	var errs []RowError
	var warnings []string
	fail := func(line int, col, format string, args ...any) {
		errs = append(errs, RowError{File: name, Line: line, Column: col, Reason: fmt.Sprintf(format, args...)})
	}

	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = detectDelimiter(data)
	cr.FieldsPerRecord = -1 // short rows are padded, long rows checked below
	cr.ReuseRecord = false

	spec := kindSpecs[kind]
	var header []string
	headerLine := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				fail(pe.StartLine, "csv", "%v", pe.Err)
				if len(errs) >= maxParseErrors {
					fail(pe.Line, "csv", "too many errors, stopped reading this file")
					return t, errs, warnings, nil
				}
				continue
			}
			return nil, nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if header == nil {
			header, headerLine = rec, line
			continue
		}
		t.rows = append(t.rows, row{line: line, fields: rec})
		if progress != nil {
			progress(len(t.rows))
		}
	}
	if header == nil {
		fail(1, "header", "no header row (want %s)", strings.Join(spec.all(), ","))
		return t, errs, warnings, nil
	}
	for i, h := range header {
		col := normalizeColumn(h)
		if col == "" {
			continue
		}
		if _, dup := t.columns[col]; dup {
			fail(headerLine, col, "column appears twice in the header")
			continue
		}
		t.columns[col] = i
		if !spec.known(col) {
			warnings = append(warnings, fmt.Sprintf("%s:%d: %s: unknown column ignored (known: %s)",
				name, headerLine, col, strings.Join(spec.all(), ", ")))
		}
	}
	for _, col := range spec.required {
		if _, ok := t.columns[col]; !ok {
			fail(headerLine, col, "missing required column (header must have %s)", strings.Join(spec.required, ", "))
		}
	}
	return t, errs, warnings, nil
}

// detectDelimiter picks ';' or ',' from the first line, counting separators
// outside quotes.
func detectDelimiter(data []byte) rune {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		commas, semis, quoted := 0, 0, false
		for _, c := range line {
			switch {
			case c == '"':
				quoted = !quoted
			case quoted:
			case c == ',':
				commas++
			case c == ';':
				semis++
			}
		}
		if semis > commas {
			return ';'
		}
		return ','
	}
	return ','
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// normalizeColumn makes header names forgiving: case, surrounding spaces and
// inner spaces or dashes ("Province Code" = "province_code").
func normalizeColumn(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

// splitList splits a cell holding several values: separated by ';' (or ','
// or a newline, which spreadsheet users also type), blanks dropped.
func splitList(cell string) []string {
	parts := strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == ',' || r == '\n' })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
