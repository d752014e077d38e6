package arifake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// How Asterisk 22 reads a REST request's parameters, and so how the fake reads
// them (main/http.c handle_uri and ast_http_parse_post_form, res/res_ari.c
// ast_ari_callback, the generated parsers res/res_ari_*.c):
//
//   - The query string is split at '&', each pair at its first '='; '+' and
//     %XX are decoded. Nothing is rejected. A form body (Content-Type
//     application/x-www-form-urlencoded) is read the same way; its pairs come
//     before the query's.
//   - A parameter takes the LAST pair with its exact name: a repeated key is
//     not an error, the earlier values are silently dropped. Names the
//     operation does not declare are ignored.
//   - A list parameter (allowMultiple in api-docs) is ONE value split at ','
//     the way dialplan arguments are (ast_app_separate_args: quotes and
//     backslashes are removed, no trimming, "a,,b" keeps its empty item, ""
//     is one empty item); 128 items or more → 400 "Too many values for NAME".
//   - An int is C's atoi: blanks, a sign, the digits that follow; "abc" is 0,
//     "12abc" is 12. Never an error.
//   - A boolean is true for yes, true, y, t, 1 or on (any case); anything else
//     is false.
//   - A JSON body (Content-Type application/json; parameters after ';' are
//     ignored) is read only when there is no form body. Its fields override
//     the query for the operation's declared parameters, whatever their type:
//     a string parameter given a number becomes unset, an int given a string
//     becomes 0, a boolean is true only for JSON true, a list is a JSON array
//     (its items are not split at commas) or a single value (not split
//     either). Invalid JSON, or a JSON scalar (jansson loads only an object
//     or an array) → 400 "Error parsing request body". A body of any other
//     content type is ignored.
//   - The parsers apply no defaults: a missing parameter is "", 0 or false and
//     the operation decides what that means (api-docs' defaultValue is
//     documentation only: mute without direction is 400 "Direction is
//     required", not "both").
//
// The WebSocket (GET /events) differs: it takes the FIRST app= and
// subscribeAll= (ast_variable_find_in_list); see handleEvents.

// maxListValues is MAX_VALS of the generated parsers: a list parameter holds
// at most maxListValues-1 items.
const maxListValues = 128

// paramKind is how a declared parameter is parsed.
type paramKind int

const (
	pString paramKind = iota
	pInt              // api-docs int or long: atoi
	pBool             // api-docs boolean: ast_true
	pList             // allowMultiple: comma-separated
	pBody             // paramType body ("variables"): the JSON body's "variables" object
)

func (k paramKind) String() string {
	return [...]string{"string", "int", "boolean", "list", "body"}[k]
}

// param is a parameter an operation declares (and the fake reads).
type param struct {
	name string
	kind paramKind
}

// params builds a parameter list from "name" (string) and "name:int",
// "name:bool", "name:list", "name:body".
func params(specs ...string) []param {
	out := make([]param, 0, len(specs))
	for _, s := range specs {
		name, kind, _ := strings.Cut(s, ":")
		p := param{name: name}
		switch kind {
		case "":
		case "int":
			p.kind = pInt
		case "bool":
			p.kind = pBool
		case "list":
			p.kind = pList
		case "body":
			p.kind = pBody
		default:
			panic("arifake: bad parameter spec " + s)
		}
		out = append(out, p)
	}
	return out
}

// pair is one decoded key=value pair of a query string or form body.
type pair struct{ key, value string }

// parsePairs splits a raw query string or form body as Asterisk does.
func parsePairs(raw string) []pair {
	if raw == "" {
		return nil
	}
	var out []pair
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, pair{key: uriDecode(k), value: uriDecode(v)})
	}
	return out
}

