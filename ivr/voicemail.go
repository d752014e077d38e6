package ivr

import (
	"context"
	"time"

	"github.com/csm-vn/hotline/ari"
	"github.com/csm-vn/hotline/store"
)

// voicemail lets the caller leave a message when nobody accepted: a prompt,
// a beep, a recording of at most VoicemailMax that '#' ends, then goodbye.
// The message is stored with the café and the number to call back.
func (c *call) voicemail(ctx context.Context) {
	c.setState(StateIVR)
	c.setTarget(nil)
	c.save()
	if err := c.playWait(ctx, c.channelID, c.s.cfg.Prompts.Voicemail); ctx.Err() != nil {
		return
	} else if err != nil && len(sounds(c.s.cfg.Prompts.Voicemail)) > 0 {
		c.log.Warn("voicemail prompt failed; recording anyway", "err", err)
	}
	// The state saying "voicemail" is written before the recording is
	// asked for: behind it, the write would wait for the whole message.
	c.awaitSaved(ctx)
	c.drainDigits()
	name := "hotline-vm-" + c.id
	sub := c.s.ari.Subscribe(ari.RecordingKey(name))
	defer sub.Close()
	_, err := c.s.ari.RecordChannel(ctx, c.channelID, ari.RecordParams{
		Name: name, Format: c.s.cfg.RecordingFormat, MaxDuration: c.s.cfg.VoicemailMax,
		IfExists: "overwrite", Beep: true, TerminateOn: "#",
	})
	if err != nil {
		if ctx.Err() == nil {
			// Not a silent hang-up: the dialplan's fallback (operators'
			// phones, a voicemail box) takes the caller at teardown.
			c.handBack = "voicemail: " + err.Error()
			c.log.Error("could not record a message; the caller goes to the dialplan's fallback", "err", err)
		}
		return
	}
	started, finished := false, false
	var length time.Duration // as Asterisk measured the file; 0 = not known
	// Our own limit backs Asterisk's maxDurationSeconds up.
	limit := newTimer(c.s.cfg.VoicemailMax + c.s.cfg.RequestTimeout)
	defer limit.Stop()
	ctxDone := ctx.Done()
	var afterHangup <-chan time.Time
wait:
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				break wait
			}
			switch e := ev.(type) {
			case *ari.RecordingStarted:
				started = true
			case *ari.RecordingFinished:
				if e.Recording.Name == name {
					started, finished = true, e.Recording.State != "canceled"
					if d := e.Recording.Duration; d != nil && *d > 0 {
						length = time.Duration(*d) * time.Second
					}
					break wait
				}
			case *ari.RecordingFailed:
				if e.Recording.Name == name {
					c.log.Error("recording failed", "cause", e.Recording.Cause)
					break wait
				}
			}
		case <-limit.C:
			sctx, cancel := c.teardownCtx()
			_ = c.s.ari.StopRecording(sctx, name)
			cancel()
			limit = newTimer(c.s.cfg.RequestTimeout)
		case <-ctxDone:
			// The caller hung up: Asterisk finishes and keeps the recording.
			ctxDone = nil
			afterHangup = time.After(c.s.cfg.RequestTimeout)
		case <-afterHangup:
			break wait
		case <-c.resyncC():
			if _, err := c.s.ari.GetLiveRecording(context.WithoutCancel(ctx), name); ari.IsNotFound(err) {
				started, finished = true, true
				break wait
			}
		}
	}
	if started && finished {
		c.mu.Lock()
		c.rec.Voicemail = &store.Voicemail{Recording: name, CallbackNumber: c.number.E164, Length: length}
		c.mu.Unlock()
		c.log.Info("message recorded", "recording", name, "length", length)
	}
	if ctx.Err() == nil {
		_ = c.playWait(ctx, c.channelID, c.s.cfg.Prompts.Goodbye)
	}
}
