package config

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ari.nodes: several Asterisk nodes, each with its own name, URL and
// credentials (ari.user, ari.password and ari.app are their defaults); the
// single node of ari.url (HOTLINE_ARI_*) is unchanged.
func TestNodeList(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	db := "HOTLINE_DATABASE_URL=postgres://h@127.0.0.1/h"
	tests := []struct {
		name     string
		yaml     string
		env      []string
		want     []Node
		instance map[string]string // node → NodeInstanceID
	}{{
		name:     "single node from the environment",
		env:      valid,
		want:     []Node{{Name: "asterisk", URL: "http://127.0.0.1:8088", User: "hotline", Password: "arisecret", App: "hotline"}},
		instance: map[string]string{"asterisk": host + "/hotline"},
	}, {
		name: "two nodes, credentials and app from ari",
		yaml: `
instance: pbx
ari:
  user: hotline
  password: shared
  nodes:
    - {name: ast-a, url: "http://10.0.0.1:8088"}
    - {name: ast-b, url: "http://10.0.0.2:8088", user: other, password: own, app: hotline-b}
`,
		env: []string{db},
		want: []Node{
			{Name: "ast-a", URL: "http://10.0.0.1:8088", User: "hotline", Password: "shared", App: "hotline"},
			{Name: "ast-b", URL: "http://10.0.0.2:8088", User: "other", Password: "own", App: "hotline-b"},
		},
		instance: map[string]string{"ast-a": "pbx@ast-a", "ast-b": "pbx@ast-b"},
	}, {
		name: "the shared password from the environment",
		yaml: `
ari:
  user: hotline
  nodes:
    - {name: a, url: "http://127.0.0.1:8088"}
    - {name: b, url: "http://127.0.0.1:8089"}
`,
		env: []string{db, "HOTLINE_ARI_PASSWORD=fromenv", "HOTLINE_INSTANCE=i1"},
		want: []Node{
			{Name: "a", URL: "http://127.0.0.1:8088", User: "hotline", Password: "fromenv", App: "hotline"},
			{Name: "b", URL: "http://127.0.0.1:8089", User: "hotline", Password: "fromenv", App: "hotline"},
		},
		instance: map[string]string{"a": "i1@a", "b": "i1@b"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadYAML(t, tt.yaml, tt.env)
			require.NoError(t, cfg.Validate())
			require.Equal(t, tt.want, cfg.NodeList())
			for node, id := range tt.instance {
				require.Equal(t, id, cfg.NodeInstanceID(node))
			}
		})
	}
}

