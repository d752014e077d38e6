package ivr

import (
	"context"
	"time"

	"github.com/csm-vn/hotline/dialplan"
)

// maxCodeDigits bounds a typed café code.
const maxCodeDigits = 16

// collectCode asks for the café code, up to CodeTries times, and returns
// the first code that names a café, or "" (then the area code, or the
// operators, take over). Digits typed during the greeting count: a caller
// who knows the drill is not made to listen to the prompt.
func (c *call) collectCode(ctx context.Context, dir *dialplan.Directory) string {
	cfg := c.s.cfg
	for try := 1; try <= cfg.CodeTries; try++ {
		var p *player
		if len(c.dtmf) == 0 {
			p = c.promptFor(ctx, cfg.Prompts.EnterCode)
		}
		code := c.readDigits(ctx, p)
		c.stopPlay(p)
		if ctx.Err() != nil {
			return ""
		}
		if code == "" {
			c.log.Info("no café code typed", "try", try)
			continue
		}
		if _, ok := dir.CafeByDTMF(code); ok {
			return code
		}
		c.log.Info("café code matches no café", "code", code, "try", try)
	}
	return ""
}

// readDigits reads a code: the first digit within CodeFirstDigit after the
// prompt p ends (a digit during the prompt cuts it), the next ones within
// CodeInterDigit each, all within CodeOverall; '#' ends the code, '*'
// starts it again.
func (c *call) readDigits(ctx context.Context, p *player) string {
	cfg := c.s.cfg
	var promptDone <-chan struct{}
	var overall, step *time.Timer
	start := func() {
		overall = newTimer(cfg.CodeOverall)
		step = newTimer(cfg.CodeFirstDigit)
	}
	if p != nil {
		promptDone = p.done
		overall = newTimer(cfg.MaxPrompt)
		step = newTimer(0)
	} else {
		start()
	}
	defer func() {
		overall.Stop()
		step.Stop()
	}()
	code := ""
	for {
		select {
		case d := <-c.dtmf:
			if promptDone != nil {
				promptDone = nil
				c.stopPlay(p)
				overall.Stop()
				step.Stop()
				start()
			}
			switch d {
			case "#":
				return code
			case "*":
				code = ""
			default:
				if d >= "0" && d <= "9" {
					code += d
				}
				if len(code) >= maxCodeDigits {
					return code
				}
			}
			step.Stop()
			step = newTimer(cfg.CodeInterDigit)
			if code == "" {
				step.Stop()
				step = newTimer(cfg.CodeFirstDigit)
			}
		case <-promptDone:
			promptDone = nil
			overall.Stop()
			step.Stop()
			start()
		case <-step.C:
			return code
		case <-overall.C:
			return code
		case <-ctx.Done():
			return ""
		}
	}
}