// uriDecode is ast_uri_decode with ast_uri_http_legacy: '+' is a space, '%'
// followed by two characters of which the first one or two are hex digits is
// that byte (both characters are consumed), anything else is copied.
func uriDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s):
			if v, ok := hexPrefix(s[i+1 : i+3]); ok {
				b.WriteByte(v)
				i += 2
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// hexPrefix is sscanf("%2x") on two characters: the value of the one or two
// leading hex digits.
func hexPrefix(s string) (byte, bool) {
	var v byte
	n := 0
	for ; n < len(s); n++ {
		c := s[n]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return v, n > 0
		}
		v = v*16 + d
	}
	return v, n > 0
}

// separateArgs is ast_app_separate_args(value, ',', …, MAX_VALS): the items of
// a list parameter. An empty value is one empty item.
func separateArgs(value string) []string {
	if value == "" {
		return []string{""}
	}
	buf := []byte(value)
	var out []string
	var cur []byte
	paren, bracket, quote := 0, 0, false
	wasDelim := false
	for i := 0; i < len(buf); i++ {
		c := buf[i]
		if len(out) == maxListValues-1 {
			// The last slot takes the unparsed rest as it is.
			cur = append(cur, buf[i:]...)
			break
		}
		wasDelim = false
		switch {
		case c == '(':
			paren++
		case c == ')':
			if paren > 0 {
				paren--
			}
		case c == '[':
			bracket++
		case c == ']':
			if bracket > 0 {
				bracket--
			}
		case c == '"':
			quote = !quote
			continue // removed
		case c == '\\':
			if i+1 < len(buf) {
				i++
				cur = append(cur, buf[i])
			}
			continue
		case c == ',' && paren == 0 && bracket == 0 && !quote:
			out = append(out, string(cur))
			cur = nil
			wasDelim = true
			continue
		}
		cur = append(cur, c)
	}
	if len(cur) > 0 || wasDelim {
		out = append(out, string(cur))
	}
	return out
}

// atoi is C's atoi (no overflow handling beyond int32, which is what the
// generated parsers store).
func atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	n := int64(0)
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
		if n > 1<<32 {
			n = 1 << 32
		}
	}
	if neg {
		n = -n
	}
	return int(int32(n))
}

// astTrue is ast_true.
func astTrue(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "true", "y", "t", "1", "on":
		return true
	}
	return false
}

// readParams fills q.pairs and q.body from the request as Asterisk does. It
// answers false (with the response set) when the body cannot be parsed.
func (q *req) readParams(raw []byte) bool {
	q.pairs = parsePairs(q.r.URL.RawQuery)
	ct, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if ct == "" {
		ct, _, _ = strings.Cut(q.r.Header.Get("Content-Type"), ";")
	}
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case "application/x-www-form-urlencoded":
		q.pairs = append(parsePairs(string(raw)), q.pairs...)
	case "application/json":
		if len(bytes.TrimSpace(raw)) == 0 {
			return true
		}
		var body any
		if err := json.Unmarshal(raw, &body); err != nil {
			q.fail(http.StatusBadRequest, "Error parsing request body")
			return false
		}
		switch body.(type) {
		case map[string]any, []any:
		default: // jansson, without JSON_DECODE_ANY, loads only an object or an array
			q.fail(http.StatusBadRequest, "Error parsing request body")
			return false
		}
		q.json = body
		q.body, _ = body.(map[string]any) // an array names no parameter
	}
	return true
}

// decl returns the declaration of name, recording a misuse when the route does
// not declare it with that kind (a bug in the fake: api-docs is the contract).
func (q *req) decl(name string, kind paramKind) bool {
	if q.rt == nil {
		return true
	}
	for _, p := range q.rt.params {
		if p.name == name {
			if p.kind != kind {
				q.s.misuse(fmt.Sprintf("%s %s reads %s as %s, declared %s", q.rt.method, q.rt.path, name, kind, p.kind))
			}
			return true
		}
	}
	q.s.misuse(fmt.Sprintf("%s %s reads undeclared parameter %s", q.rt.method, q.rt.path, name))
	return false
}

