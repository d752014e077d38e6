package config

import (
	"fmt"
	"strconv"
	"strings"
)

// The environment variables that override the file. HOTLINE_TRUNK_<CARRIER>
// sets trunks[<carrier>] (lower case), HOTLINE_TRUNK_DEFAULT trunks["default"].
const (
	EnvDatabaseURL = "HOTLINE_DATABASE_URL"
	EnvSpoolDir    = "HOTLINE_SPOOL_DIR"
	EnvARIURL      = "HOTLINE_ARI_URL"
	EnvARIUser     = "HOTLINE_ARI_USER"
	EnvARIPassword = "HOTLINE_ARI_PASSWORD"
	EnvARIApp      = "HOTLINE_ARI_APP"
	EnvARINode     = "HOTLINE_ARI_NODE"
	EnvHTTPAddr    = "HOTLINE_HTTP_ADDR"
	EnvBoardToken  = "HOTLINE_BOARD_TOKEN"
	EnvLogLevel    = "HOTLINE_LOG_LEVEL"
	EnvLogFormat   = "HOTLINE_LOG_FORMAT"
	EnvCallerID    = "HOTLINE_CALLER_ID"
	EnvInstance    = "HOTLINE_INSTANCE"
	// EnvCallbackEnabled is callback.enabled: true or false.
	EnvCallbackEnabled = "HOTLINE_CALLBACK_ENABLED"
	EnvTrunkPrefix     = "HOTLINE_TRUNK_"
	// EnvConfig names the YAML file; read by the command line, not here.
	EnvConfig = "HOTLINE_CONFIG"
)

// ApplyEnv overrides c with the HOTLINE_* variables found in environ
// ("KEY=value" pairs, as os.Environ returns them). An empty value counts as
// unset. Unknown HOTLINE_* names are errors, so a typo does not pass silently;
// HOTLINE_TEST_* (the test suite's) and HOTLINE_DEV_* (the dev scripts')
// variables are ignored.
func (c *Config) ApplyEnv(environ []string) error {
	strs := map[string]*string{
		EnvDatabaseURL: &c.Database.URL,
		EnvSpoolDir:    &c.Database.SpoolDir,
		EnvARIURL:      &c.ARI.URL,
		EnvARIUser:     &c.ARI.User,
		EnvARIPassword: &c.ARI.Password,
		EnvARIApp:      &c.ARI.App,
		EnvARINode:     &c.ARI.Node,
		EnvHTTPAddr:    &c.HTTP.Addr,
		EnvBoardToken:  &c.HTTP.BoardToken,
		EnvLogLevel:    &c.Log.Level,
		EnvLogFormat:   &c.Log.Format,
		EnvCallerID:    &c.Call.CallerID,
		EnvInstance:    &c.Instance,
	}
	bools := map[string]*bool{
		EnvCallbackEnabled: &c.Callback.Enabled,
	}
	if c.Trunks == nil {
		c.Trunks = map[string]string{}
	}
	for _, kv := range environ {
		key, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(key, "HOTLINE_") || val == "" {
			continue
		}
		if p, ok := strs[key]; ok {
			*p = val
			continue
		}
		if p, ok := bools[key]; ok {
			b, err := strconv.ParseBool(val)
			if err != nil {
				return fmt.Errorf("config: %s: %q is not true or false", key, val)
			}
			*p = b
			continue
		}
		if carrier, ok := strings.CutPrefix(key, EnvTrunkPrefix); ok && carrier != "" {
			c.Trunks[strings.ToLower(carrier)] = val
			continue
		}
		if key == EnvConfig || strings.HasPrefix(key, "HOTLINE_TEST_") || strings.HasPrefix(key, "HOTLINE_DEV_") {
			continue
		}
		return fmt.Errorf("config: unknown environment variable %s", key)
	}
	return nil
}
