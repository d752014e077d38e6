package ivr

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/csm-vn/hotline/ari"
)

// errPromptStuck: a playback did not finish within Config.MaxPrompt.
var errPromptStuck = errors.New("ivr: playback did not finish in time")

// sounds turns prompt names into media URIs, skipping empty names.
func sounds(names ...string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" {
			out = append(out, "sound:"+n)
		}
	}
	return out
}

// player is one playback we started, with its own subscription (made
// before the play request).
type player struct {
	id   string
	key  string // its media, for the length learnt of it
	sub  *ari.Subscription
	done chan struct{} // closed at PlaybackFinished (or when sub closes), or when Asterisk says it is gone
	// created is closed once Asterisk accepted the play request.
	created chan struct{}
	// stopped: we stopped it (a digit, the intro's end); its length is
	// not the prompt's.
	stopped atomic.Bool
}

// startPlay starts media on a channel and returns at once. On the
// caller's channel, a play Asterisk refuses with a 5xx is asked again
// (callerTries, new playback id each time) while the caller is there: a
// prompt lost to a blip would leave them in silence. A play that got no
// answer is not (it may be playing).
func (c *call) startPlay(ctx context.Context, channelID string, media []string) (*player, error) {
	for try := 1; ; try++ {
		p, err := c.playOnce(ctx, channelID, media)
		if err == nil || channelID != c.channelID || try >= callerTries || !errors.Is(err, ari.ErrServer) ||
			ctx.Err() != nil || c.callerLeft() {
			if err == nil && try > 1 {
				c.log.Info("prompt played after retries", "media", media, "tries", try)
			}
			return p, err
		}
		c.log.Warn("could not play prompt; retrying", "media", media, "try", try, "err", err)
		if !sleepCtx(ctx, callerBackoff(try)) {
			return nil, err
		}
	}
}

// playOnce makes one play request.
func (c *call) playOnce(ctx context.Context, channelID string, media []string) (*player, error) {
	p := &player{id: c.newID("pb"), key: strings.Join(media, "&"), done: make(chan struct{}),
		created: make(chan struct{})}
	p.sub = c.s.ari.Subscribe(ari.PlaybackKey(p.id))
	go func() {
		defer close(p.done)
		c.followPlayback(p)
	}()
	if _, err := c.s.ari.PlayChannel(ctx, channelID, ari.PlayParams{PlaybackID: p.id, Media: media}); err != nil {
		p.sub.Close()
		if channelID == c.channelID {
			c.callerGoneErr(err)
		}
		return nil, err
	}
	close(p.created)
	return p, nil
}

// promptSlack is added to twice a prompt's learnt length before Asterisk
// is asked whether it is still playing.
const promptSlack = time.Second

// followPlayback returns when the playback is over: PlaybackFinished, its
// subscription closed, or Asterisk answering 404 to GET /playbacks/{id} —
// asked after each ARI reconnect (the call's resync: the end event may
// have been lost with the WebSocket) and, once the prompt's length is
// known (learnt from an earlier full play of the same media), every
// 2 × length + promptSlack. A wait on a prompt whose end was lost thus
// ends within a reconnect or about its own length, not MaxPrompt.
func (c *call) followPlayback(p *player) {
	events := p.sub.Events()
	created, ctxDone := p.created, c.ctx.Done()
	var resync <-chan struct{}
	var check *time.Timer
	var checkC <-chan time.Time
	var bound time.Duration
	var since time.Time
	defer func() {
		if check != nil {
			check.Stop()
		}
	}()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			// (PlaybackStarted is filtered out (Events): the length is
			// measured from Asterisk's answer to the play request.)
			if e, ok := ev.(*ari.PlaybackFinished); ok {
				if e.Playback.ID == p.id {
					if !since.IsZero() && !p.stopped.Load() && c.ctx.Err() == nil {
						c.s.promptLens.Store(p.key, time.Since(since))
					}
					return
				}
			}
		case <-created:
			created = nil
			since = time.Now()
			resync = c.resyncC()
			if l, ok := c.s.promptLens.Load(p.key); ok {
				bound = 2*l.(time.Duration) + promptSlack
				check = time.NewTimer(bound)
				checkC = check.C
			}
		case <-resync:
			resync = c.resyncC()
			if c.playbackGone(p) {
				c.log.Info("prompt over: its end was lost while the ARI link was down", "playback", p.id)
				return
			}
		case <-checkC:
			if c.playbackGone(p) {
				c.log.Warn("prompt over: its end event never came", "playback", p.id, "after", bound)
				return
			}
			check.Reset(bound)
		case <-ctxDone: // the call is over: its events or stopPlay end this
			ctxDone, resync, checkC = nil, nil, nil
		}
	}
}

// playbackGone asks Asterisk whether a playback is over (404).
func (c *call) playbackGone(p *player) bool {
	ctx, cancel := c.teardownCtx()
	defer cancel()
	_, err := c.s.ari.GetPlayback(ctx, p.id)
	return ari.IsNotFound(err)
}

// wait waits for the playback to finish, ctx's end, or MaxPrompt. After an
// ARI reconnect a lost PlaybackFinished is detected by asking Asterisk.
func (c *call) wait(ctx context.Context, p *player) error {
	bound := newTimer(c.s.cfg.MaxPrompt)
	defer bound.Stop()
	for {
		select {
		case <-p.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-bound.C:
			return errPromptStuck
		case <-c.resyncC():
			if _, err := c.s.ari.GetPlayback(ctx, p.id); ari.IsNotFound(err) {
				return nil
			}
		}
	}
}

