package board

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A callback in progress is marked as such, and the cafés waiting to be
// called back are counted, on the page and in the JSON.
func TestCallbacksOnTheBoard(t *testing.T) {
	t.Parallel()
	s := fixture()
	s.CallbacksPending = 2
	s.Calls = []Call{{ID: "cb", State: StateRinging, CafeCode: "CF0123", CafeName: "Quán Net Hoàng Long",
		Province: "Kiên Giang", Caller: "+84912345678", Started: ago(20 * time.Second), Callback: true,
		Target: &Person{Staff: "KTV07", Name: "Nguyễn Văn Bình", Role: RoleTechnician, Number: "0987654321", Since: ago(20 * time.Second)}}}
	w := get(t, Handler(static(s), Options{}), "/")
	require.Equal(t, 200, w.Code)
	body := w.Body.String()
	art := element(t, body, "call-cb", "article")
	assert.Contains(t, art, `class="call ringing callback"`)
	assert.Contains(t, text(art), "Tổng đài gọi lại số 0912•••678")
	assert.Equal(t, "Quán chờ được gọi lại: 2 Callbacks pending", text(element(t, body, "callbacks-pending", "p")))

	// While the café's phone rings, the café is the one being called.
	s.Calls[0].Target = &Person{Name: "Quán Net Hoàng Long", Role: RoleCafe, Number: "0912345678", Since: ago(2 * time.Second)}
	w = get(t, Handler(static(s), Options{}), "/")
	assert.Contains(t, text(element(t, w.Body.String(), "call-cb", "article")),
		"Đang gọi cho Quán Net Hoàng Long (Quán net) 0912•••678")

	w = get(t, Handler(static(s), Options{}), "/board.json")
	var b jsonBoard
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
	assert.Equal(t, 2, b.CallbacksPending)
	require.Len(t, b.Calls, 1)
	assert.True(t, b.Calls[0].Callback)

	s.CallbacksPending = 0
	w = get(t, Handler(static(s), Options{}), "/")
	assert.NotContains(t, w.Body.String(), "callbacks-pending", "nothing shown when none waits")
}
