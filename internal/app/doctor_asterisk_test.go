package app

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/config"
)

// TestDoctorAsterisk runs the doctor against the real Asterisk of
// scripts/test.sh's real-Asterisk stage (HOTLINE_TEST_ARI_*; skipped
// without them, failed when HOTLINE_TEST_REQUIRE_ASTERISK is set): its
// version through ARI, the application free, every shipped prompt found in
// Vietnamese through ARI's sounds resource, a line for each trunk endpoint;
// and a wrong password named as such. Trunk states depend on that Asterisk's
// pjsip.conf and are not asserted.
func TestDoctorAsterisk(t *testing.T) {
	url, user, pass := os.Getenv("HOTLINE_TEST_ARI_URL"), os.Getenv("HOTLINE_TEST_ARI_USER"), os.Getenv("HOTLINE_TEST_ARI_PASSWORD")
	if url == "" || user == "" || pass == "" {
		if os.Getenv("HOTLINE_TEST_REQUIRE_ASTERISK") != "" {
			t.Fatal("HOTLINE_TEST_REQUIRE_ASTERISK is set but HOTLINE_TEST_ARI_URL/USER/PASSWORD are not")
		}
		t.Skip("HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER and HOTLINE_TEST_ARI_PASSWORD not set")
	}
	cfg := config.Default()
	require.NoError(t, cfg.ApplyEnv([]string{
		"HOTLINE_DATABASE_URL=" + correctDatabase(t), "HOTLINE_ARI_URL=" + url,
		"HOTLINE_ARI_USER=" + user, "HOTLINE_ARI_PASSWORD=" + pass, "HOTLINE_SPOOL_DIR=" + t.TempDir(),
	}))
	cfg.HTTP.Addr = freeAddr(t)
	s := &doctorSetup{cfg: cfg}
	_, c, _ := s.run(t)
	require.Equal(t, CheckOK, c["ari"].Status, c["ari"].Message)
	require.Contains(t, c["ari"].Message, "Asterisk 22.")
	require.Equal(t, CheckOK, c["ari_app"].Status, c["ari_app"].Message)
	require.Equal(t, CheckOK, c["prompts"].Status, c["prompts"].Message)
	require.Equal(t, "all 118 found on Asterisk (language vi)", c["prompts"].Message)
	for _, ep := range []string{"gw-viettel", "gw-vinaphone"} {
		_, ok := c["trunk "+ep]
		require.True(t, ok, "no line for trunk %s", ep)
	}
	require.Equal(t, CheckOK, c["coverage"].Status, c["coverage"].Message)

	s.cfg.ARI.Password = "not-" + pass
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep := Doctor(ctx, s.cfg, DoctorOptions{At: doctorAt})
	require.False(t, rep.OK)
	for _, ch := range rep.Checks {
		if ch.Check == "ari" {
			require.Equal(t, CheckFail, ch.Status)
			require.True(t, strings.Contains(ch.Message, "(401 Unauthorized): wrong user or password"), ch.Message)
		}
	}
}
