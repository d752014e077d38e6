package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/config"
)

// callback.* reaches the call flow: on/off, timings, and the hours as a
// daily window in Asia/Ho_Chi_Minh.
func TestCallbackConfigForTheCallFlow(t *testing.T) {
	c := config.Default().Callback
	c.Enabled = true
	got := callbackConfig(c)
	require.True(t, got.Enabled)
	require.Equal(t, 20*time.Second, got.MinWait)
	require.Equal(t, 3, got.Tries)
	require.Equal(t, 10*time.Minute, got.Retry)
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, dialplan.Location()) }
	for _, tc := range []struct {
		t    time.Time
		open bool
	}{
		{at(11, 6, 59), false}, {at(11, 7, 0), true}, {at(11, 21, 59), true}, {at(11, 22, 0), false},
		{at(15, 7, 0), true}, // a Sunday
		{at(14, 23, 30), false},
	} {
		require.Equal(t, tc.open, got.Hours.OpenAt(tc.t), "%s", tc.t)
	}
	c.Hours = "08:30-24:00"
	got = callbackConfig(c)
	require.False(t, got.Hours.OpenAt(at(11, 8, 29)))
	require.True(t, got.Hours.OpenAt(at(11, 23, 59)))
}
