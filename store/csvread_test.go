package store

import (
	"strings"
	"testing"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/stretchr/testify/require"
)

func TestDetectDelimiter(t *testing.T) {
	for in, want := range map[string]rune{
		"code,name,manager\n":             ',',
		"code;name;manager\n":             ';',
		"\n\ncode;name\n":                 ';',
		`"a;b;c",name` + "\n":             ',',
		"code,name,phones\nX;Y;Z;W;V;U\n": ',',
		"":                                ',',
	} {
		require.Equal(t, want, detectDelimiter([]byte(in)), "%q", in)
	}
}

func TestSplitList(t *testing.T) {
	require.Equal(t, []string{"a", "b c", "d"}, splitList(" a ;b c,, d;\n"))
	require.Empty(t, splitList(" ; , "))
}

func TestReadTableLineNumbers(t *testing.T) {
	in := "\uFEFF\n code ; Name;MANAGER;extra\n\nR1;\"Miền\nNam\";M1;x\n;;;\nR2;Bắc;;\n"
	tb, errs, warns, err := readTable("regions.csv", KindRegions, strings.NewReader(in), nil)
	require.NoError(t, err)
	require.Empty(t, errs)
	require.Equal(t, []string{"regions.csv:2: extra: unknown column ignored (known: code, name, manager)"}, warns)
	require.Len(t, tb.rows, 2)
	require.Equal(t, 4, tb.rows[0].line)
	require.Equal(t, "Miền\nNam", tb.get(tb.rows[0], "name"))
	require.Equal(t, 7, tb.rows[1].line, "a quoted newline counts")
	require.Equal(t, "", tb.get(tb.rows[1], "manager"))
}

func TestReadTableHeaderErrors(t *testing.T) {
	_, errs, _, err := readTable("staff.csv", KindStaff, strings.NewReader(""), nil)
	require.NoError(t, err)
	require.Equal(t, "staff.csv:1: header: no header row (want code,name,role,phones,provinces,status,hours)", errs[0].Error())

	_, errs, _, err = readTable("staff.csv", KindStaff, strings.NewReader("code,name,code,role\n"), nil)
	require.NoError(t, err)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	require.Equal(t, []string{
		"staff.csv:1: code: column appears twice in the header",
		"staff.csv:1: phones: missing required column (header must have code, name, role, phones)",
	}, msgs)
}

// FuzzImportParse feeds arbitrary bytes through the CSV reader and the row
// validation of every kind (no database): it must never panic, and every
// problem must point at a line of the file.
func FuzzImportParse(f *testing.F) {
	f.Add([]byte("code,name,role,phones,provinces,status,hours\nKTV01,A,technician,0945550101:vinaphone; 0965550102,Kiên Giang; 0299,active,Mon-Sat 07:00-22:00\n"))
	f.Add([]byte("code;name;phones;province;technician;status\nKG1;\"Net; A\";01235550203;kien giang;;\n"))
	f.Add([]byte("\uFEFFdate,name,region\n31/12/2026,x,\n2026-02-30,y,MN\n"))
	f.Add([]byte("code,name,region,manager,provinces\nA,\"b\"\"c\",R,,0297;Hà Nội\n"))
	f.Add([]byte("\"unterminated\n,,,\n"))
	kinds := Kinds()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range kinds {
			tb, errs, _, err := readTable("f.csv", k, strings.NewReader(string(data)), nil)
			if err != nil {
				t.Fatalf("readTable: %v", err)
			}
			for _, e := range errs {
				if e.File != "f.csv" || e.Line < 1 || e.Column == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
			im := newImporter(dialplan.DirectoryData{Provinces: dialplan.Provinces()})
			im.parse(tb)
			for _, e := range im.errs {
				if e.File != "f.csv" || e.Line < 1 || e.Column == "" || e.Reason == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
		}
	})
}
