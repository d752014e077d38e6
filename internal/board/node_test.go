package board

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With several Asterisk nodes each live call says its node, on the page
// and in the JSON; with one node (Node empty) nothing is shown.
func TestNodeOnTheBoard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, node string
		where      string // the card's .where line
	}{
		{"several nodes", "node-b", "Kiên Giang · Miền Nam · Nút node-b"},
		{"one node", "", "Kiên Giang · Miền Nam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture()
			s.Calls = []Call{{ID: "c1", State: StateRinging, CafeCode: "CF0123", CafeName: "Quán Net Hoàng Long",
				Province: "Kiên Giang", Region: "south", Caller: "+84912345678", Started: ago(20 * time.Second),
				Node: tc.node}}
			w := get(t, Handler(static(s), Options{}), "/")
			require.Equal(t, 200, w.Code)
			art := element(t, w.Body.String(), "call-c1", "article")
			where := regexp.MustCompile(`(?s)<p class="where">.*?</p>`).FindString(art)
			assert.Equal(t, tc.where, text(where))

			w = get(t, Handler(static(s), Options{}), "/board.json")
			var raw struct {
				Calls []map[string]any `json:"calls"`
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
			require.Len(t, raw.Calls, 1)
			got, present := raw.Calls[0]["node"]
			if tc.node == "" {
				assert.False(t, present, "no node field with one node")
			} else {
				assert.Equal(t, tc.node, got)
			}
		})
	}
}
