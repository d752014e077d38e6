package dialplan

import (
	"slices"
	"strings"
)

// trunkTable is what Plan derives from one Trunks value: the trunk names in
// routing order and the dial string of every staff number through every
// trunk, so that a plan fills targets without building strings. A Directory
// caches the tables of the last few Trunks values it saw, by content (a
// config reload that builds an equal map finds its table).
type trunkTable struct {
	names []string // sorted; index i is trunk i
	tpls  []string // tpls[i] is the template of names[i]
	def   int      // index of DefaultTrunk, -1 when not configured
	// The dial string of phone id and trunk i is text[off[k]:off[k+1]] with
	// k = id*len(names)+i: one string for all, so the table is one block
	// without pointers for the garbage collector to scan.
	text string
	off  []uint32
	// via[w*n+u] is "<w> trunk unavailable, via <u>", the why of a number
	// whose trunk w is replaced by u.
	via []string
}

// maxTrunkTables bounds Directory's cache of trunk tables; the oldest is
// dropped for a new one.
const maxTrunkTables = 8

// matches reports whether the table was built for a Trunks equal to t.
func (tt *trunkTable) matches(t Trunks) bool {
	if len(t) != len(tt.names) {
		return false
	}
	for i, name := range tt.names {
		if tpl, ok := t[name]; !ok || tpl != tt.tpls[i] {
			return false
		}
	}
	return true
}

// index returns the index of a trunk name, -1 when not configured.
func (tt *trunkTable) index(name string) int {
	for i, n := range tt.names {
		if n == name {
			return i
		}
	}
	return -1
}

// dial returns the dial string of phone id through trunk i.
func (tt *trunkTable) dial(id, i int) string {
	k := id*len(tt.names) + i
	return tt.text[tt.off[k]:tt.off[k+1]]
}

// trunkTable returns the directory's table for t, building (and caching) it
// when t was not seen recently.
func (d *Directory) trunkTable(t Trunks) *trunkTable {
	if tabs := d.trunkTabs.Load(); tabs != nil {
		for _, tt := range *tabs {
			if tt.matches(t) {
				return tt
			}
		}
	}
	d.trunkMu.Lock()
	defer d.trunkMu.Unlock()
	var old []*trunkTable
	if tabs := d.trunkTabs.Load(); tabs != nil {
		old = *tabs
		for _, tt := range old {
			if tt.matches(t) { // built meanwhile
				return tt
			}
		}
	}
	tt := d.buildTrunkTable(t)
	tabs := make([]*trunkTable, 0, maxTrunkTables)
	tabs = append(tabs, tt)
	tabs = append(tabs, old[:min(len(old), maxTrunkTables-1)]...)
	d.trunkTabs.Store(&tabs)
	return tt
}

func (d *Directory) buildTrunkTable(t Trunks) *trunkTable {
	tt := &trunkTable{def: -1}
	for name := range t {
		tt.names = append(tt.names, name)
	}
	slices.Sort(tt.names)
	n := len(tt.names)
	tt.tpls = make([]string, n)
	for i, name := range tt.names {
		tt.tpls[i] = t[name]
		if name == DefaultTrunk {
			tt.def = i
		}
	}
	tt.via = make([]string, n*n)
	for w := range n {
		for u := range n {
			if u != w {
				tt.via[w*n+u] = tt.names[w] + " trunk unavailable, via " + tt.names[u]
			}
		}
	}
	var b strings.Builder
	tt.off = make([]uint32, 0, len(d.phoneList)*n+1)
	tt.off = append(tt.off, 0)
	for _, ph := range d.phoneList {
		for _, tpl := range tt.tpls {
			b.WriteString(dialString(tpl, ph))
			tt.off = append(tt.off, uint32(b.Len()))
		}
	}
	tt.text = b.String()
	return tt
}

func dialString(tpl string, ph dialPhone) string {
	s := strings.ReplaceAll(tpl, "{number}", ph.national)
	return strings.ReplaceAll(s, "{e164}", ph.e164)
}
