package config

import (
	"log/slog"
	"sort"
)

// LogValue lets a Config be logged without its secrets: passwords and tokens
// are shown only as set or not, URLs with their password redacted.
func (c Config) LogValue() slog.Value {
	set := func(s string) string {
		if s == "" {
			return "(unset)"
		}
		return "(set)"
	}
	carriers := make([]string, 0, len(c.Trunks))
	for k := range c.Trunks {
		carriers = append(carriers, k)
	}
	sort.Strings(carriers)
	trunks := make([]any, 0, len(carriers))
	for _, k := range carriers {
		trunks = append(trunks, slog.String(k, c.Trunks[k]))
	}
	return slog.GroupValue(
		slog.String("instance", c.InstanceID()),
		slog.String("database.url", redactURL(c.Database.URL)),
		slog.String("database.spool_dir", c.Database.SpoolDir),
		slog.String("ari.url", redactURL(c.ARI.URL)),
		slog.String("ari.user", c.ARI.User),
		slog.String("ari.password", set(c.ARI.Password)),
		slog.String("ari.app", c.ARI.App),
		slog.String("ari.node", c.ARI.Node),
		slog.String("http.addr", c.HTTP.Addr),
		slog.String("http.board_token", set(c.HTTP.BoardToken)),
		slog.Group("trunks", trunks...),
		slog.String("call.caller_id", c.Call.CallerID),
		slog.Bool("callback.enabled", c.Callback.Enabled),
	)
}