// last is the last query/form value of name.
func (q *req) last(name string) (string, bool) {
	for i := len(q.pairs) - 1; i >= 0; i-- {
		if q.pairs[i].key == name {
			return q.pairs[i].value, true
		}
	}
	return "", false
}

// param is a string parameter ("" when missing).
func (q *req) param(name string) string {
	q.decl(name, pString)
	if v, ok := q.body[name]; ok {
		s, _ := v.(string)
		return s
	}
	v, _ := q.last(name)
	return v
}

// stringParam is a string parameter and whether it was given: a JSON body
// value that is not a string leaves it unset (ast_json_string_get is NULL).
func (q *req) stringParam(name string) (string, bool) {
	q.decl(name, pString)
	if v, ok := q.body[name]; ok {
		s, isStr := v.(string)
		return s, isStr
	}
	return q.last(name)
}

// intParam is an int parameter (0 when missing or not a number).
func (q *req) intParam(name string) int {
	q.decl(name, pInt)
	if v, ok := q.body[name]; ok {
		f, isNum := v.(float64)
		if !isNum || f != float64(int64(f)) {
			return 0 // json_integer_value of a non-integer
		}
		return int(int32(int64(f)))
	}
	v, _ := q.last(name)
	return atoi(v)
}

// boolParam is a boolean parameter.
func (q *req) boolParam(name string) bool {
	q.decl(name, pBool)
	if v, ok := q.body[name]; ok {
		return v == true
	}
	v, _ := q.last(name)
	return astTrue(v)
}

// listParam is a list parameter: nil when missing.
func (q *req) listParam(name string) []string {
	q.decl(name, pList)
	if v, ok := q.body[name]; ok {
		if arr, isArr := v.([]any); isArr {
			out := make([]string, len(arr))
			for i, x := range arr {
				out[i], _ = x.(string)
			}
			return out
		}
		s, _ := v.(string)
		return []string{s}
	}
	v, ok := q.last(name)
	if !ok {
		return nil
	}
	return separateArgs(v)
}

// variables is the JSON body's "variables" object (channel variables of
// originate and create), checked as json_to_ast_variables does: a value is a
// string or {"value": string, "report_events": bool}; anything else answers
// 400 and false.
func (q *req) variables() (map[string]string, bool) {
	q.decl("variables", pBody)
	m, ok := q.body["variables"].(map[string]any)
	if !ok {
		return nil, true
	}
	out := map[string]string{}
	for _, k := range sortedKeys(m) {
		if k == "" {
			continue
		}
		switch x := m[k].(type) {
		case string:
			out[k] = x
		case map[string]any:
			v, isStr := x["value"].(string)
			if !isStr {
				q.fail(http.StatusBadRequest, "Each object value in 'variables' must include string field 'value'")
				return nil, false
			}
			if r, has := x["report_events"]; has {
				if _, isBool := r.(bool); !isBool {
					q.fail(http.StatusBadRequest, "Field 'report_events' in 'variables' entries must be boolean")
					return nil, false
				}
			}
			out[k] = v
		default:
			q.fail(http.StatusBadRequest, "Each value in 'variables' must be a string or an object with 'value' and optional 'report_events'")
			return nil, false
		}
	}
	return out, true
}

// checkLists answers 400 "Too many values for NAME" for a list parameter of
// maxListValues items or more, as the generated parsers do before the
// operation runs.
func (q *req) checkLists() bool {
	if q.rt == nil {
		return true
	}
	for _, p := range q.rt.params {
		if p.kind != pList {
			continue
		}
		if _, inBody := q.body[p.name]; inBody {
			continue
		}
		for _, pr := range q.pairs {
			if pr.key == p.name && len(separateArgs(pr.value)) >= maxListValues {
				q.fail(http.StatusBadRequest, "Too many values for "+p.name)
				return false
			}
		}
	}
	return true
}
