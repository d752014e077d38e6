package ivr

import "time"

// maxTransferDigits bounds a typed transfer code (area codes have 3 or 4
// digits with their 0); longer codes name no province.
const maxTransferDigits = 8

// transferKeys reads a transfer code from the keys of the person who
// accepted, while they talk with the caller: '*', then a province's landline
// area code or 0 (the operators), then '#'. Only that person's keys are fed
// to it (their leg's ChannelDtmfReceived): the caller's never are. Keys are
// ordinary during a conversation (a caller typing to a KTV, a KTV pressing
// keys on a remote PC), so anything but a complete code is ignored.
//
// States: idle, collecting(code). Inputs: '*', a digit 0–9, '#', any other
// key, and the inter-digit timeout, checked when the next key comes (a key
// later than that after the previous one of a code starts afresh, exactly as
// if a timer had reset the state when it fired: nothing else happens then).
//
//	idle       ── '*' ─────────────────────▶ collecting("")
//	idle       ── any other key ───────────▶ idle
//	collecting ── key after the timeout ───▶ as that key in idle
//	collecting ── digit ───────────────────▶ collecting(code+digit) (at most maxTransferDigits kept)
//	collecting ── '*' ─────────────────────▶ collecting("")           (typed again)
//	collecting ── '#' with no digit ───────▶ idle                     (nothing asked)
//	collecting ── '#' ─────────────────────▶ idle; the code is complete
//	collecting ── 'A'–'D' ─────────────────▶ idle
type transferKeys struct {
	interDigit time.Duration
	collecting bool
	code       string
	long       bool      // more than maxTransferDigits typed: names no province
	last       time.Time // when the previous key of the code came
}

// press feeds one key, pressed at now. It returns the code (the digits
// between '*' and '#') when '#' completes one.
func (k *transferKeys) press(key string, now time.Time) (code string, done bool) {
	if k.collecting && now.Sub(k.last) > k.interDigit {
		k.reset()
	}
	if !k.collecting {
		if key == "*" {
			k.collecting, k.last = true, now
		}
		return "", false
	}
	k.last = now
	switch {
	case key == "*":
		k.code, k.long = "", false
	case key == "#":
		code, long := k.code, k.long
		k.reset()
		if code == "" {
			return "", false
		}
		if long {
			code += "…" // keeps it from naming a province
		}
		return code, true
	case len(key) == 1 && key[0] >= '0' && key[0] <= '9':
		if len(k.code) < maxTransferDigits {
			k.code += key
		} else {
			k.long = true
		}
	default:
		k.reset()
	}
	return "", false
}

// reset forgets a code being typed.
func (k *transferKeys) reset() {
	k.collecting, k.code, k.long = false, "", false
}
