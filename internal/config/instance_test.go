package config

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The instance identity is stable across restarts: the host name and the
// application by default (never a process id or a time), the file's
// instance key, or HOTLINE_INSTANCE, which wins.
func TestInstanceIdentity(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)

	cfg, err := LoadFile("", valid)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, host+"/hotline", cfg.InstanceID())
	again, err := LoadFile("", valid)
	require.NoError(t, err)
	require.Equal(t, cfg.InstanceID(), again.InstanceID(), "the same on every start")

	cfg, err = LoadFile("", append(append([]string{}, valid...), "HOTLINE_ARI_APP=hotline-b"))
	require.NoError(t, err)
	require.Equal(t, host+"/hotline-b", cfg.InstanceID())

	cfg, err = Load("instance: pbx-a.hotline\n")
	require.NoError(t, err)
	require.Equal(t, "pbx-a.hotline", cfg.InstanceID())
	require.NoError(t, cfg.ApplyEnv(append(append([]string{}, valid...), "HOTLINE_INSTANCE=node-2/hotline")))
	require.Equal(t, "node-2/hotline", cfg.InstanceID(), "the environment wins")
	require.NoError(t, cfg.Validate())
}

func TestInstanceValidation(t *testing.T) {
	for _, bad := range []string{"-node", "node a", "node;drop", "nút-1", strings.Repeat("a", 129)} {
		cfg, err := LoadFile("", append(append([]string{}, valid...), "HOTLINE_INSTANCE="+bad))
		require.NoError(t, err)
		err = cfg.Validate()
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "instance: ", bad)
		require.NoError(t, cfg.ValidateOffline(), "only serve needs an instance")
	}
	for _, good := range []string{"a", "pbx-a.example.vn/hotline", "node_2:hotline", "hotline@host1"} {
		cfg, err := LoadFile("", append(append([]string{}, valid...), "HOTLINE_INSTANCE="+good))
		require.NoError(t, err)
		require.NoError(t, cfg.Validate(), good)
	}
}
