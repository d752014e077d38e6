package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/dialplan"
	"github.com/csm-vn/hotline/internal/board"
	"github.com/csm-vn/hotline/internal/config"
	"github.com/csm-vn/hotline/store"
)

// Check statuses of `hotline doctor`, as in its JSON; the text output
// writes fail as FAIL.
const (
	CheckOK   = "ok"
	CheckWarn = "warn"
	CheckFail = "fail"
)

// Check is one line of `hotline doctor`: what was checked, the verdict, what
// was found and, when it is not ok, what to do.
type Check struct {
	Check   string `json:"check"`  // "config", "database", "schema", "directory", "ari", "ari_app", "trunk gw-viettel", "prompts", "coverage", "coverage can-tho", "coverage café KG002"
	Status  string `json:"status"` // ok, warn or fail
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// DoctorReport is the result of `hotline doctor` (its --json form).
type DoctorReport struct {
	OK     bool    `json:"ok"` // no check failed (warnings allowed)
	Checks []Check `json:"checks"`
}

// DoctorOptions are the inputs of Doctor besides the configuration.
type DoctorOptions struct {
	// ConfigSource says where the configuration came from, for the
	// config line ("/etc/hotline/hotline.yaml", "environment only").
	ConfigSource string
	// At starts the coverage window; zero = now.
	At time.Time
	// Timeout bounds each network check. 5 s when zero.
	Timeout time.Duration
	// MaxCafeLines bounds the café coverage lines; the rest is one line
	// saying how many more. 10 when zero.
	MaxCafeLines int
}

// Doctor checks a set-up without changing anything and without placing a
// call: the configuration; the database and its schema; the directory and
// its coverage in the coming 7 days; ARI with these credentials, Asterisk's
// version, whether another process holds the application name; the PJSIP
// endpoint of every trunk template and its state; every prompt the call
// flow can play, in its language. A check that cannot run because an
// earlier one failed says so as a warning.
func Doctor(ctx context.Context, cfg config.Config, opts DoctorOptions) DoctorReport {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxCafeLines <= 0 {
		opts.MaxCafeLines = 10
	}
	d := &doctor{cfg: cfg, opts: opts}
	d.config()
	dir := d.database(ctx)
	nodes := cfg.NodeList()
	d.perNode = len(cfg.ARI.Nodes) > 0
	for _, n := range nodes {
		d.node = n
		d.ari(ctx)
	}
	d.node, d.perNode = config.Node{}, false
	if dir != nil {
		d.coverage(dir)
	}
	rep := DoctorReport{OK: true, Checks: d.checks}
	for _, c := range d.checks {
		if c.Status == CheckFail {
			rep.OK = false
		}
	}
	return rep
}

// WriteText writes one line per check: "ok    schema: version 4 (up to
// date)", "FAIL  ari: … — fix".
func (r DoctorReport) WriteText(w io.Writer) error {
	for _, c := range r.Checks {
		status := c.Status
		if status == CheckFail {
			status = "FAIL"
		}
		line := fmt.Sprintf("%-4s  %s: %s", status, c.Check, c.Message)
		if c.Fix != "" {
			line += " — " + c.Fix
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r DoctorReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type doctor struct {
	cfg    config.Config
	opts   DoctorOptions
	checks []Check
	// node is the Asterisk node being checked; with ari.nodes its name
	// follows the name of each of its checks ("ari node-a").
	node config.Node
	// perNode: the checks of ari (ari, ari_app, node_owner, trunks,
	// prompts) carry the node's name.
	perNode bool
	// dbOK: the database answered (node_owner reads it).
	dbOK bool
}

func (d *doctor) add(check, status, msg, fix string) {
	if d.perNode && d.node.Name != "" {
		check += " " + d.node.Name
	}
	d.checks = append(d.checks, Check{Check: check, Status: status, Message: msg, Fix: fix})
}

func (d *doctor) config() {
	err := d.cfg.Validate()
	if err == nil {
		err = board.CheckAccess(d.cfg.HTTP.Addr, d.cfg.HTTP.BoardToken)
	}
	src := d.opts.ConfigSource
	if src == "" {
		src = "environment only"
	}
	if err != nil {
		d.add("config", CheckFail, src+": "+strings.ReplaceAll(err.Error(), "\n", "; "),
			"fix these keys in the file or their HOTLINE_* variables")
		return
	}
	d.add("config", CheckOK, src+": valid", "")
}

// database checks the connection, the schema and the directory, and returns
// the directory when it loaded.
func (d *doctor) database(ctx context.Context) *dialplan.Directory {
	if d.cfg.Database.URL == "" {
		d.add("database", CheckFail, "database.url is not set", "set database.url or HOTLINE_DATABASE_URL")
		return nil
	}
	octx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	db, err := store.Open(octx, d.cfg.Database.URL)
	if err != nil {
		d.add("database", CheckFail, fmt.Sprintf("cannot connect to %s: %v", redact(d.cfg.Database.URL), rootCause(err)),
			"check database.url (HOTLINE_DATABASE_URL) and that PostgreSQL runs and accepts this user")
		return nil
	}
	defer db.Close()
	d.dbOK = true
	var version string
	_ = db.GetContext(octx, &version, "SHOW server_version")
	d.add("database", CheckOK, fmt.Sprintf("reachable at %s (PostgreSQL %s)", redact(d.cfg.Database.URL), version), "")

	schemaOK := d.schema(octx, db)
	dir, err := store.LoadDirectory(octx, db, dialplan.WithTet(d.cfg.Call.TetDaysBefore, d.cfg.Call.TetDaysAfter))
	switch {
	case err != nil && !schemaOK:
		d.add("directory", CheckWarn, "not loaded: the schema is not the one this hotline reads", "run hotline migrate first")
		return nil
	case err != nil:
		d.add("directory", CheckFail, "does not load: "+strings.ReplaceAll(err.Error(), "\n", "; "),
			"fix the rows named and import again (hotline import --dry-run shows the problems)")
		return nil
	}
	c := dir.Counts()
	msg := fmt.Sprintf("%d cafés (%d active), %d staff (%d active technicians, %d operators), %d regions, %d areas",
		c.Cafes, c.ActiveCafes, c.Staff, c.Technicians, c.Operators, c.Regions, c.Areas)
	switch {
	case c.ActiveCafes == 0:
		d.add("directory", CheckFail, msg, "import the directory: hotline import regions.csv areas.csv staff.csv cafes.csv")
	case c.Operators == 0:
		d.add("directory", CheckWarn, msg+"; no active operator: unknown callers reach nobody",
			"add an operator in staff.csv")
	default:
		d.add("directory", CheckOK, msg, "")
	}
	return dir
}

func (d *doctor) schema(ctx context.Context, db *sqlx.DB) bool {
	err := store.CheckSchema(ctx, db)
	var se *store.SchemaError
	switch {
	case err == nil:
		d.add("schema", CheckOK, fmt.Sprintf("version %d (up to date)", store.SchemaVersion()), "")
		return true
	case errors.As(err, &se) && se.Have < se.Need:
		d.add("schema", CheckFail, fmt.Sprintf("version %d, this hotline needs %d", se.Have, se.Need), "run: hotline migrate")
	case errors.As(err, &se):
		d.add("schema", CheckFail, fmt.Sprintf("version %d, this hotline knows only up to %d", se.Have, se.Need),
			"run the newer hotline that migrated it")
	default:
		d.add("schema", CheckFail, err.Error(), "check the database user's rights")
	}
	return false
}

// ari checks the link, the application name, the trunks and the prompts of
// d.node.
func (d *doctor) ari(ctx context.Context) {
	c := d.node
	client, err := ari.New(ari.Config{URL: c.URL, User: c.User, Password: c.Password, App: c.App, Node: c.Name,
		RequestTimeout: d.opts.Timeout})
	if err != nil {
		d.add("ari", CheckFail, "not checked: "+err.Error(), "set ari.url, ari.user, ari.password (HOTLINE_ARI_*)")
		return
	}
	info, err := client.Info(ctx)
	url := redact(c.URL)
	switch {
	case errors.Is(err, ari.ErrUnauthorized):
		d.add("ari", CheckFail, fmt.Sprintf("user %q rejected by %s (401 Unauthorized): wrong user or password", c.User, url),
			"ari.user and ari.password (HOTLINE_ARI_USER, HOTLINE_ARI_PASSWORD) must match a user in Asterisk's ari.conf")
	case errors.Is(err, ari.ErrNotFound):
		d.add("ari", CheckFail, "no ARI at "+url+" (404)",
			"enable ARI (ari.conf: enabled = yes; http.conf: enabled = yes) and check ari.url")
	case err != nil:
		d.add("ari", CheckFail, fmt.Sprintf("cannot reach %s: %v", url, rootCause(err)),
			"start Asterisk and check http.conf (enabled = yes, bindaddr and bindport as in ari.url)")
	}
	if err != nil {
		d.add("ari_app", CheckWarn, "not checked: ARI is not reachable", "")
		d.add("node_owner", CheckWarn, "not checked: ARI is not reachable (a node is known by its Asterisk's entity id)", "")
		d.add("trunks", CheckWarn, "not checked: ARI is not reachable", "")
		d.add("prompts", CheckWarn, "not checked: ARI is not reachable", "")
		return
	}
	version, lang := "?", ""
	if info.System != nil {
		version = info.System.Version
	}
	if info.Config != nil {
		lang = info.Config.DefaultLanguage
	}
	d.add("ari", CheckOK, fmt.Sprintf("Asterisk %s at %s, user %s", version, url, c.User), "")
	d.application(ctx, client)
	d.nodeOwner(ctx, info)
	d.trunks(ctx, client)
	d.prompts(ctx, client, lang)
}

// rootCause keeps what the network said of a transport error ("dial tcp
// 127.0.0.1:8088: connect: connection refused"), without the client's
// request prefixes.
func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	return err
}

// application checks that no other process holds the Stasis application:
// Asterisk lists an application while a WebSocket is connected for it (or
// its channels are still in it). A hotline serve with this configuration
// answering /readyz is that process, and fine.
func (d *doctor) application(ctx context.Context, client *ari.Client) {
	name := d.node.App
	app, err := client.GetApplication(ctx, name)
	switch {
	case errors.Is(err, ari.ErrNotFound):
		d.add("ari_app", CheckOK, fmt.Sprintf("application %q is free (no process connected)", name), "")
		return
	case err != nil:
		d.add("ari_app", CheckWarn, fmt.Sprintf("application %q not checked: %v", name, err), "")
		return
	}
	if d.localServeReady(ctx) {
		d.add("ari_app", CheckOK, fmt.Sprintf("application %q is held by the hotline serve answering on %s", name, d.cfg.HTTP.Addr), "")
		return
	}
	d.add("ari_app", CheckFail, fmt.Sprintf("application %q is held by another connected process (%d channels in it)", name, len(app.ChannelIDs)),
		"stop the other program, or give this hotline another ari.app and Stasis() name in extensions.conf")
}

// localServeReady reports whether a hotline serve answers /readyz with 200
// on the configured http.addr.
func (d *doctor) localServeReady(ctx context.Context) bool {
	host, port, err := net.SplitHostPort(d.cfg.HTTP.Addr)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// trunkEndpoint returns the technology and endpoint of a dial template:
// PJSIP/{number}@gw-viettel → (PJSIP, gw-viettel); PJSIP/gw/sip:{number}@host
// → (PJSIP, gw). ok is false for other technologies.
func trunkEndpoint(tmpl string) (tech, endpoint string, ok bool) {
	tech, rest, _ := strings.Cut(tmpl, "/")
	if !strings.EqualFold(tech, "PJSIP") {
		return tech, "", false
	}
	if ep, _, found := strings.Cut(rest, "/"); found {
		return "PJSIP", ep, ep != "" && !strings.Contains(ep, "{")
	}
	if _, ep, found := strings.Cut(rest, "@"); found {
		return "PJSIP", ep, ep != "" && !strings.Contains(ep, "{")
	}
	return "PJSIP", "", false
}

// trunks checks the PJSIP endpoint of every trunk template: it exists, and
// its contact answers (state online).
func (d *doctor) trunks(ctx context.Context, client *ari.Client) {
	byEndpoint := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(d.cfg.Trunks)) {
		tmpl := d.cfg.Trunks[name]
		tech, ep, ok := trunkEndpoint(tmpl)
		if !ok {
			d.add("trunk "+name, CheckWarn, fmt.Sprintf("template %q: only PJSIP endpoints are checked (%s)", tmpl, tech), "")
			continue
		}
		byEndpoint[ep] = append(byEndpoint[ep], name)
	}
	var known []string
	for _, ep := range slices.Sorted(maps.Keys(byEndpoint)) {
		what := fmt.Sprintf("PJSIP endpoint %s (trunks %s)", ep, strings.Join(byEndpoint[ep], ", "))
		e, err := client.GetEndpoint(ctx, "PJSIP", ep)
		switch {
		case errors.Is(err, ari.ErrNotFound):
			if known == nil {
				known = []string{}
				if all, err := client.ListEndpoints(ctx); err == nil {
					for _, x := range all {
						if x.Technology == "PJSIP" {
							known = append(known, x.Resource)
						}
					}
				}
			}
			fix := fmt.Sprintf("add endpoint %s to pjsip.conf (see deploy/asterisk/pjsip.conf) or fix the template", ep)
			if len(known) > 0 {
				fix += "; Asterisk has: " + strings.Join(known, ", ")
			}
			d.add("trunk "+ep, CheckFail, what+" does not exist on Asterisk", fix)
		case err != nil:
			d.add("trunk "+ep, CheckWarn, what+" not checked: "+err.Error(), "")
		case e.State == ari.EndpointOnline:
			d.add("trunk "+ep, CheckOK, what+" online", "")
		case e.State == ari.EndpointOffline:
			d.add("trunk "+ep, CheckFail, what+" offline: its contact does not answer (qualify)",
				"check the gateway is up and its address in pjsip.conf ([aor] contact); an endpoint removed from pjsip.conf also shows offline until Asterisk restarts")
		default:
			d.add("trunk "+ep, CheckWarn, fmt.Sprintf("%s exists, state %q: Asterisk cannot tell whether it answers", what, e.State),
				"set qualify_frequency on its aor in pjsip.conf so Asterisk checks the gateway")
		}
	}
}

// promptNames are every sound the call flow can play with p: the prompts,
// the digits and letters of café codes, every province's name, and a
// transfer's prompts with every role's name.
func promptNames(p config.Prompts) []string {
	names := []string{p.Greeting, p.EnterCode, p.Connecting, p.Announce, p.Province, p.PressOne, p.Rate,
		p.Thanks, p.Voicemail, p.Goodbye, p.Transfer, p.TransferFailed, p.TransferInvalid, p.Callback, p.CallbackNoAnswer}
	for _, r := range []dialplan.Role{dialplan.RoleTechnician, dialplan.RoleAreaManager, dialplan.RoleRegionalManager,
		dialplan.RoleOperator} {
		names = append(names, p.RolePrefix+string(r))
	}
	for d := range 10 {
		names = append(names, p.DigitPrefix+string(rune('0'+d)))
	}
	if p.LetterPrefix != "" {
		for l := 'a'; l <= 'z'; l++ {
			names = append(names, p.LetterPrefix+string(l))
		}
	}
	for _, prov := range dialplan.Provinces() {
		names = append(names, p.ProvincePrefix+prov.AreaCode)
	}
	return names
}

// soundOf splits a prompt name the way Asterisk's sounds index files it:
// "vi/greeting" is the sound "greeting" in language "vi" (the file
// sounds/vi/greeting.*); a name without a directory is in def, Asterisk's
// default language.
func soundOf(name, def string) (id, lang string) {
	if l, rest, ok := strings.Cut(name, "/"); ok && l != "" && rest != "" {
		return rest, l
	}
	return name, def
}

// prompts checks that every prompt exists on Asterisk in its language.
func (d *doctor) prompts(ctx context.Context, client *ari.Client, defLang string) {
	names := promptNames(d.cfg.Prompts)
	missing := make([]string, len(names))
	errs := make([]error, len(names))
	langs := map[string]bool{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, name := range names {
		id, lang := soundOf(name, defLang)
		langs[lang] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := client.GetSound(ctx, id)
			switch {
			case errors.Is(err, ari.ErrNotFound) || (err == nil && !s.HasLanguage(lang)):
				missing[i] = name
			case err != nil:
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		d.add("prompts", CheckWarn, "not all checked: "+strings.SplitN(err.Error(), "\n", 2)[0], "")
		return
	}
	var gone []string
	for _, m := range missing {
		if m != "" {
			gone = append(gone, m)
		}
	}
	langList := strings.Join(slices.Sorted(maps.Keys(langs)), ", ")
	if len(gone) == 0 {
		d.add("prompts", CheckOK, fmt.Sprintf("all %d found on Asterisk (language %s)", len(names), langList), "")
		return
	}
	shown := gone
	if len(shown) > 8 {
		shown = append(slices.Clone(shown[:8]), fmt.Sprintf("… %d more", len(gone)-8))
	}
	d.add("prompts", CheckFail, fmt.Sprintf("%d of %d missing on Asterisk: %s", len(gone), len(names), strings.Join(shown, ", ")),
		"copy deploy/asterisk/sounds/vi/*.wav to Asterisk's sounds folder (/var/lib/asterisk/sounds/vi/), or record them under these names")
}

// coverage adds one line per province with a gap and per café whose
// coverage differs (up to MaxCafeLines), or one ok line.
func (d *doctor) coverage(dir *dialplan.Directory) {
	cv := coverage(dir, d.cfg, d.opts.At)
	lines := 0
	for _, pc := range cv.Provinces {
		if pc.GapHours == 0 {
			continue
		}
		lines++
		g := pc.Gaps[0]
		msg := fmt.Sprintf("%s has no technician for %d h of the next 7 days, first %s (%s)",
			pc.Name, pc.GapHours, gapSpan(g), g.Why())
		fix := "give a technician covering it hours that include these (staff.csv hours), or add one; hotline route --gaps lists every hour"
		if pc.UncoveredCafes > 0 {
			d.add("coverage "+pc.Province, CheckFail, fmt.Sprintf("%s; %d of its %d cafés affected", msg, pc.UncoveredCafes, pc.Cafes), fix)
		} else {
			d.add("coverage "+pc.Province, CheckWarn, msg+"; no café affected (only callers recognised by area code)", fix)
		}
	}
	shown := 0
	for _, c := range cv.Cafes {
		if shown == d.opts.MaxCafeLines {
			d.add("coverage cafés", CheckWarn, fmt.Sprintf("%d more cafés with a problem", len(cv.Cafes)-shown), "hotline route --gaps lists them")
			break
		}
		shown++
		lines++
		name := c.Name
		if name == "" {
			name = "the café"
		}
		if c.Problem == dialplan.CafeNoNumber {
			d.add("coverage café "+c.Cafe, CheckWarn, name+" has no phone number, so it is never recognised by caller ID",
				"add its numbers in cafes.csv")
			continue
		}
		g := c.Gaps[0]
		d.add("coverage café "+c.Cafe, CheckFail, fmt.Sprintf("%s (%s) rings no technician for %d h of the next 7 days, first %s (%s)",
			name, c.Province, c.GapHours, gapSpan(g), g.Why()),
			"check its technician and refusals in the directory; hotline route --gaps lists every hour")
	}
	if lines == 0 {
		d.add("coverage", CheckOK, fmt.Sprintf("every café rings a technician at every hour of the next 7 days (%d provinces)", len(cv.Provinces)), "")
	}
}

// nodeOwner says which process serves d.node (node_owners): a serve claims
// its node — the application on this Asterisk, known by its entity id —
// before it connects, and another serve for the same node waits. Nobody,
// or this configuration's instance: ok. Another instance within its lease
// (a serve with this configuration would wait), or a claim whose lease has
// run out (its process died without letting go): warn.
func (d *doctor) nodeOwner(ctx context.Context, info *ari.AsteriskInfo) {
	if info.System == nil || info.System.EntityID == "" {
		d.add("node_owner", CheckWarn, "not checked: Asterisk did not say its entity id (GET /asterisk/info)", "")
		return
	}
	if !d.dbOK {
		d.add("node_owner", CheckWarn, "not checked: the database is not reachable", "")
		return
	}
	key := d.node.App + "@" + info.System.EntityID
	octx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	db, err := store.Open(octx, d.cfg.Database.URL)
	if err != nil {
		d.add("node_owner", CheckWarn, fmt.Sprintf("not checked: %v", rootCause(err)), "")
		return
	}
	defer db.Close()
	o, found, err := store.New(db).NodeOwnerOf(octx, key)
	if err != nil {
		d.add("node_owner", CheckWarn, "not checked: "+err.Error(), "run: hotline migrate")
		return
	}
	mine := d.cfg.NodeInstanceID(d.node.Name)
	at := func(t time.Time) string { return t.In(dialplan.Location()).Format("Mon 02/01 15:04:05") }
	held := fmt.Sprintf("%s is served by instance %q (its node %s) since %s", key, o.Instance, o.Node, at(o.ClaimedAt))
	switch {
	case !found:
		d.add("node_owner", CheckOK, fmt.Sprintf("%s is served by nobody: a serve starting now takes it at once", key), "")
	case o.Expired:
		d.add("node_owner", CheckWarn, fmt.Sprintf("%s; its lease ran out at %s: that process stopped without letting go "+
			"(killed, crashed or cut from the database)", held, at(o.ExpiresAt)),
			"nothing to do: the next serve for this node takes it over within seconds")
	case o.Instance == mine:
		d.add("node_owner", CheckOK, fmt.Sprintf("%s, lease until %s: this configuration's instance", held, at(o.ExpiresAt)), "")
	default:
		d.add("node_owner", CheckWarn, fmt.Sprintf("%s, lease until %s: a serve with this configuration (instance %q) "+
			"waits until that one stops", held, at(o.ExpiresAt), mine),
			fmt.Sprintf("expected for a standby serve; otherwise stop instance %q (a clean stop frees the node at once)", o.Instance))
	}
}