// stop stops the playback (if still playing) and releases it.
func (c *call) stopPlay(p *player) {
	if p == nil {
		return
	}
	p.stopped.Store(true)
	select {
	case <-p.done:
	default:
		ctx, cancel := c.teardownCtx()
		_ = c.s.ari.StopPlayback(ctx, p.id)
		cancel()
	}
	p.sub.Close()
}

// playWait plays prompts on a channel and waits for the end.
func (c *call) playWait(ctx context.Context, channelID string, names ...string) error {
	media := sounds(names...)
	if len(media) == 0 {
		return nil
	}
	p, err := c.startPlay(ctx, channelID, media)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("could not play prompt", "media", media, "err", err)
		}
		return err
	}
	defer c.stopPlay(p)
	return c.wait(ctx, p)
}

// resyncC is closed at the next reconciliation after an ARI reconnect.
func (c *call) resyncC() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resync
}

// intro is what the caller hears while the first people are rung: prompts
// (greeting, "connecting"), then ringback or music until stopped. It runs
// in its own goroutine so ringing never waits for prompts.
type intro struct {
	c    *call
	done chan struct{}
	// answered is closed once the caller's answer request has had its
	// reply (at once when the intro does not answer); answerErr is that
	// reply's error, after every retry.
	answered  chan struct{}
	answerErr error

	mu      sync.Mutex
	stopped bool
	cur     *player
	holding bool
}

// startIntro answers (when asked), plays prompts, then holds.
func (c *call) startIntro(ctx context.Context, answer bool, prompts ...string) *intro {
	in := &intro{c: c, done: make(chan struct{}), answered: make(chan struct{})}
	if !answer {
		close(in.answered)
	}
	go func() {
		defer close(in.done)
		if answer {
			err := c.answer(ctx)
			in.answerErr = err
			close(in.answered)
			if err != nil {
				return
			}
		}
		// Before the first prompt: a write of the call's state made during
		// one would wait for its end (persist.go).
		c.awaitFirstSave(ctx)
		for _, name := range prompts {
			media := sounds(name)
			if len(media) == 0 {
				continue
			}
			in.mu.Lock()
			if in.stopped || ctx.Err() != nil {
				in.mu.Unlock()
				return
			}
			p, err := c.startPlay(ctx, c.channelID, media)
			in.cur = p
			in.mu.Unlock()
			if err != nil {
				if ctx.Err() == nil {
					c.log.Warn("could not play prompt", "media", media, "err", err)
				}
				continue
			}
			_ = c.wait(ctx, p)
			in.mu.Lock()
			in.cur = nil
			in.mu.Unlock()
			c.stopPlay(p)
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		if in.stopped || ctx.Err() != nil {
			return
		}
		if err := c.startHold(ctx); err == nil {
			in.holding = true
		}
	}()
	return in
}

// waitAnswered waits for the reply to the caller's answer request and
// reports whether the call goes on: Asterisk's reply is the first word on
// whether the caller is still there (a caller gone before the call's
// events could tell rings nobody). A caller Asterisk would not answer
// after every retry rings nobody either: teardown hands them to the
// dialplan's fallback.
func (in *intro) waitAnswered(ctx context.Context) bool {
	select {
	case <-in.answered:
		return ctx.Err() == nil && in.answerErr == nil
	case <-ctx.Done():
		return false
	}
}

// stop ends the intro: the current prompt is cut, the hold sound stopped.
// It returns when the caller hears nothing of it any more.
func (in *intro) stop() {
	if in == nil {
		return
	}
	in.mu.Lock()
	in.stopped = true
	cur := in.cur
	in.mu.Unlock()
	if cur != nil {
		cur.stopped.Store(true)
		ctx, cancel := in.c.teardownCtx()
		_ = in.c.s.ari.StopPlayback(ctx, cur.id)
		cancel()
	}
	<-in.done
	in.mu.Lock()
	holding := in.holding
	in.holding = false
	in.mu.Unlock()
	if holding && !in.c.callerLeft() {
		in.c.stopHold()
	}
}

// startHold starts ringback or music on hold for the caller.
func (c *call) startHold(ctx context.Context) error {
	var err error
	if c.s.cfg.Hold == HoldMOH {
		err = c.s.ari.StartChannelMOH(ctx, c.channelID, c.s.cfg.MOHClass)
	} else {
		err = c.s.ari.Ring(ctx, c.channelID)
	}
	if err != nil && ctx.Err() == nil {
		c.log.Warn("could not start hold sound", "hold", c.s.cfg.Hold, "err", err)
	}
	return err
}

// stopHold stops ringback or music on hold.
func (c *call) stopHold() {
	ctx, cancel := c.teardownCtx()
	defer cancel()
	var err error
	if c.s.cfg.Hold == HoldMOH {
		err = c.s.ari.StopChannelMOH(ctx, c.channelID)
	} else {
		err = c.s.ari.RingStop(ctx, c.channelID)
	}
	if err != nil && !ari.IsNotFound(err) {
		c.log.Warn("could not stop hold sound", "err", err)
	}
}
