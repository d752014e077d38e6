package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/csm-vn/hotline/internal/config"
)

// Every prompt the call flow can play with the default configuration exists
// in deploy/asterisk/sounds as an 8 kHz mono WAV: the greeting and the rest,
// the digits and letters of café codes, and every province's name.
func TestShippedPromptsCoverTheConfiguration(t *testing.T) {
	const dir = "../../deploy/asterisk/sounds"
	p := config.Default().Prompts
	names := promptNames(p)
	require.Contains(t, names, "vi/letter-k", "café codes' letters are spoken")
	require.Contains(t, names, "vi/province-0297")
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name+".wav"))
		require.NoError(t, err, "prompt %s", name)
		require.Greater(t, len(b), 44, name)
		// RIFF/WAVE, PCM, 1 channel, 8000 Hz (little-endian header fields).
		require.Equal(t, "RIFF", string(b[0:4]), name)
		require.Equal(t, "WAVE", string(b[8:12]), name)
		require.Equal(t, uint16(1), uint16(b[22])|uint16(b[23])<<8, "%s: mono", name)
		rate := uint32(b[24]) | uint32(b[25])<<8 | uint32(b[26])<<16 | uint32(b[27])<<24
		require.Equal(t, uint32(8000), rate, "%s: 8 kHz", name)
	}
	tsv, err := os.ReadFile(filepath.Join(dir, "prompts.tsv"))
	require.NoError(t, err)
	for _, name := range names {
		require.Contains(t, string(tsv), "\n"+strings.TrimPrefix(name, "vi/")+"\t", "prompts.tsv generates %s", name)
	}
}