func TestNodesInvalid(t *testing.T) {
	db := "HOTLINE_DATABASE_URL=postgres://h@127.0.0.1/h"
	two := func(a, b string) string {
		return fmt.Sprintf("ari:\n  user: u\n  password: p\n  nodes:\n    - %s\n    - %s\n", a, b)
	}
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string // lines of the error
	}{{
		name: "both ari.url (environment) and ari.nodes",
		yaml: two(`{name: a, url: "http://10.0.0.1:8088"}`, `{name: b, url: "http://10.0.0.2:8088"}`),
		env:  []string{db, "HOTLINE_ARI_URL=http://u:secret@10.0.0.9:8088"},
		want: []string{`ari.nodes: set together with ari.url "http://u:xxxxx@10.0.0.9:8088" (or HOTLINE_ARI_URL): use ari.url for one node, ari.nodes for several, not both`},
	}, {
		name: "duplicate names",
		yaml: two(`{name: a, url: "http://10.0.0.1:8088"}`, `{name: a, url: "http://10.0.0.2:8088"}`),
		env:  []string{db},
		want: []string{`ari.nodes[1].name: "a" is also ari.nodes[0]'s name`},
	}, {
		name: "the same URL spelled twice",
		yaml: two(`{name: a, url: "http://Ast1:8088/ari/"}`, `{name: b, url: "http://ast1:8088"}`),
		env:  []string{db},
		want: []string{`ari.nodes[1].url: "http://ast1:8088" is also ari.nodes[0]'s URL: the same Asterisk twice`},
	}, {
		name: "the default port made explicit",
		yaml: two(`{name: a, url: "http://ast1"}`, `{name: b, url: "http://ast1:80/"}`),
		env:  []string{db},
		want: []string{`ari.nodes[1].url: "http://ast1:80/" is also ari.nodes[0]'s URL: the same Asterisk twice`},
	}, {
		name: "missing and malformed fields, password never shown",
		yaml: `
ari:
  nodes:
    - {url: "ftp://u:topsecret@x"}
    - {name: 9bad, url: "http://x:8088", password: p, app: "no space"}
`,
		env: []string{db},
		want: []string{
			`ari.nodes[0].name: is required`,
			`ari.nodes[0].password: is required (or set ari.password, HOTLINE_ARI_PASSWORD, for every node)`,
			`ari.nodes[0].url: "ftp://u:xxxxx@x" is not an http(s) URL`,
			`ari.nodes[0].user: is required (or set ari.user, HOTLINE_ARI_USER, for every node)`,
			`ari.nodes[1].app: "no space" must be letters, digits, '_' or '-'`,
			`ari.nodes[1].name: "9bad" must be 1 to 40 letters, digits, '_', '.' or '-', starting with a letter`,
			`ari.nodes[1].user: is required (or set ari.user, HOTLINE_ARI_USER, for every node)`,
		},
	}, {
		name: "a node without a URL",
		yaml: two(`{name: a, url: "http://10.0.0.1:8088"}`, `{name: b}`),
		env:  []string{db},
		want: []string{`ari.nodes[1].url: is required`},
	}, {
		name: "instance too long with the node's name",
		yaml: "instance: " + strings.Repeat("i", 127) + "\n" +
			two(`{name: a, url: "http://10.0.0.1:8088"}`, `{name: b, url: "http://10.0.0.2:8088"}`),
		env: []string{db},
		want: []string{
			`instance: "` + strings.Repeat("i", 127) + `@a" (the identity on node a) is longer than 128 characters; set a shorter instance`,
			`instance: "` + strings.Repeat("i", 127) + `@b" (the identity on node b) is longer than 128 characters; set a shorter instance`,
		},
	}, {
		name: "single node: no URL",
		env:  []string{db, "HOTLINE_ARI_USER=u", "HOTLINE_ARI_PASSWORD=p"},
		want: []string{`ari.url: is required (or set HOTLINE_ARI_URL)`},
	}, {
		name: "single node: a name metrics cannot label",
		env:  append(append([]string{}, valid...), "HOTLINE_ARI_NODE=pbx 1"),
		want: []string{`ari.node: "pbx 1" must be 1 to 40 letters, digits, '_', '.' or '-', starting with a letter`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadYAML(t, tt.yaml, tt.env)
			err := cfg.Validate()
			require.Error(t, err)
			require.Equal(t, strings.Join(tt.want, "\n"), err.Error())
			require.NotContains(t, err.Error(), "topsecret")
			require.NotContains(t, err.Error(), "secret@")
			// Commands that do not talk to Asterisk do not care.
			require.NoError(t, cfg.ValidateOffline())
		})
	}
}

// loadYAML loads text as a config file with environ.
func loadYAML(t *testing.T, text string, environ []string) Config {
	t.Helper()
	path := t.TempDir() + "/hotline.yaml"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	cfg, err := LoadFile(path, environ)
	require.NoError(t, err)
	return cfg
}

// A node's password is a secret: its String (what logs show) leaves it out.
func TestNodeStringHidesPassword(t *testing.T) {
	n := Node{Name: "a", URL: "http://u:urlsecret@h:8088", User: "u", Password: "topsecret", App: "hotline"}
	require.Equal(t, "a (http://u:xxxxx@h:8088, app hotline)", n.String())
}
